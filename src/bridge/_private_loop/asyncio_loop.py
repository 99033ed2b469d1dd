"""The asyncio (or uvloop) private loop, run by its own thread or by its callers: AsyncioLoop.

Two ways to run one asyncio loop:

* **in a loop thread** (``inline=False``): the loop runs forever in a daemon thread, and WSGI
  threads hand work over to it (``call_soon_threadsafe``) and wait for its answers. Every
  request costs two thread wake-ups, and the loop serves timers and tasks all the time.
* **inline** (``inline=True``): no thread. A thread that waits for the loop (a WSGI server's
  only thread, in a Gunicorn sync worker) runs it itself, until what it waits for is there, and
  a request costs no thread wake-up at all. Between those runs the loop stands still: timers
  and tasks (background work started in lifespan, say) advance only while some request, or
  ``close()``, runs the loop.

Turns: one thread at a time runs an inline loop; it holds the *turn* (a lock) meanwhile, and
:attr:`AsyncioLoop.runner` names it. A thread that finds the turn taken has met a second
thread of the server: the loop is promoted (below) when it may be, and the waiting thread then
waits as for a loop thread. Every inline wait re-checks what it waits for after its turn, so a
turn ended early (by another wait's wake-up) costs one more turn, nothing else.

Promotion (:meth:`AsyncioLoop.promote`): an inline loop becomes a threaded one, the same loop
object, so what lifespan startup made on it (clients, pools) stays valid. The reverse never
happens.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar, TypeVarTuple, Unpack

from .loops import Event, ItemQueue, LoopThread

__all__ = ["AsyncioLoop"]

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")

#: How long ``stop()`` lets cancelled tasks finish before it gives up on them (seconds).
_STOP_GRACE = 5.0


class AsyncioLoop(LoopThread):
    """An asyncio or uvloop loop, in its own thread or run inline (see the module docstring).

    :param backend: ``"asyncio"`` or ``"uvloop"``.
    :param inline: whether callers run the loop themselves, instead of a loop thread.
    :param promotable: whether a second thread that needs the inline loop moves it into a
        thread of its own (``False``: the threads take turns).
    """

    def __init__(self, backend: str, *, inline: bool, promotable: bool = True) -> None:
        self.backend = backend
        super().__init__()
        if backend == "uvloop":
            import uvloop

            self._loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        else:
            self._loop = asyncio.new_event_loop()
        self._tasks: set[asyncio.Task[None]] = set()
        #: Whether callers run the loop (until :meth:`promote`); read without the lock.
        self.inline = inline
        self._promotable = promotable
        self._promote_wanted = False
        self._turn = threading.Lock()
        #: The thread running the loop inline right now, or ``None``.
        self.runner: int | None = None

    # --- lifetime ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the loop thread; an inline loop has none to start.

        :raises BaseException: whatever prevented the loop thread from starting.
        """
        if not self.inline:
            try:
                super().start()
            except BaseException:
                self._loop.close()
                raise

    def promote(self) -> None:
        """Let a loop thread run the loop from now on (a multi-threaded server came along)."""
        with self._turn:
            self._promote()

    def _promote(self) -> None:
        """:meth:`promote`, with the turn held."""
        if self.inline and not self.stopped:
            self.inline = False
            super().start()

    def stop(self) -> None:
        """Cancel every task, stop the loop and join its thread (or close it inline)."""
        if not self.inline:
            super().stop()
            return
        with self._turn:
            if not self.inline:
                super().stop()
            elif not self._loop.is_closed():
                try:
                    self._wind_down()
                finally:
                    self.stopped = True
                    for waiter in list(self.waiting):
                        waiter.loop_stopped()

    def _serve(self) -> None:
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._wind_down()

    def _wind_down(self) -> None:
        """Cancel what is left, let it end (bounded), then close the loop (in its thread)."""
        loop = self._loop
        try:
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.wait(tasks, timeout=_STOP_GRACE))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()

    def _request_stop(self) -> None:
        self._loop.stop()

    @property
    def asyncio_loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop, while a thread of its own runs it; ``None`` inline (it runs only in the
        turns of its callers, so other code must not schedule work on it and wait)."""
        return None if self.inline else self._loop

    def in_loop(self) -> bool:
        """Whether the caller runs on the loop: its thread, or a turn of it run inline."""
        return self.runner == threading.get_ident() or super().in_loop()

    # --- scheduling ----------------------------------------------------------------------------

    def call_soon(self, callback: Callable[[Unpack[_Ts]], object], *args: *_Ts) -> None:
        """Schedule ``callback(*args)`` on the loop from any thread.

        The thread running an inline loop needs no wake-up: the callback runs at its next turn.

        :raises RuntimeError: the loop has stopped.
        """
        if self.runner == threading.get_ident():
            self._loop.call_soon(callback, *args)
        else:
            self._loop.call_soon_threadsafe(callback, *args)

    def call_soon_waking(self, callback: Callable[[], object]) -> None:
        """Schedule ``callback()`` and wake the loop from its selector, whoever runs it.

        :raises RuntimeError: the loop has stopped.
        """
        self._loop.call_soon_threadsafe(callback)

    def call_now(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` at once if this thread may run the inline loop now, else schedule
        it (a request's task then starts at the loop's very next turn, one turn sooner).

        :raises RuntimeError: the loop has stopped.
        """
        if self.inline and not self.stopped and self._turn.acquire(blocking=False):
            try:
                if self.inline:
                    callback()
                    return
            finally:
                self._turn.release()
        self.call_soon(callback)

    def call_soon_local(self, callback: Callable[[Unpack[_Ts]], object], *args: *_Ts) -> None:
        """Schedule ``callback(*args)`` for the loop's next iteration (loop thread only)."""
        self._loop.call_soon(callback, *args)

    def call_later(self, delay: float, callback: Callable[[], object]) -> Callable[[], None]:
        """Run ``callback()`` after ``delay`` seconds (loop thread only); return its cancel."""
        return self._loop.call_later(delay, callback).cancel

    def spawn(
        self, fn: Callable[[], Awaitable[None]], on_done: Callable[[], object] | None = None
    ) -> Callable[[], None]:
        """Start ``fn()`` as a task (loop thread only); return a function that cancels it.

        :param on_done: called on the loop once the task ended, even if cancelled before it ran.
        """
        task = self._loop.create_task(self._guard(fn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if on_done is not None:
            task.add_done_callback(lambda _: on_done())
        return task.cancel  # type: ignore[return-value]

    def start_task(self, fn: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
        """Start ``fn()`` as a bare task (loop thread only); return a function that cancels it."""
        return self._loop.create_task(fn()).cancel  # type: ignore[return-value]

    def new_event(self) -> Event:
        """Return a new native event, to be set and awaited on the loop only."""
        return asyncio.Event()

    # --- waiting for the loop ------------------------------------------------------------------

    def run_turn(
        self, timeout: float | None, on_turn: Callable[[bool], None], done: Callable[[], bool]
    ) -> bool:
        """Run the inline loop in this thread until :meth:`end_turn`, or ``timeout`` passed.

        :param on_turn: told ``True`` once the turn has begun and ``False`` as it ends.
        :param done: whether what the caller waits for is there; checked once the turn has
            begun, so that nothing put before it is missed.
        :returns: ``False`` (having run nothing) if a loop thread runs the loop now.
        :raises RuntimeError: the loop has stopped, or this thread runs it already (it cannot
            wait for itself).
        """
        if self.runner == threading.get_ident():
            raise RuntimeError("the private loop cannot wait for itself")
        if not self._take_turn():
            return False
        loop = self._loop
        timer = None if timeout is None else loop.call_later(timeout, self.end_turn)
        on_turn(True)
        try:
            if not done():
                loop.run_forever()
        finally:
            on_turn(False)
            if timer is not None:
                timer.cancel()
            self.runner = None
            self._turn.release()
        return True

    def _take_turn(self) -> bool:
        """Hold the turn to run the inline loop; ``False`` (not held) if it is threaded now."""
        if not self._turn.acquire(blocking=False):
            if self._promotable and self.inline:  # a second thread: move the loop to a thread
                self._promote_wanted = True
                self._loop.call_soon_threadsafe(self.end_turn)
            self._turn.acquire()
        if self._promote_wanted:
            self._promote()
        if self.inline and self._loop.is_closed():
            self._turn.release()
            raise RuntimeError("the private loop has stopped")
        if not self.inline:
            self._turn.release()
            return False
        self.runner = threading.get_ident()
        return True

    def end_turn(self) -> None:
        """End the current turn after this iteration of the loop (on the loop; a no-op once a
        loop thread runs it)."""
        if self.inline:
            self._loop.stop()

    def result(self, future: concurrent.futures.Future[_T], timeout: float | None) -> _T:
        """Wait up to ``timeout`` seconds for ``future``, which the loop resolves; its result.

        Inline, this thread runs the loop meanwhile.

        :raises TimeoutError: the time ran out.
        :raises BaseException: what the future holds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        woken = False

        def wake(running: bool) -> None:
            nonlocal woken
            if running and not woken:
                woken = True
                future.add_done_callback(lambda _: self._loop.call_soon_threadsafe(self.end_turn))

        while not future.done():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise TimeoutError
            if not self.run_turn(remaining, wake, future.done):
                return future.result(remaining)
        return future.result(0)

    def new_queue(self) -> ItemQueue[_T]:
        """A queue the loop puts items in; inline, taking one runs the loop until one is there."""
        if self.inline:
            return _InlineQueue(self)
        return queue.SimpleQueue()

    def settle(self, future: concurrent.futures.Future[None]) -> None:
        """Inline: run the loop until ``future`` is resolved (a request's task has ended)."""
        if self.inline:
            self.result(future, None)


class _InlineQueue(Generic[_T]):
    """Items the loop puts, for the thread that runs the loop inline to take (an ItemQueue).

    A thread that takes from an empty queue runs the loop until an item is put (the put ends
    its turn); if the loop is threaded by then, it blocks as on any queue.
    """

    __slots__ = ("_items", "_loop", "waiting")

    def __init__(self, loop: AsyncioLoop) -> None:
        self._loop = loop
        self._items: queue.SimpleQueue[_T] = queue.SimpleQueue()
        #: Whether the taking thread runs the loop right now, waiting for an item.
        self.waiting = False

    def put(self, item: _T) -> None:
        self._items.put(item)
        if self.waiting:
            self.waiting = False
            self._loop.end_turn()

    def get_nowait(self) -> _T:
        return self._items.get_nowait()

    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                return self._items.get_nowait()
            except queue.Empty:
                pass
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise queue.Empty
            if not self._loop.run_turn(remaining, self._waiting, self._ready):
                return self._items.get(timeout=remaining)

    def _waiting(self, running: bool) -> None:
        self.waiting = running

    def _ready(self) -> bool:
        return not self._items.empty()
