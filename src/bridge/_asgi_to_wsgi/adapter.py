"""Serve an ASGI application from any PEP 3333 (WSGI) server: the app object :class:`AsgiToWsgi`.

The app object is immutable and holds only options. What it needs at run time (a lease on the
process's private loop, the lifespan and the set of running requests) lives in a
:class:`~.runtime.Runtime` created on first use in each process; a process forked after first
use gets its own, so each worker owns its loop and its app state. Each request is a
:class:`~.server_call.ServerCall` on the WSGI thread and an :class:`~.app_task.AppTask` on the
loop (see the package docstring for the theory of operation).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from types import TracebackType
from typing import Literal
from wsgiref.types import StartResponse, WSGIEnvironment

from asgiref.typing import ASGI3Application

from .._errors import ServerError
from .._interfaces import asgi_app_of
from .._private_loop import BACKENDS, REGISTRY, resolve_backend
from .._translate.websocket import is_websocket_request
from .._websocket import Refusals
from .lifespan import LifespanMode
from .options import LoopThreadMode, Options, check_choice, check_seconds, check_size
from .runtime import Runtime
from .server_call import ServerCall
from .websocket_server_call import WebSocketServerCall

__all__ = ["AsgiToWsgi"]

_logger = logging.getLogger("bridge.asgi")


class AsgiToWsgi:
    """A PEP 3333 application that runs an ASGI 3 application on a private event loop.

    Creating it starts nothing; the process's loop thread starts on the first request (or
    :meth:`startup`), and :meth:`close` (or leaving a ``with`` block, or interpreter exit) runs
    lifespan shutdown and stops the loop when no other adapter uses it.

    :param app: the ASGI application (ASGI 2 double callables are accepted too;
        :class:`~bridge.AsgiApp` around it skips the check that it is not a WSGI app).
    :param lifespan: ``"auto"`` runs lifespan if the app speaks it; ``"on"`` requires it;
        ``"off"`` never sends a lifespan scope.
    :param startup_timeout: seconds lifespan startup may take.
    :param shutdown_timeout: seconds :meth:`close` waits for running requests, and then again
        for lifespan shutdown.
    :param request_timeout: seconds the app may take to complete a response (504 and the task
        cancelled); ``None`` for no limit.
    :param background_timeout: seconds the app's task may keep running after the response ended
        (Starlette ``BackgroundTasks``) before it is cancelled.
    :param disconnect_grace: seconds the app's task may keep running after the client left.
    :param send_window: bytes the app may send ahead of the WSGI server before ``send()`` waits.
    :param backend: the private loop: ``"auto"`` (uvloop when it is installed, else asyncio;
        asyncio when the loop runs on the server's thread), ``"asyncio"``, ``"uvloop"`` or
        ``"trio"``.
    :param loop_thread: where the private loop runs. ``"never"``: on the server's thread,
        while it serves a request (no thread hand-off; background tasks and timers advance only
        while some request runs); ``"always"``: in a loop thread of its own; ``"auto"``: on
        the server's thread when the server calls the app from one thread
        (``wsgi.multithread`` is false: Gunicorn sync workers, uWSGI without threads), else in
        a loop thread.
    :raises TypeError: ``app`` is not callable or is a WSGI app (the message names the adapter
        to use), or an option has the wrong type.
    :raises ValueError: an option is out of range, or the backend's package is not installed.
    """

    __slots__ = ("_app", "_options", "_slot")

    _app: ASGI3Application
    _options: Options
    _slot: _Slot

    def __init__(
        self,
        app: object,
        /,
        *,
        lifespan: LifespanMode = "auto",
        startup_timeout: float = 60.0,
        shutdown_timeout: float = 10.0,
        request_timeout: float | None = None,
        background_timeout: float = 60.0,
        disconnect_grace: float = 5.0,
        send_window: int = 512 * 1024,
        backend: Literal["auto", "asyncio", "uvloop", "trio"] = "auto",
        loop_thread: LoopThreadMode = "auto",
    ) -> None:
        asgi_app = asgi_app_of(app)
        chosen = check_choice("backend", backend, ("auto", *BACKENDS))
        where = check_choice("loop_thread", loop_thread, ("auto", "always", "never"))
        if where == "never" and chosen == "trio":
            raise ValueError("loop_thread='never' needs an asyncio backend; trio runs in a thread")
        options = Options(
            lifespan=check_choice("lifespan", lifespan, ("auto", "on", "off")),  # type: ignore[arg-type]
            startup_timeout=check_seconds("startup_timeout", startup_timeout),
            shutdown_timeout=check_seconds("shutdown_timeout", shutdown_timeout),
            request_timeout=None
            if request_timeout is None
            else check_seconds("request_timeout", request_timeout),
            background_timeout=check_seconds("background_timeout", background_timeout),
            disconnect_grace=check_seconds("disconnect_grace", disconnect_grace),
            send_window=check_size("send_window", send_window),
            backend=resolve_backend(chosen),
            inline_backend="asyncio" if chosen == "auto" else resolve_backend(chosen),
            loop_thread=where,  # type: ignore[arg-type]
        )
        object.__setattr__(self, "_app", asgi_app)
        object.__setattr__(self, "_options", options)
        object.__setattr__(self, "_slot", _Slot())

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"AsgiToWsgi is immutable; cannot set {name!r}")

    @property
    def app(self) -> ASGI3Application:
        """The wrapped ASGI application."""
        return self._app

    @property
    def options(self) -> Options:
        """The validated options."""
        return self._options

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request (PEP 3333).

        :raises ServerError: the adapter was closed in this process.
        """
        runtime = self._slot.runtime
        if (
            runtime is None
            or not runtime.ready
            or runtime.pid != os.getpid()
            or (runtime.loop.inline and environ.get("wsgi.multithread", True))
        ):
            runtime = self._runtime(raise_failure=False, environ=environ)
        if "HTTP_UPGRADE" in environ and is_websocket_request(environ):
            websocket = WebSocketServerCall(runtime, environ, self._slot.refusals)
            return websocket.respond(start_response)
        return ServerCall(runtime, environ).respond(start_response)

    def startup(self) -> None:
        """Start the loop and run lifespan startup now instead of at the first request.

        :raises LifespanError: startup failed (in ``lifespan="on"`` mode also: not supported).
        :raises ServerError: the adapter was closed in this process.
        """
        self._runtime(raise_failure=True)

    def close(self) -> None:
        """Wait for running requests, run lifespan shutdown, release the loop; idempotent."""
        with REGISTRY.lock():
            self._slot.closed_pid = os.getpid()
            runtime = self._slot.runtime
        if runtime is not None and runtime.pid == os.getpid():
            runtime.close()

    def __enter__(self) -> AsgiToWsgi:
        """Return the adapter itself; nothing starts until the first request."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Call :meth:`close`."""
        self.close()

    def _runtime(self, *, raise_failure: bool, environ: WSGIEnvironment | None = None) -> Runtime:
        """This process's runtime, made and started on first use.

        The first use decides where the loop runs (``loop_thread``): a request tells whether
        the server calls from many threads; :meth:`startup` runs it inline when it may, and a
        later request from a multi-threaded server moves the loop into a thread of its own.
        """
        pid = os.getpid()
        multithread = None if environ is None else bool(environ.get("wsgi.multithread", True))
        with REGISTRY.lock():
            if self._slot.closed_pid == pid:
                raise ServerError("this AsgiToWsgi was closed and cannot serve requests")
            runtime = self._slot.runtime
            if runtime is None or runtime.pid != pid:
                inline = self._options.runs_inline(multithread)
                runtime = self._slot.runtime = Runtime(self._app, self._options, inline=inline)
            elif multithread and runtime.loop.inline:
                runtime.leave_inline()
        runtime.start(raise_failure=raise_failure)
        return runtime


class _Slot:
    """The one mutable part of an AsgiToWsgi: its runtime in the current process."""

    __slots__ = ("closed_pid", "refusals", "runtime")

    def __init__(self) -> None:
        self.runtime: Runtime | None = None
        self.closed_pid: int | None = None
        #: Refused WebSockets: the first is logged as a WARNING.
        self.refusals = Refusals(_logger)
