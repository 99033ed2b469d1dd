"""Serve a PEP 3333 (WSGI) application to ASGI servers: the app object :class:`WsgiToAsgi`.

:class:`WsgiToAsgi` holds the options and the runner, and dispatches each ASGI connection by
scope type: ``http`` to a short-lived :class:`~.server_task.ServerTask` (which runs an
:class:`~.app_call.AppCall` through the runner), ``websocket`` to a
:class:`~.websocket_server_task.WebSocketServerTask`, ``lifespan`` to a small answer here. See
the package docstring (:mod:`bridge._wsgi_to_asgi`) for the theory of operation.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from .._errors import ServerError
from .._interfaces import WsgiApp, wsgi_app_of
from .._runners import Runner, ThreadRunner
from .._websocket import Refusals
from .server_task import ServerTask, Settings
from .websocket_server_task import WebSocketServerTask

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

    from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, Scope

__all__ = ["WsgiToAsgi"]

_logger = logging.getLogger("bridge.wsgi")


def _make_runner(runner: str, max_threads: int) -> Runner:
    """The runner the ``runner`` option names; the greenlet runner's module loads only here."""
    if runner == "thread":
        return ThreadRunner(max_threads=max_threads)
    from .._runners.greenlets import GreenletRunner  # imports greenlet

    return GreenletRunner()


