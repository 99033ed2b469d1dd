"""What one :class:`~bridge.AsgiToWsgi` owns in one process: :class:`Runtime`.

A runtime holds a lease on the process's private loop, the app's lifespan there, and the app
tasks still running, so that ``close()`` can wait for them, then run lifespan shutdown. The
adapter makes one per process on first use (a forked child makes its own).
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
from typing import Protocol

from asgiref.typing import ASGI3Application

from .._errors import LifespanError, ServerError
from .._private_loop import REGISTRY
from .lifespan import Lifespan
from .options import Options

__all__ = ["RunningTask", "Runtime"]

_logger = logging.getLogger("bridge.asgi")
#: How long ``close()`` waits for cancelled requests to end, after ``shutdown_timeout``.
_CANCEL_WAIT = 5.0


class RunningTask(Protocol):
    """A request's app task, as the runtime sees it (:class:`~.app_task.AppTask`)."""

    def cancel(self) -> None:
        """Cancel the task if it still runs (loop thread)."""


class Runtime:
    """What one AsgiToWsgi owns in one process: a loop lease, its lifespan, running requests."""

    def __init__(self, app: ASGI3Application, options: Options, *, inline: bool) -> None:
        self.app = app
        self.options = options
        self.pid = os.getpid()
        #: Startup finished and not closed; read without a lock on every request.
        self.ready = False
        self.closed = False
        #: Loop side: set once close() began; new requests are refused.
        self.closing = False
        #: Loop side: the app tasks still running.
        self.tasks: set[RunningTask] = set()
        #: Loop side: the open WebSockets (also in ``tasks``), told to close when close() begins.
        self.sessions: set[RunningTask] = set()
        self._warned: set[str] = set()
        self._drained: concurrent.futures.Future[None] | None = None
        self._lock = threading.Lock()
        backend = options.inline_backend if inline else options.backend
        self._lease = REGISTRY.acquire(
            backend, self.close, inline=inline, promotable=options.loop_thread != "never"
        )
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
        """Wait for running requests, run lifespan shutdown, release the loop; idempotent.

        Called on the loop itself (a signal handler of a Gunicorn sync worker whose thread runs
        the loop inline), it cannot wait: it refuses new requests and closes the open
        WebSockets, and the process's exit hook does the rest.
        """
        if self.loop.in_loop():
            self.loop.call_soon_waking(self._going_away)  # a signal handler interrupted the loop
            return
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

    def leave_inline(self) -> None:
        """A multi-threaded server calls: move the inline loop into a thread of its own.

        :raises ServerError: ``loop_thread="never"`` forbids it.
        """
        if self.options.loop_thread == "never":
            raise ServerError(
                "loop_thread='never' runs the private loop on the server's thread, but this "
                "server calls the app from many threads (wsgi.multithread): use 'auto' or 'always'"
            )
        self.loop.promote()

    def warn_dropped(self, names: list[str]) -> None:
        """Log one warning per hop-by-hop response header name the app sent (loop side)."""
        for name in names:
            if name not in self._warned:
                self._warned.add(name)
                _logger.warning("dropped the hop-by-hop response header %r (PEP 3333)", name)

    def task_done(self, task: RunningTask) -> None:
        """Forget a finished request; the last one ends a pending drain (loop side)."""
        self.tasks.discard(task)
        self._check_drained()

    def _drain(self) -> None:
        """Wait up to ``shutdown_timeout`` for running requests, then cancel what is left."""
        drained: concurrent.futures.Future[None] = concurrent.futures.Future()
        try:
            self.loop.call_soon(self._watch_drain, drained)
        except RuntimeError:
            return  # the loop is gone, and every task with it
        try:
            self.loop.result(drained, self.options.shutdown_timeout)
        except TimeoutError:
            self.loop.call_soon(self._cancel_all)
            try:
                self.loop.result(drained, _CANCEL_WAIT)
            except TimeoutError:
                _logger.error("requests still running after being cancelled at close()")

    def _watch_drain(self, drained: concurrent.futures.Future[None]) -> None:
        self._going_away()
        self._drained = drained
        self._check_drained()

    def _going_away(self) -> None:
        """Refuse new requests and close the open WebSockets (loop side)."""
        self.closing = True
        for session in list(self.sessions):
            session.cancel()

    def _check_drained(self) -> None:
        if self._drained is not None and not self.tasks and not self._drained.done():
            self._drained.set_result(None)

    def _cancel_all(self) -> None:
        count = len(self.tasks)
        _logger.warning("cancelling %d request task(s) still running at close()", count)
        for task in list(self.tasks):
            task.cancel()
