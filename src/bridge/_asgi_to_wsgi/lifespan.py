"""Drive an ASGI app's lifespan protocol on the private loop: startup once per process, shutdown
at close.

The app's lifespan coroutine runs as one long task on the loop. WSGI threads never await: they
schedule work with ``call_soon`` and wait on :class:`concurrent.futures.Future` objects that only
the loop thread resolves, each wait bounded by a timeout.

Modes (``lifespan=``):

``"auto"`` (default)
    Run startup; an app that raises before it answered ``lifespan.startup``, returns without
    answering, or does not answer within ``startup_timeout`` is served without lifespan, and one
    INFO (WARNING for a timeout) line says why. The ASGI lifespan spec: "If an exception is
    raised when calling the application callable with a ``lifespan.startup`` message or a
    ``scope`` with type ``lifespan``, the server must continue but not send any lifespan
    events." A naive app that treats every scope as ``http`` is one: the message it sends on
    the lifespan scope is refused with an exception, as Uvicorn does.
``"on"``
    As ``"auto"``, but each of those is a startup failure (:class:`LifespanError`).
``"off"``
    Never send the app a lifespan scope.

A ``lifespan.startup.failed`` answer is a failure in both modes (Starlette and FastAPI send it
when their startup raises): :meth:`Lifespan.startup` raises, and the adapter answers every
request with 500. While startup takes long, a WARNING says so after :data:`SLOW_STARTUP`
seconds, naming the app and ``lifespan="off"``: the first requests wait for it. The ``state``
dict the app fills during startup is shallow-copied into each request's ``scope["state"]`` by
the adapter.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any, Literal

from asgiref.typing import (
    ASGI3Application,
    ASGIReceiveEvent,
    ASGISendEvent,
    LifespanScope,
)

from .._errors import ApplicationError, LifespanError
from .._private_loop import Event, LoopThread

__all__ = ["Lifespan", "LifespanMode"]

LifespanMode = Literal["auto", "on", "off"]

_logger = logging.getLogger("bridge.asgi")
_Outcome = tuple[str, object]

#: Seconds of waiting for ``lifespan.startup`` after which a WARNING says that requests wait.
SLOW_STARTUP = 5.0


class Lifespan:
    """One app's lifespan in one process: started at most once, shut down at most once."""

    def __init__(
        self,
        app: ASGI3Application,
        loop: LoopThread,
        *,
        mode: LifespanMode,
        startup_timeout: float,
        shutdown_timeout: float,
    ) -> None:
        self.state: dict[str, Any] = {}
        #: Why startup failed, or ``None``; requests are answered with 500 while it is set.
        self.failure: LifespanError | None = None
        #: Whether the app completed startup (so it speaks lifespan and has ``state``).
        self.supported = False
        self._app = app
        self._loop = loop
        self._mode = mode
        self._startup_timeout = startup_timeout
        self._shutdown_timeout = shutdown_timeout
        self._lock = threading.Lock()
        self._started = False
        self._spawned = False
        self._asked_startup = False
        self._startup: concurrent.futures.Future[_Outcome] = concurrent.futures.Future()
        self._shutdown: concurrent.futures.Future[_Outcome] = concurrent.futures.Future()
        self._finished: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._shutdown_requested: Event = loop.new_event()  # used on the loop only
        self._cancel: Callable[[], None] = _nothing

    # --- WSGI-thread side ------------------------------------------------------------------

    def startup(self) -> None:
        """Run the app's startup once; later and concurrent callers wait for the first.

        :raises LifespanError: startup failed (in ``"on"`` mode also: unsupported or timed out).
        """
        if not self._started:
            with self._lock:
                if not self._started:
                    try:
                        self._run_startup()
                    finally:
                        self._started = True
        if self.failure is not None:
            raise self.failure

    def shutdown(self) -> None:
        """Send ``lifespan.shutdown`` and wait up to ``shutdown_timeout``; log any failure.

        Idempotent; ends the lifespan task whatever happens.
        """
        with self._lock:
            if not self._spawned:
                return
            self._spawned = False
            try:
                if self.supported:
                    self._loop.call_soon(self._request_shutdown)
                    kind, detail = self._loop.result(self._shutdown, self._shutdown_timeout)
                    if kind == "failed":
                        _logger.error("lifespan shutdown failed: %r", detail)
            except TimeoutError:
                _logger.error(
                    "lifespan shutdown did not complete within %s seconds", self._shutdown_timeout
                )
            except RuntimeError:
                return  # the loop is gone, and the lifespan task with it
            finally:
                self._stop_task()

    def _run_startup(self) -> None:
        if self._mode == "off":
            return
        self._loop.call_soon(self._spawn)
        self._spawned = True
        try:
            kind, detail = self._wait_for_startup()
        except TimeoutError:
            self._stop_task()
            kind = "timeout"
            detail = f"lifespan startup did not complete within {self._startup_timeout} seconds"
        if kind == "complete":
            self.supported = True
        elif kind == "failed":
            self._fail(LifespanError(f"lifespan startup failed: {detail!r}"))
        else:
            self._unsupported(kind, detail)

    def _wait_for_startup(self) -> _Outcome:
        """Wait for the app's answer, saying so in a WARNING if it takes long.

        :raises TimeoutError: no answer within ``startup_timeout``.
        """
        slow = min(SLOW_STARTUP, self._startup_timeout)
        try:
            return self._loop.result(self._startup, slow)
        except TimeoutError:
            if slow == self._startup_timeout:
                raise
        _logger.warning(
            "the ASGI app %r has not answered lifespan.startup for %s seconds; requests wait "
            "for it up to startup_timeout=%s seconds. If the app does not speak lifespan, "
            "create the adapter with lifespan='off'",
            self._app,
            slow,
            self._startup_timeout,
        )
        return self._loop.result(self._startup, self._startup_timeout - slow)

    def _unsupported(self, kind: str, detail: object) -> None:
        """Handle an app that does not speak lifespan: fine in ``"auto"``, a failure in ``"on"``."""
        reason = {
            "raised": f"the app raised {detail!r} on the lifespan scope",
            "returned": "the app returned without answering lifespan.startup",
        }.get(kind, str(detail))
        if self._mode == "on":
            self._fail(LifespanError(reason), detail if kind == "raised" else None)
        else:
            level = logging.WARNING if kind == "timeout" else logging.INFO
            _logger.log(level, "%s; serving requests without lifespan (lifespan='auto')", reason)

    def _fail(self, error: LifespanError, cause: object = None) -> None:
        if isinstance(cause, BaseException):
            error.__cause__ = cause
        self.failure = error
        _logger.error("%s", error, exc_info=cause if isinstance(cause, BaseException) else None)

    def _stop_task(self) -> None:
        """Cancel the lifespan task if it still runs, and wait (bounded) until it has ended."""
        try:
            self._loop.call_soon(self._cancel_task)
            self._loop.result(self._finished, self._shutdown_timeout)
        except (RuntimeError, TimeoutError):
            _logger.error("the lifespan task did not end after being cancelled")

    # --- loop side -------------------------------------------------------------------------

    def _spawn(self) -> None:
        self._cancel = self._loop.spawn(self._main, self._on_done)

    def _cancel_task(self) -> None:
        self._cancel()

    def _request_shutdown(self) -> None:
        self._shutdown_requested.set()

    async def _main(self) -> None:
        scope: LifespanScope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        try:
            await self._app(scope, self._receive, self._send)
        except Exception as exc:
            if self._startup.done():
                _logger.error("the lifespan task raised %r", exc, exc_info=exc)
            _resolve(self._startup, ("raised", exc))

    def _on_done(self) -> None:
        _resolve(self._startup, ("returned", None))
        _resolve(self._shutdown, ("returned", None))
        self._finished.set_result(None)

    async def _receive(self) -> ASGIReceiveEvent:
        if not self._asked_startup:
            self._asked_startup = True
            return {"type": "lifespan.startup"}
        await self._shutdown_requested.wait()
        return {"type": "lifespan.shutdown"}

    async def _send(self, message: ASGISendEvent) -> None:
        kind = message.get("type")
        if not (isinstance(kind, str) and kind.startswith("lifespan.")):
            raise ApplicationError(f"unexpected message type {kind!r} on the lifespan scope")
        if kind == "lifespan.startup.complete" and not self._startup.done():
            self._startup.set_result(("complete", None))
        elif kind == "lifespan.startup.failed" and not self._startup.done():
            self._startup.set_result(("failed", message.get("message", "")))
        elif kind == "lifespan.shutdown.complete" and not self._shutdown.done():
            self._shutdown.set_result(("complete", None))
        elif kind == "lifespan.shutdown.failed" and not self._shutdown.done():
            self._shutdown.set_result(("failed", message.get("message", "")))
        else:
            raise ApplicationError(f"unexpected lifespan message {kind!r} at this point")


def _nothing() -> None:
    """The cancel function of a task that was never spawned."""


def _resolve(future: concurrent.futures.Future[_Outcome], outcome: _Outcome) -> None:
    if not future.done():
        future.set_result(outcome)
