"""Run sync code in worker threads beside the running loop: :class:`ThreadRunner`.

The default runner of :class:`~bridge.WsgiToAsgi`. Each callable runs in a thread of the
runner's own lazy, bounded pool (:mod:`.thread_pool`) with a copy of the caller's contextvars;
its :class:`~.base.Link` reaches the loop with ``call_soon_threadsafe`` (asyncio) or the anyio
token (trio), and its gates are locks the loop releases. One request costs one hand-off to the
thread and one wake-up of the loop when it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import threading
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any, Generic, TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread

from .asgiref_loop import Coroutines, lend_loop
from .base import Link, Runner, nothing, run_linked
from .thread_pool import ThreadPool
from .wakeups import Gate, ThreadGate, running_on_asyncio

__all__ = ["CANCEL_GRACE", "ThreadRunner"]

_T = TypeVar("_T")
_logger = logging.getLogger("bridge.wsgi")

#: Seconds a cancelled caller still waits for its callable (whose channels it has stopped, so
#: a call inside bridge ends at once) before it lets the cancellation through: a server's
#: graceful-shutdown deadline, or an outer timeout, then answers its client at once. A call
#: blocked in the app's own code goes on in its thread, which still closes the iterable.
CANCEL_GRACE = 1.0


class _AsyncioLink(Link):
    __slots__ = ("_loop",)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def call_soon(self, func: Callable[[], object]) -> None:
        self._loop.call_soon_threadsafe(func)

    def gate(self) -> Gate:
        return ThreadGate()

    def call(self, func: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
        # The task is nobody's child: no cancel scope reaches it (loop shutdown aside).
        return asyncio.run_coroutine_threadsafe(func(), self._loop).result()

    def host_async_to_sync(self, coroutines: Coroutines) -> None:
        lend_loop(self._loop, coroutines)


class _AnyioLink(Link):
    __slots__ = ("_token",)

    def __init__(self, token: anyio.lowlevel.EventLoopToken) -> None:
        self._token = token

    def call_soon(self, func: Callable[[], object]) -> None:
        self._token.backend_class.run_sync_soon(func, (), self._token.native_token)

    def gate(self) -> Gate:
        return ThreadGate()

    def call(self, func: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
        return anyio.from_thread.run(_shielded, func, token=self._token)

    def host_async_to_sync(self, coroutines: Coroutines) -> None:
        # asgiref's coroutines need asyncio: on trio it keeps its default (a loop per call),
        # not a loop an asyncio request left in this pool thread.
        lend_loop(None)


async def _shielded(func: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    # A cancelled request never interrupts a wait from the sync side; the channels end the wait
    # instead (the request stops them when cancelled).
    with anyio.CancelScope(shield=True):
        result = await func()
    return result


class _Job(Generic[_T]):
    """One call of ``func(link)`` in a pool thread; the loop side waits for :attr:`finished`."""

    __slots__ = (
        "_context", "_func", "_link", "_outcome", "_unclaimed", "finished", "label", "notify",
    )  # fmt: skip

    def __init__(self, func: Callable[[Link], _T], link: Link, label: str) -> None:
        self._context = contextvars.copy_context()  # the request task's contextvars flow in
        self._func = func
        self._link = link
        self.label = label  # how logs name the call
        self.notify: Callable[[], object] = nothing  # set by the waiting side before submit
        self._outcome: tuple[bool, Any] = (False, None)
        self._unclaimed = [True]  # popped once, by the thread that runs it or by withdraw()
        self.finished = False  # loop side: written by the callback that notify() schedules

    def __call__(self) -> None:
        """Run in a pool thread: call ``func`` unless withdrawn, then wake the loop side."""
        try:
            self._unclaimed.pop()
        except IndexError:
            return  # withdrawn: the caller was cancelled before a thread was free
        try:
            self._outcome = (True, self._context.run(run_linked, self._func, self._link))
        except BaseException as exc:  # handed to the caller, which re-raises it
            self._outcome = (False, exc)
        # Dropped before the call: it refers back to this job, and a cycle per request would
        # leave every request's objects to the cyclic garbage collector.
        notify, self.notify = self.notify, nothing
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            notify()

    def withdraw(self) -> bool:
        """Make sure ``func`` never starts; ``False`` if a thread has already started it."""
        try:
            self._unclaimed.pop()
        except IndexError:
            return False
        return True

    def result(self) -> _T:
        succeeded, value = self._outcome
        self._outcome = (False, None)  # no reference cycle through a traceback
        if not succeeded:
            raise value
        return value  # type: ignore[no-any-return]


class ThreadRunner(Runner):
    """Runs each callable in a worker thread of its own pool, at most ``max_threads`` at once.

    The pool (:class:`~.thread_pool.ThreadPool`) starts with the first call, not here; it
    belongs to this runner and is shared by every loop that uses it; a process forked after first
    use gets a fresh one. The request task's contextvars are copied into the thread.

    :param max_threads: how many callables may run at the same time in this process.
    """

    def __init__(self, *, max_threads: int) -> None:
        self._max_threads = max_threads
        self._pool: ThreadPool | None = None
        self._pool_lock = threading.Lock()

    def _current_pool(self) -> ThreadPool:
        pool = self._pool
        if pool is None or pool.pid != os.getpid():
            with self._pool_lock:
                pool = self._pool
                if pool is None or pool.pid != os.getpid():
                    pool = self._pool = ThreadPool(max_threads=self._max_threads)
        return pool

    def close(self, *, timeout: float | None = None) -> list[str]:
        """Join this runner's threads (they finish their jobs first); the next run starts anew.

        :param timeout: seconds to wait at most (``None``: no limit); the threads still busy
            then go on as daemons.
        :returns: the labels of the calls still running when the wait ended.
        """
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is None or pool.pid != os.getpid():
            return []
        return [getattr(job, "label", "") for job in pool.close(timeout)]

    async def aclose(self, *, grace: float | None = None) -> list[str]:
        """Wait for the running callables and join the threads (in a helper thread).

        :param grace: seconds to wait at most (``None``: no limit).
        :returns: the labels of the calls still running when the wait ended.
        """
        return await anyio.to_thread.run_sync(
            partial(self.close, timeout=grace), abandon_on_cancel=True
        )

    async def run(
        self,
        func: Callable[[Link], _T],
        /,
        *,
        on_cancel: Callable[[], object] = nothing,
        label: str = "",
    ) -> _T:
        if running_on_asyncio():
            return await self._run_on_asyncio(func, on_cancel, label)
        return await self._run_on_anyio(func, on_cancel, label)

    async def _run_on_asyncio(
        self, func: Callable[[Link], _T], on_cancel: Callable[[], object], label: str
    ) -> _T:
        loop = asyncio.get_running_loop()
        job = _Job(func, _AsyncioLink(loop), label)
        waiter = loop.create_future()

        def finish() -> None:  # on the loop
            job.finished = True
            if not waiter.done():
                waiter.set_result(None)

        job.notify = partial(loop.call_soon_threadsafe, finish)
        self._current_pool().submit(job)
        try:
            await waiter
        except BaseException:
            if job.withdraw():
                raise
            on_cancel()
            # anyio re-delivers a scope's cancellation on every loop turn unless shielded;
            # a native Task.cancel() gets through the shield once per call and is ignored.
            deadline = loop.time() + CANCEL_GRACE
            with anyio.CancelScope(shield=True):
                while not job.finished and loop.time() < deadline:
                    waiter = loop.create_future()
                    timer = loop.call_at(deadline, _settle, waiter)
                    try:
                        await waiter
                    except asyncio.CancelledError:
                        continue
                    finally:
                        timer.cancel()
            _left_running(job)
            raise
        return job.result()

    async def _run_on_anyio(
        self, func: Callable[[Link], _T], on_cancel: Callable[[], object], label: str
    ) -> _T:
        token = anyio.lowlevel.current_token()
        job = _Job(func, _AnyioLink(token), label)
        finished = anyio.Event()

        def finish() -> None:  # on the loop
            job.finished = True
            finished.set()

        job.notify = partial(token.backend_class.run_sync_soon, finish, (), token.native_token)
        self._current_pool().submit(job)
        try:
            await finished.wait()
        except BaseException:
            if job.withdraw():
                raise
            on_cancel()
            # The shield holds against every trio cancellation; the inner scope's deadline not.
            with anyio.CancelScope(shield=True), anyio.move_on_after(CANCEL_GRACE):
                await finished.wait()
            _left_running(job)
            raise
        return job.result()


def _settle(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _left_running(job: _Job[Any]) -> None:
    """Log a cancelled call that did not end within :data:`CANCEL_GRACE` seconds."""
    if not job.finished:
        _logger.warning(
            "a cancelled request's WSGI call is still running after %s s: %s; it goes on in "
            "its thread (which closes its response iterable)",
            CANCEL_GRACE,
            job.label or "(no label)",
        )
