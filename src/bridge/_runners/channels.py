"""Byte-bounded channels between sync code and the event loop: :class:`Outbox` and :class:`Inbox`.

The sync side (a worker thread or greenlet) reaches the loop only through its
:class:`~.base.Link`. Items travel through a ``collections.deque`` (documented
thread-safe for ``append`` and ``popleft``) without any hand-over: a wake-up crosses to the
other side only when that side sleeps, and a full (or empty) window blocks the sync side on a
:class:`~.wakeups.Gate` that the loop opens. Hysteresis keeps the wake-ups rare: a blocked
side resumes only once the window is half free (or half full), so a steady stream costs one
thread wake-up per half window, not one per item.

Each flag is written by one side only. A side that goes to sleep first raises its "waiting"
flag and *then* rechecks the condition; the other side first changes the state and *then*
reads the flag. Whatever the interleaving, either the sleeper sees the new state or the waker
sees the flag, so no wake-up is lost (a spare one only costs a recheck).

* :class:`Outbox` carries items (ASGI messages) from the sync side to one consumer task. ``put``
  appends and returns; it blocks only while more than ``window`` bytes are put but not yet marked
  done by the consumer, until at most half of them are.
* :class:`Inbox` carries bytes (the request body) from one producer task to the sync side. The
  producer pauses while ``window`` bytes are buffered, until the sync side took half of them;
  ``take`` blocks only while nothing is buffered.

Both can be *stopped* from the loop (client gone, task cancelled): every waiter wakes, ``put``
drops items and ``take`` raises the error given to :meth:`Inbox.fail`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from .base import Link
from .wakeups import Gate, Signal

__all__ = ["Inbox", "Outbox"]

_T = TypeVar("_T")


class Outbox(Generic[_T]):
    """Items from the sync side to one consumer task, with at most ``window`` bytes in flight.

    :param window: how many bytes may be put but not yet done before :meth:`put` blocks.
    """

    __slots__ = (
        "_closed",
        "_consumer_idle",
        "_done_bytes",
        "_gate",
        "_items",
        "_producer_waiting",
        "_put_bytes",
        "_signal",
        "_window",
        "stopped",
    )

    def __init__(self, *, window: int) -> None:
        self._window = window
        self._items: deque[tuple[_T, int]] = deque()  # sync side appends, loop pops
        self._put_bytes = 0  # sync side only
        self._done_bytes = 0  # loop only
        self._closed = False  # loop only
        self._consumer_idle = False  # loop only
        self._signal = Signal()  # the consumer sleeps on it
        self._gate: Gate | None = None  # the sync side sleeps on it (set before the flag)
        self._producer_waiting = False  # sync side only
        #: Set on the loop once the consumer gave up; the sync side reads it between items.
        self.stopped = False

    # --- sync side -------------------------------------------------------------------------

    def put(self, link: Link, items: Iterable[tuple[_T, int]]) -> None:
        """Hand ``(item, size)`` pairs to the consumer; block only while the window is full."""
        for item in items:
            self._items.append(item)
            self._put_bytes += item[1]
        if self._consumer_idle:
            link.call_soon(self._signal.notify)
        if self._put_bytes - self._done_bytes > self._window:
            self._wait_for_room(link)

    def _wait_for_room(self, link: Link) -> None:
        if self._gate is None:
            self._gate = link.gate()
        self._producer_waiting = True
        try:
            while not self.stopped and self._put_bytes - self._done_bytes > self._window:
                self._gate.wait()
        finally:
            self._producer_waiting = False

    # --- loop side -------------------------------------------------------------------------

    async def get(self) -> tuple[_T, int] | None:
        """Return the next ``(item, size)``, or ``None`` once closed and drained, or stopped."""
        while not self._items:
            if self._closed or self.stopped:
                return None
            self._consumer_idle = True
            if not self._items:  # recheck after raising the flag (see the module docstring)
                await self._signal.wait()
            self._consumer_idle = False
        if self.stopped:
            return None
        return self._items.popleft()

    def done(self, size: int) -> None:
        """Record that the consumer finished with ``size`` bytes, making room for the producer."""
        self._done_bytes += size
        if self._producer_waiting and self._put_bytes - self._done_bytes <= self._window // 2:
            self._open()

    def close(self, items: Iterable[tuple[_T, int]] = ()) -> None:
        """Add the last ``items`` (the sync side is done); then :meth:`get` returns ``None``."""
        if not self.stopped:
            self._items.extend(items)
        self._closed = True
        self._signal.notify()

    def stop(self) -> None:
        """Drop what is queued and wake everyone: the consumer is gone."""
        self.stopped = True
        self._items.clear()
        self._signal.notify()
        self._open()

    def _open(self) -> None:
        if self._gate is not None:
            self._gate.open()


class Inbox:
    """Bytes from one producer task to the sync side, with at most ``window`` bytes buffered.

    :param window: how many bytes may wait for the sync side before the producer pauses.
    :param first: bytes already received.
    :param complete: whether ``first`` is all there is.
    """

    __slots__ = (
        "_chunks",
        "_consumer_waiting",
        "_error",
        "_fed",
        "_gate",
        "_producer_waiting",
        "_signal",
        "_taken",
        "_window",
        "complete",
    )

    def __init__(self, *, window: int, first: bytes, complete: bool) -> None:
        self._window = window
        self._chunks: deque[bytes] = deque([first] if first else ())  # loop appends, sync pops
        self._fed = len(first)  # loop only
        self._taken = 0  # sync side only
        self._error: Callable[[], BaseException] | None = None  # loop only
        self._producer_waiting = False  # loop only
        self._signal = Signal()  # the producer sleeps on it
        self._gate: Gate | None = None  # the sync side sleeps on it (set before the flag)
        self._consumer_waiting = False  # sync side only
        #: Whether the last byte was fed (loop writes it after appending that byte).
        self.complete = complete

    # --- loop side -------------------------------------------------------------------------

    async def wait_for_room(self) -> None:
        """Wait while ``window`` bytes are buffered, until the sync side took half of them."""
        while True:
            self._producer_waiting = True  # raised before the recheck (see the module docstring)
            if self._fed - self._taken < self._window or self._error is not None:
                break
            await self._signal.wait()
        self._producer_waiting = False

    def feed(self, data: bytes, *, complete: bool) -> None:
        """Append ``data``; ``complete`` says it is the last of the body."""
        if data:
            self._chunks.append(data)
            self._fed += len(data)
        self.complete = complete
        self._wake_consumer()

    def fail(self, error: Callable[[], BaseException]) -> None:
        """Make every later :meth:`take` raise ``error()`` (a fresh exception each time)."""
        self._error = error
        self._signal.notify()
        self._wake_consumer()

    def _wake_consumer(self) -> None:
        if self._consumer_waiting and self._gate is not None:
            self._gate.open()

    # --- sync side -------------------------------------------------------------------------

    def take(self, link: Link) -> bytes:
        """Return the next bytes of the body, ``b""`` at its end; block while none are buffered.

        :raises BaseException: the error given to :meth:`fail`.
        """
        while True:
            if self._error is not None:
                raise self._error()
            complete = self.complete  # read before popping: feed() appends before completing
            try:
                chunk = self._chunks.popleft()
            except IndexError:
                if complete:
                    return b""
                self._wait_for_data(link)
                continue
            self._taken += len(chunk)
            if self._producer_waiting and self._fed - self._taken <= self._window // 2:
                link.call_soon(self._signal.notify)
            return chunk

    def _wait_for_data(self, link: Link) -> None:
        if self._gate is None:
            self._gate = link.gate()
        self._consumer_waiting = True
        try:
            if self._producer_waiting:  # paused on a full buffer that was taken meanwhile
                link.call_soon(self._signal.notify)
            while not self._chunks and not self.complete and self._error is None:
                self._gate.wait()
        finally:
            self._consumer_waiting = False
