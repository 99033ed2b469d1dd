"""Wake-ups between the loop and sync code: :class:`Signal` for tasks, :class:`Gate` for sync code.

* A :class:`Signal` wakes the tasks waiting on it; it lives on one event loop.
* A :class:`Gate` lets the sync side (a worker thread, or a greenlet on the loop thread) block
  until the loop side opens it. Opening never blocks and never waits for the loop's next turn, so
  the loop can open a gate from any plain callback. The sync side always rechecks its condition
  after :meth:`Gate.wait` returns: an ``open()`` with nobody waiting is remembered once, so a
  wake-up that crosses a recheck is never lost, and at worst costs one more recheck.

:class:`ThreadGate` is a lock released by the loop thread: the cheapest wake-up a thread can get
(no task, no future, no trip through the loop's scheduler). :class:`CallGate` waits through
``link.call`` instead, for sync code that runs on the loop thread itself (the greenlet runner).
"""

from __future__ import annotations

import abc
import asyncio
import math
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import anyio

__all__ = [
    "CallGate", "Gate", "Signal", "ThreadGate", "cancellation_check", "current_asyncio_task",
    "running_on_asyncio",
]  # fmt: skip


class _Event(Protocol):
    def set(self) -> None: ...

    async def wait(self) -> object: ...


def current_asyncio_task() -> asyncio.Task[object] | None:
    """The asyncio task the caller runs in, or ``None`` (no asyncio loop here: trio, a thread)."""
    try:
        return asyncio.current_task()
    except RuntimeError:  # no asyncio loop running in this thread
        return None


def running_on_asyncio() -> bool:
    """Whether the caller runs in an asyncio task (rather than trio)."""
    return current_asyncio_task() is not None


def cancellation_check() -> Callable[[], bool]:
    """A cheap test, for the calling task to repeat per chunk, of whether it is being cancelled.

    On asyncio a pending ``Task.cancel()`` (what both asyncio's and anyio's task groups use) shows
    in ``Task.cancelling()``, a C call; elsewhere anyio's effective deadline says it.
    """
    task = current_asyncio_task()
    if task is not None:
        return lambda: task.cancelling() > 0
    return lambda: anyio.current_effective_deadline() == -math.inf


class Signal:
    """A reusable wake-up for tasks on one loop: :meth:`notify` wakes every current waiter.

    On asyncio it uses :class:`asyncio.Event` directly (anyio's cancel scopes still reach a task
    waiting on it: they cancel the task); on other backends :class:`anyio.Event`.
    """

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event: _Event | None = None

    async def wait(self) -> None:
        """Wait until the next :meth:`notify` (callers recheck their condition afterwards)."""
        if self._event is None:
            self._event = asyncio.Event() if running_on_asyncio() else anyio.Event()
        await self._event.wait()

    def notify(self) -> None:
        """Wake every task waiting right now; callable from plain callbacks on the loop."""
        if self._event is not None:
            self._event.set()
            self._event = None


class Gate(abc.ABC):
    """Blocks the sync side until the loop side opens it (see the module docstring)."""

    __slots__ = ()

    @abc.abstractmethod
    def wait(self) -> None:
        """Sync side: block until the gate is open, then close it again."""

    @abc.abstractmethod
    def open(self) -> None:
        """Loop side: let the current (or next) :meth:`wait` return; never blocks."""


class ThreadGate(Gate):
    """A gate for a worker thread: a lock that only the loop thread releases.

    Only one thread (the loop's) ever opens it, so ``locked()`` then ``release()`` cannot race
    another release; the waiting thread only ever acquires.
    """

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()  # closed

    def wait(self) -> None:
        self._lock.acquire()

    def open(self) -> None:
        if self._lock.locked():
            self._lock.release()


class CallGate(Gate):
    """A gate for sync code that waits through ``link.call`` (it runs on the loop thread).

    :param call: the link's ``call``: runs a coroutine function on the loop until it returns.
    """

    __slots__ = ("_call", "_open", "_signal")

    def __init__(self, call: Callable[[Callable[[], Coroutine[Any, Any, None]]], None]) -> None:
        self._call = call
        self._open = False
        self._signal = Signal()

    def wait(self) -> None:
        if not self._open:
            self._call(self._wait_open)
        self._open = False

    async def _wait_open(self) -> None:
        while not self._open:
            await self._signal.wait()

    def open(self) -> None:
        self._open = True
        self._signal.notify()
