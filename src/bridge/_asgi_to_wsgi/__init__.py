"""The loop side of one request: the app's task, from ``begin`` to its bookkeeping at the end.

Theory of operation
===================
A request has two halves that share one :class:`Exchange`:

* **the WSGI side** (:mod:`bridge._responder`, the server's thread) builds the scope, schedules
  :meth:`Exchange.begin` on the loop (``call_soon``, wake-up 1) and blocks on ``queue`` until the
  app hands over its response (wake-up 2). It does all blocking I/O: it reads ``wsgi.input``
  when the app asks, calls ``start_response`` and yields the body chunks.
* **the loop side** (this module and :mod:`bridge._channel`, the app's task): ``receive`` and
  ``send`` never block a thread. They post items to ``queue`` and wait on native events that
  the WSGI side sets through ``call_soon`` (``on_body``, ``on_taken``, ``on_timeout``,
  ``on_wsgi_gone``).

Queue items (loop -> WSGI thread), first field the tag:

=============  ====================================  =========================================
tag            fields                                posted when
=============  ====================================  =========================================
``START``      status line, headers                  the app suspended after ``start`` without
                                                     sending a body
``RESPONSE``   status line, headers, body, more      the first ``http.response.body``
``BODY``       body, more_body                       a later ``http.response.body``
``FILE``       (status line, headers) or None, path  ``http.response.pathsend``
``READ``       -                                     ``receive()`` wants the next body chunk
``FAILED``     exception                             the app raised or broke the protocol, or
                                                     the loop stopped first
=============  ====================================  =========================================

A short response costs two thread wake-ups and two loop iterations (one to create the task, one
to run it): the app's coroutine runs under :class:`~bridge._channel.Steps`, which sees each
point where the app suspends, so a pending ``START`` is posted there (or merged with the first
body into one ``RESPONSE``) and the background timer is armed there, without extra callbacks.
The task's own ``finally`` does its bookkeeping, so no done-callback runs after the response.

Request body: the WSGI thread reads ``wsgi.input`` only for a ``READ`` item, which the first
``receive()`` posts. It then reads chunk after chunk, handing each over with ``on_body``, until
``READ_AHEAD`` bytes wait unreceived (it compares what it read with ``consumed``) or the body
ends; ``receive`` posts the next ``READ`` once at most half of that is left. So reading overlaps
the app's work, and a steady upload costs a queue wake-up per half window, not per chunk.

Backpressure: ``send`` returns at once while at most ``send_window`` bytes wait in the queue;
beyond that it waits until the WSGI thread has taken enough for half the window to be free. The
WSGI side adds what it took to ``taken`` and, only if a sender waits (``drain_event`` is set) and
half the window is free, wakes it with ``on_taken``. Each side writes its field before reading
the other's, so no wake-up is lost.

Response end and disconnect: the response ends with ``more_body: False`` (or pathsend); the task
may go on (background work) for ``background_timeout`` seconds. If the server closes the iterable
before that, or the app misses ``request_timeout``, ``on_wsgi_gone`` makes ``receive`` return
``http.disconnect`` and ``send`` raise :class:`ClientDisconnected` (an ``OSError``, ASGI 2.4), and
the task is cancelled after ``disconnect_grace`` seconds (at once on a timeout).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._channel import FAILED, Channel, Steps
from ._errors import ApplicationError, ServerError

if TYPE_CHECKING:
    from ._asgi_to_wsgi import Runtime

__all__ = ["Exchange"]

_logger = logging.getLogger("bridge.asgi")


class Exchange(Channel):
    """One request's app task and the callbacks its WSGI side schedules (see the module doc)."""

    __slots__ = ("_began", "_cancel", "_finished", "_timer")

    def __init__(self, runtime: Runtime, scope: Any, *, eof: bool) -> None:
        super().__init__(runtime, scope, eof=eof)
        self._cancel: Callable[[], None] | None = None
        self._timer: Callable[[], None] | None = None
        self._began = self._finished = False

    # --- the task ------------------------------------------------------------------------------

    def begin(self) -> None:
        """Start the app's task, or refuse the request if the adapter is closing (loop thread)."""
        if self._runtime.closing:
            self._post_failure(ServerError("the AsgiToWsgi adapter is closing"))
            return
        self._runtime.exchanges.add(self)
        self._cancel = self._loop.start_task(self._run)

    async def _run(self) -> None:
        self._began = True
        if self._finished:
            return  # cancelled before it started (trio runs it anyway)
        try:
            await Steps(self._runtime.app(self._scope, self.receive, self.send), self._suspended)
        except Exception as exc:
            self._app_failed(exc)
        else:
            if not (self._complete or self._disconnected):
                started = self._started or self._start is not None
                sent = "without completing" if started else "without starting"
                self._app_failed(ApplicationError(f"the ASGI app returned {sent} the response"))
        finally:
            self._finish()

    def _suspended(self) -> None:
        """The app awaits something: post a pending start, or time its background work."""
        if self._start is not None:
            self._flush_start()
        elif self._terminal and self._timer is None:
            timeout = self._options.background_timeout
            self._timer = self._loop.call_later(timeout, self._background_timed_out)

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if not (self._terminal or self._disconnected):
            self._post_failure(ServerError("the ASGI app was cancelled: the adapter closed"))
        self._stop_timer()
        self._runtime.task_done(self)

    def _app_failed(self, exc: Exception) -> None:
        if not (self._terminal or self._disconnected):
            self._post_failure(exc)
        elif not isinstance(exc, OSError):
            after = "after its response ended" if self._terminal else "after the client left"
            _logger.error("the ASGI app raised %s", after, exc_info=exc)

    def _post_failure(self, exc: Exception) -> None:
        self._terminal = self._complete = True
        self._start = None
        self.queue.put((FAILED, exc))

    def cancel(self) -> None:
        """Cancel the app's task if it still runs (loop thread)."""
        if self._cancel is not None and not self._finished:
            self._cancel()
            if not self._began:
                self._finish()  # asyncio never runs a task cancelled before its first step

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer()
            self._timer = None

    def _background_timed_out(self) -> None:
        timeout = self._options.background_timeout
        _logger.warning("cancelled background work still running %s seconds after", timeout)
        self.cancel()

    # --- callbacks from the WSGI thread (through call_soon) -----------------------------------

    def on_body(self, data: bytes, more: bool, last: bool) -> None:
        """The WSGI side read a request body chunk; ``last``: the last one of this ``READ``."""
        if last:
            self._reading = False
        if data:
            self._chunks.append(data)
            self._buffered += len(data)
        self._eof = not more
        if self._data_event is not None:
            self._data_event.set()

    def on_taken(self) -> None:
        """The WSGI side took body bytes; wake the sender once half the window is free."""
        event = self.drain_event
        if event is not None and self.sent - self.taken <= self._options.send_window // 2:
            event.set()

    def on_timeout(self) -> None:
        """The app missed ``request_timeout``: disconnect it and cancel its task at once."""
        self.on_wsgi_gone()
        self.cancel()

    def on_wsgi_gone(self) -> None:
        """The server closed the response early, or the WSGI side failed: disconnect the app."""
        if self._disconnected or (self._terminal and not self._finished):
            return  # already gone, or a complete response whose task does background work
        self._disconnected = True
        self._wake_all()
        if not self._finished:
            self._stop_timer()
            self._timer = self._loop.call_later(self._options.disconnect_grace, self.cancel)