def _check_int(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")


class WsgiToAsgi:
    """An ASGI 3 application that serves a PEP 3333 (WSGI) application, such as Flask or Django.

    Serve it with any ASGI server (``uvicorn myproject.asgi:app``). Each request runs the WSGI
    app in a worker thread (or a greenlet, see ``runner``); responses stream with bounded
    memory, and the app's exceptions reach the server's log after a 500 answer. Creating it
    starts nothing: the threads start with the first request.

    :param app: the WSGI application (:class:`~bridge.WsgiApp` around it skips the check that
        it is not an ASGI app).
    :param max_threads: how many requests may run the app at once in this process (thread
        runner); the threads start with the first request, not here.
    :param send_window: how many response bytes may wait unsent before the app's thread pauses.
    :param max_request_body_size: the largest request body accepted (413 above it), or ``None``.
    :param duplicate_header_limit: how often one request header may repeat (400 above it).
    :param shutdown_timeout: seconds the server's lifespan shutdown waits for the app calls
        still running (thread runner). Calls still blocked then (a slow query, a ``sleep``) go
        on in their threads, each logged, and the server is told shutdown is complete: its
        graceful-shutdown deadline, and the orchestrator's kill deadline after it, are kept.
    :param multiprocess: the app's ``wsgi.multiprocess``: whether another process may run the
        same app at the same time. bridge cannot know how many workers the server runs, so it
        says ``True`` unless you know better (one ``uvicorn`` process without ``--workers``).
    :param runner: ``"thread"`` runs the app in worker threads; ``"greenlet"`` runs it in a
        greenlet on the event-loop thread, where every blocking call blocks the whole loop.
    :raises TypeError: ``app`` is not callable or is an ASGI app (the message names the adapter
        to use), or an option has the wrong type.
    :raises ValueError: an option is out of range.
    """

    def __init__(
        self,
        app: WSGIApplication | WsgiApp,
        /,
        *,
        max_threads: int = 40,
        send_window: int = 512 * 1024,
        max_request_body_size: int | None = None,
        duplicate_header_limit: int = 100,
        shutdown_timeout: float = 5.0,
        multiprocess: bool = True,
        runner: Literal["thread", "greenlet"] = "thread",
    ) -> None:
        app = wsgi_app_of(app)
        _check_int("max_threads", max_threads, minimum=1)
        _check_int("send_window", send_window, minimum=1)
        if max_request_body_size is not None:
            _check_int("max_request_body_size", max_request_body_size, minimum=0)
        _check_int("duplicate_header_limit", duplicate_header_limit, minimum=1)
        if isinstance(shutdown_timeout, bool) or not isinstance(shutdown_timeout, int | float):
            kind = type(shutdown_timeout).__name__
            raise TypeError(f"shutdown_timeout must be a number of seconds, got {kind}")
        if not (shutdown_timeout >= 0 and math.isfinite(shutdown_timeout)):
            raise ValueError(f"shutdown_timeout must be >= 0 seconds, got {shutdown_timeout!r}")
        self._shutdown_timeout = float(shutdown_timeout)
        if not isinstance(multiprocess, bool):
            raise TypeError(f"multiprocess must be a bool, got {type(multiprocess).__name__}")
        if not isinstance(runner, str):
            raise TypeError(f"runner must be a str, got {type(runner).__name__}")
        if runner not in ("thread", "greenlet"):
            raise ValueError(f"runner must be 'thread' or 'greenlet', got {runner!r}")
        self._app = app
        # The one mutable part: hop-by-hop names already logged (once each per instance). It
        # only grows, under a lock, and changes nothing but logging.
        self._warned: set[str] = set()
        self._warned_lock = threading.Lock()
        self._runner = _make_runner(runner, max_threads)
        self._refusals = Refusals(_logger)  # refused WebSockets: the first is a WARNING
        self._settings = Settings(
            app=app,
            runner=self._runner,
            send_window=send_window,
            max_request_body_size=max_request_body_size,
            duplicate_header_limit=duplicate_header_limit,
            multiprocess=multiprocess,
            warn_dropped=self._warn_dropped,
        )

    @property
    def app(self) -> WSGIApplication:
        """The wrapped WSGI application."""
        return self._app

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        """Serve one ASGI connection: ``http`` and ``websocket`` run the app, ``lifespan`` is
        answered, anything else is refused.

        :raises ServerError: the scope type is not ``http``, ``websocket`` or ``lifespan``.
        :raises Exception: the app's own exception, after answering 500 when nothing was sent.
        """
        if scope["type"] == "http":
            await ServerTask(self._settings, scope, receive, send).respond()
        elif scope["type"] == "lifespan":
            await _answer_lifespan(receive, send, self._runner, self._shutdown_timeout)
        elif scope["type"] == "websocket":
            settings = self._settings
            await WebSocketServerTask(
                settings.app,
                settings.runner,
                settings.duplicate_header_limit,
                self._refusals,
                scope,
                receive,
                send,
            ).serve()
        else:
            kind = scope["type"]
            raise ServerError(f"expected an 'http', 'websocket' or 'lifespan' scope, got {kind!r}")

    def _warn_dropped(self, names: Iterable[str]) -> None:
        """Log one warning per hop-by-hop header name this instance has dropped."""
        for name in names:
            with self._warned_lock:
                if name in self._warned:
                    continue
                self._warned.add(name)
            _logger.warning(
                "dropped the hop-by-hop response header %r: PEP 3333 forbids applications "
                "to set it (logged once)",
                name,
            )


async def _answer_lifespan(
    receive: ASGIReceiveCallable, send: ASGISendCallable, runner: Runner, grace: float
) -> None:
    """Report startup complete, and shutdown complete once the app calls finished, or after
    ``grace`` seconds.

    A WSGI app has no lifespan of its own, but its calls still running at shutdown should end
    (and close their iterables) before the server exits: Uvicorn cancels the request tasks when
    its graceful-shutdown timeout runs out, then exits as soon as lifespan shutdown completes.
    A call blocked past ``grace`` is logged and left to its thread, a daemon.
    """
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            for label in await runner.aclose(grace=grace):
                _logger.warning(
                    "a WSGI call is still running %s s into lifespan shutdown: %s; the "
                    "server goes on with its shutdown (shutdown_timeout)",
                    grace,
                    label or "(no label)",
                )
            await send({"type": "lifespan.shutdown.complete"})
            return
