"""One request's hand-off between the WSGI thread and the app's task: :class:`Handoff`.

The app's task (:mod:`.app_task`, on the loop) puts typed items in a queue; the WSGI thread
(:mod:`.server_call`, :mod:`.response_body`) takes them, blocking only there. The hand-off also
keeps the byte counts both directions are bounded by: response bytes sent by the app and taken
by the WSGI side (``send_window``), and request bytes the app has received (``READ_AHEAD``).

Items (loop -> WSGI thread):

================  ===================================  =========================================
item              fields                               put when
================  ===================================  =========================================
:class:`Start`    status line, headers, body, more     the app suspended after
                                                       ``http.response.start`` (body ``b""``), or
                                                       sent its first ``http.response.body``
:class:`Chunk`    body, more                           a later ``http.response.body``
:class:`PathSend` start (or ``None``), open file       ``http.response.pathsend`` (opened
                                                       before ``send()`` returns)
:class:`Hint`     headers                              ``http.response.early_hint``, before the
                                                       start (the server's ``wsgi.early_hints``)
:data:`READ`      -                                    ``receive()`` wants the next body chunk
:class:`Failed`   error                                the app raised or broke the protocol, or
                                                       the loop stopped first
================  ===================================  =========================================

Backpressure: ``send`` returns at once while at most ``send_window`` bytes wait in the queue;
beyond that it waits (:meth:`Handoff.wait_for_room`) until the WSGI side has taken enough for half
the window to be free. :meth:`Handoff.take` adds what the WSGI side took and, only if a sender
waits and half the window is free, wakes it through the loop. Each side writes its count before
reading the other's, so no wake-up is lost.
"""

from __future__ import annotations

import contextlib
import queue
from typing import IO, TYPE_CHECKING, Final

from .._errors import ServerError

if TYPE_CHECKING:
    from .._private_loop import Event, ItemQueue, LoopThread
    from .._types import WsgiHeaders

__all__ = [
    "READ", "READ_AHEAD", "Chunk", "Failed", "Handoff", "Hint", "Item", "PathSend", "ReadBody",
    "Start",
]  # fmt: skip

#: Request body bytes the WSGI thread reads ahead of the app's ``receive()`` calls.
READ_AHEAD = 256 * 1024


class Start:
    """The response starts: status line and headers, with the first body bytes if any."""

    __slots__ = ("body", "headers", "more", "status")

    def __init__(self, status: str, headers: WsgiHeaders, body: bytes, more: bool) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.more = more


class Chunk:
    """More response body; ``more`` is false on the last one."""

    __slots__ = ("body", "more")

    def __init__(self, body: bytes, more: bool) -> None:
        self.body = body
        self.more = more


class PathSend:
    """The rest of the response is ``file`` (``start`` if not handed over yet).

    The file is opened by the app's ``send()``, before it returns: an app may delete the file
    right after (a FastAPI background task), and an open file outlives its name.
    """

    __slots__ = ("file", "start")

    def __init__(self, start: Start | None, file: IO[bytes]) -> None:
        self.start = start
        self.file = file


class Hint:
    """A 103 Early Hints response to send before the final one, through ``wsgi.early_hints``."""

    __slots__ = ("headers",)

    def __init__(self, headers: WsgiHeaders) -> None:
        self.headers = headers


class ReadBody:
    """The app waits for request body bytes: read ``wsgi.input`` ahead (see :data:`READ`)."""

    __slots__ = ()


#: The one :class:`ReadBody` item.
READ: Final = ReadBody()


class Failed:
    """The request failed before its response ended: ``error`` is answered or raised."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


Item = Start | Chunk | PathSend | Hint | ReadBody | Failed


class Handoff:
    """One request's item queue and byte counts, shared by its two halves (see the module doc).

    :param loop: the private loop the app's task runs on.
    :param send_window: response bytes the app may send ahead of the WSGI side.
    """

    __slots__ = ("_loop", "_queue", "_window", "consumed", "drain_event", "sent", "taken")

    def __init__(self, loop: LoopThread, *, send_window: int) -> None:
        self._loop = loop
        self._window = send_window
        self._queue: ItemQueue[Item] = loop.new_queue()
        #: Response body bytes the app has sent; written by the loop side only.
        self.sent = 0
        #: Response body bytes the WSGI side has taken; written by the WSGI side only.
        self.taken = 0
        #: Request body bytes the app has received; written by the loop side only.
        self.consumed = 0
        #: Set while a sender waits for room; written by the loop side only.
        self.drain_event: Event | None = None

    # --- loop side -------------------------------------------------------------------------

    def put(self, item: Item) -> None:
        """Hand ``item`` to the WSGI side (any thread: the loop, or a waiter told it stopped)."""
        self._queue.put(item)

    def count_sent(self, size: int) -> bool:
        """Count ``size`` response bytes sent; say whether the sender must wait for room."""
        self.sent += size
        return self.sent - self.taken > self._window

    async def wait_for_room(self) -> None:
        """Wait until half the window is free, or :meth:`wake_sender` (a disconnect)."""
        self.drain_event = event = self._loop.new_event()
        try:
            if self.sent - self.taken > self._window:
                await event.wait()
        finally:
            self.drain_event = None

    def close_unclaimed(self) -> None:
        """Close the files of items the WSGI side will never take (it has stopped reading)."""
        while (item := self.get_nowait()) is not None:
            if type(item) is PathSend:
                item.file.close()

    def wake_sender(self) -> None:
        """Let a waiting sender go on (it rechecks why it woke)."""
        if self.drain_event is not None:
            self.drain_event.set()

    def _room_made(self) -> None:
        """Scheduled by :meth:`take`: wake the sender once half the window is free."""
        if self.drain_event is not None and self.sent - self.taken <= self._window // 2:
            self.drain_event.set()

    # --- WSGI side -------------------------------------------------------------------------

    def get(self, timeout: float | None = None) -> Item:
        """Wait for the next item, at most ``timeout`` seconds when given.

        :raises queue.Empty: the timeout passed.
        """
        return self._queue.get(timeout=timeout)

    def get_nowait(self) -> Item | None:
        """Return the next item if one is queued right now, else ``None``."""
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def take(self, size: int) -> None:
        """Count ``size`` response bytes taken by the WSGI side; wake a waiting sender."""
        self.taken += size
        if self.drain_event is not None and self.sent - self.taken <= self._window // 2:
            with contextlib.suppress(RuntimeError):  # the loop stopped: nobody waits any more
                self._loop.call_soon(self._room_made)

    def loop_stopped(self) -> None:
        """Fail the WSGI side's wait: the loop stopped first (the loop's ``Waiter`` protocol)."""
        self.put(Failed(ServerError("the AsgiToWsgi event loop stopped before the app answered")))
