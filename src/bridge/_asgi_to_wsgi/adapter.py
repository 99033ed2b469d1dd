"""Serve an ASGI application from any PEP 3333 (WSGI) server: :class:`AsgiToWsgi`.

The app object is immutable and holds only options. What it needs at run time (a lease on the
process's private loop, the lifespan and the set of running requests) lives in a :class:`Runtime`
created on first use in each process; a process forked after first use gets its own, so each
worker owns its loop and its app state. Each request is a :class:`~bridge._responder.Responder`
on the WSGI thread and an :class:`~bridge._exchange.Exchange` on the loop (see that module for
the threading of one request, and :mod:`bridge._loop` for the loop).
"""

from __future__ import annotations

import concurrent.futures
import logging
import math
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal
from wsgiref.types import StartResponse, WSGIEnvironment

from asgiref.compatibility import guarantee_single_callable
from asgiref.typing import ASGI3Application

from ._errors import LifespanError, ServerError
from ._exchange import Exchange
from ._lifespan import Lifespan, LifespanMode
from ._loop import BACKENDS, REGISTRY, resolve_backend
from ._responder import Responder

__all__ = ["AsgiToWsgi", "Options", "Runtime"]

_logger = logging.getLogger("bridge.asgi")
#: How long ``close()`` waits for cancelled requests to end, after ``shutdown_timeout``.
_CANCEL_WAIT = 5.0


@dataclass(frozen=True, slots=True)
class Options:
    """The validated options of one :class:`AsgiToWsgi` (see its docstring)."""

    lifespan: LifespanMode
    startup_timeout: float
    shutdown_timeout: float
    request_timeout: float | None
    background_timeout: float
    disconnect_grace: float
    send_window: int
    backend: str


class AsgiToWsgi:
    """A PEP 3333 application that runs an ASGI 3 application on a private event loop.

    Creating it starts nothing; the process's loop thread starts on the first request (or
    :meth:`startup`), and :meth:`close` (or leaving a ``with`` block, or interpreter exit) runs
    lifespan shutdown and stops the loop when no other adapter uses it.

    :param app: the ASGI application (ASGI 2 double callables are accepted too).
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
    :param backend: the private loop: ``"auto"`` (uvloop when it is installed, else asyncio),
        ``"asyncio"``, ``"uvloop"`` or ``"trio"``.
    :raises TypeError: an option has the wrong type.
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
    ) -> None:
        if not callable(app):
            raise TypeError(f"app must be an ASGI application (a callable), got {app!r}")
        options = Options(
            lifespan=_choice("lifespan", lifespan, ("auto", "on", "off")),  # type: ignore[arg-type]
            startup_timeout=_seconds("startup_timeout", startup_timeout),
            shutdown_timeout=_seconds("shutdown_timeout", shutdown_timeout),
            request_timeout=None
            if request_timeout is None
            else _seconds("request_timeout", request_timeout),
            background_timeout=_seconds("background_timeout", background_timeout),
            disconnect_grace=_seconds("disconnect_grace", disconnect_grace),
            send_window=_size("send_window", send_window),
            backend=resolve_backend(_choice("backend", backend, ("auto", *BACKENDS))),
        )
        object.__setattr__(self, "_app", guarantee_single_callable(app))  # type: ignore[no-untyped-call]
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
        if runtime is None or not runtime.ready or runtime.pid != os.getpid():
            runtime = self._runtime(raise_failure=False)
        return Responder(runtime, environ).respond(start_response)

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

    def _runtime(self, *, raise_failure: bool) -> Runtime:
        pid = os.getpid()
        with REGISTRY.lock():
            if self._slot.closed_pid == pid:
                raise ServerError("this AsgiToWsgi was closed and cannot serve requests")
            runtime = self._slot.runtime
            if runtime is None or runtime.pid != pid:
                runtime = self._slot.runtime = Runtime(self._app, self._options)
        runtime.start(raise_failure=raise_failure)
        return runtime


class _Slot:
    """The one mutable part of an AsgiToWsgi: its runtime in the current process."""

    __slots__ = ("closed_pid", "runtime")

    def __init__(self) -> None:
        self.runtime: Runtime | None = None
        self.closed_pid: int | None = None


class Runtime:
    """What one AsgiToWsgi owns in one process: a loop lease, its lifespan, running requests."""

    def __init__(self, app: ASGI3Application, options: Options) -> None:
        self.app = app
        self.options = options
        self.pid = os.getpid()
        #: Startup finished and not closed; read without a lock on every request.
        self.ready = False
        self.closed = False
        #: Loop side: set once close() began; new requests are refused.
        self.closing = False
        #: Loop side: the exchanges whose app task is running.
        self.exchanges: set[Exchange] = set()
        self._warned: set[str] = set()
        self._drained: concurrent.futures.Future[None] | None = None
        self._lock = threading.Lock()
        self._lease = REGISTRY.acquire(options.backend, self.close)
        self.loop = self._lease.loop
        self.lifespan = Lifespan(
            app,
            self.loop,
            mode=options.lifespan,
            startup_timeout=options.startup_timeout,
            shutdown_timeout=options.shutdown_timeout,
        )

    def start(self, *, raise_failure: bool) -> None:
        """Run lifespan startup (once; concurrent callers wait for it), then serve requests.

        :raises LifespanError: startup failed and ``raise_failure`` is true.
        """
        try:
            self.lifespan.startup()
        except LifespanError:
            if raise_failure:
                raise
        finally:
            with self._lock:
                self.ready = not self.closed

    def close(self) -> None:
        """Wait for running requests, run lifespan shutdown, release the loop; idempotent."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self.ready = False
        try:
            self._drain()
            self.lifespan.shutdown()
        finally:
            self._lease.release()

    def warn_dropped(self, names: list[str]) -> None:
        """Log one warning per hop-by-hop response header name the app sent (loop side)."""
        for name in names:
            if name not in self._warned:
                self._warned.add(name)
                _logger.warning("dropped the hop-by-hop response header %r (PEP 3333)", name)

    def task_done(self, exchange: Exchange) -> None:
        """Forget a finished request; the last one ends a pending drain (loop side)."""
        self.exchanges.discard(exchange)
        self._check_drained()

    def _drain(self) -> None:
        """Wait up to ``shutdown_timeout`` for running requests, then cancel what is left."""
        drained: concurrent.futures.Future[None] = concurrent.futures.Future()
        try:
            self.loop.call_soon(self._watch_drain, drained)
        except RuntimeError:
            return  # the loop is gone, and every task with it
        try:
            drained.result(self.options.shutdown_timeout)
        except TimeoutError:
            self.loop.call_soon(self._cancel_all)
            try:
                drained.result(_CANCEL_WAIT)
            except TimeoutError:
                _logger.error("requests still running after being cancelled at close()")

    def _watch_drain(self, drained: concurrent.futures.Future[None]) -> None:
        self.closing = True
        self._drained = drained
        self._check_drained()

    def _check_drained(self) -> None:
        if self._drained is not None and not self.exchanges and not self._drained.done():
            self._drained.set_result(None)

    def _cancel_all(self) -> None:
        count = len(self.exchanges)
        _logger.warning("cancelling %d request task(s) still running at close()", count)
        for exchange in list(self.exchanges):
            exchange.cancel()


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed!r}, got {value!r}")
    return value


def _seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive finite number of seconds, got {value!r}")
    return float(value)


def _size(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int (bytes), got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be zero or more bytes, got {value!r}")
    return value
