"""Run sync code beside a running event loop, and let it reach back into that loop.

This is the only module that knows how sync code and the loop share a process; the adapters talk
to it through :class:`Runner` and :class:`Link`.

Theory of operation
===================
A :class:`Runner` runs one sync callable *beside* the running loop and hands it a :class:`Link`,
the callable's only way back into the loop:

* ``link.call_soon(func)`` schedules the plain function ``func`` on the loop thread and returns
  at once (it never waits, so it is cheap enough for every body chunk);
* ``link.call(afunc)`` runs ``afunc()`` on the loop and blocks the sync side until it returns
  (``bridge.await_``). ``afunc`` runs shielded from cancellation: the loop-side task that feeds
  or drains a channel is what gets cancelled, and it stops the channel, which ends the wait;
* ``link.gate()`` makes a :class:`~bridge._gates.Gate`: the sync side blocks on it (for room in
  the outbox, or for request body bytes) until the loop opens it. A worker thread's gate is a
  lock the loop releases, so a wait costs one thread wake-up and nothing on the loop.

:class:`ThreadRunner` runs the callable in a thread of its own lazy, bounded pool
(:mod:`bridge._thread_pool`), with a copy of the caller's contextvars. One request costs one
hand-off to the thread and one wake-up of the loop when it returns. A greenlet runner that runs
the callable on the loop thread itself implements the same methods (``_greenlet``).

:meth:`Runner.start` splits :meth:`Runner.run` in two for the caller that can skip work when
the callable needs no waiting: it begins the callable now if the runner can (the greenlet
runner runs it until its first wait, a short response to its end) and returns a
:class:`Started` handle whose ``finish()`` waits for the rest. The thread runner begins nothing
early: its handle's ``finish()`` is ``run()``.

Cancellation: :meth:`Runner.run` never returns before the callable has finished, whatever
cancels the waiting task (a cancel scope, trio, or a native asyncio ``Task.cancel()``, which
anyio's shields do not hold back). It calls ``on_cancel`` once so that the caller can stop the
channels the callable may wait on, waits on, and re-raises the cancellation at the end.

The byte-bounded channels the callable waits on live in :mod:`bridge._sync_channels`.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import contextvars
import os
import threading
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from functools import partial
from typing import Any, Generic, TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread

from ._gates import CallGate, Gate, ThreadGate, running_on_asyncio
from ._thread_pool import ThreadPool

__all__ = [
    "CURRENT_LINK", "Link", "Runner", "Started", "ThreadRunner", "run_linked", "running_on_asyncio",
]  # fmt: skip

_T = TypeVar("_T")


def _nothing() -> None:
    """The default ``on_cancel``: nothing to stop."""


class Link(abc.ABC):
    """The sync side's handle on the event loop it runs beside."""

    __slots__ = ()

    @abc.abstractmethod
    def call_soon(self, func: Callable[[], object]) -> None:
        """Schedule ``func()`` on the loop thread and return without waiting for it."""

    @abc.abstractmethod
    def call(self, func: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
        """Run ``func()`` on the loop, block until it finishes and return its result.

        :raises BaseException: whatever ``func()`` raised.
        """

    def gate(self) -> Gate:
        """A new :class:`~bridge._gates.Gate` for the sync side to block on until the loop opens it.

        The default waits through :meth:`call`; links of worker threads return a cheaper one.
        """
        return CallGate(self)


class Runner(abc.ABC):
    """Runs sync callables beside the running event loop."""

    @abc.abstractmethod
    async def run(
        self, func: Callable[[Link], _T], /, *, on_cancel: Callable[[], object] = _nothing
    ) -> _T:
        """Run ``func(link)`` beside the loop and return its result once it finishes.

        The caller waits for ``func`` even when cancelled, by a cancel scope or by a native
        asyncio ``Task.cancel()`` (a thread cannot be killed, and the app's ``close()`` must
        run): on the first cancellation ``run`` calls ``on_cancel()`` on the loop (the caller
        stops the channels ``func`` may be blocked on, so ``func`` ends promptly), keeps waiting
        for ``func`` while ignoring further cancellations, then re-raises the first one. A
        ``func`` that has not started yet when cancelled is never started.

        :param on_cancel: makes ``func`` finish soon; called at most once, on the loop thread.
        :raises BaseException: whatever ``func`` raised, or the cancellation.
        """

    def start(self, func: Callable[[Link], _T], /) -> Started[_T]:
        """Begin ``func(link)`` now if this runner can without waiting; finish it later.

        A runner that runs ``func`` on the loop thread (the greenlet runner) runs it here until
        it first has to wait, and often to its end: then :attr:`Started.done` is true and the
        caller needs no helper task to wait for it. The default starts nothing: the returned
        handle's :meth:`~Started.finish` is :meth:`run`.

        :raises BaseException: whatever ``func`` raised, when it raised before its first wait.
        """
        return _NotStarted(self, func)

    async def aclose(self) -> None:
        """Wait until every callable started by :meth:`run` has finished (server shutdown).

        The default has nothing to wait for; a runner with threads waits for them.
        """
        return None  # a default for runners without threads, not an abstract method


class Started(abc.ABC, Generic[_T]):
    """A callable begun by :meth:`Runner.start`; :meth:`finish` waits for it and returns its result.

    The caller must call :meth:`finish` unless :attr:`done` is true.
    """

    __slots__ = ()

    #: Whether the callable has returned: :meth:`finish` will not wait.
    done: bool

    @abc.abstractmethod
    async def finish(self, *, on_cancel: Callable[[], object] = _nothing) -> _T:
        """Wait for the callable as :meth:`Runner.run` does, and return its result.

        :raises BaseException: whatever the callable raised, or the cancellation.
        """


class _NotStarted(Started[_T]):
    """What the default :meth:`Runner.start` returns: :meth:`finish` runs the callable."""

    __slots__ = ("_func", "_runner")

    done = False

    def __init__(self, runner: Runner, func: Callable[[Link], _T]) -> None:
        self._runner = runner
        self._func = func

    async def finish(self, *, on_cancel: Callable[[], object] = _nothing) -> _T:
        return await self._runner.run(self._func, on_cancel=on_cancel)


#: The link of the sync callable running in this context (how ``bridge.await_`` finds its loop).
CURRENT_LINK: ContextVar[Link] = ContextVar("bridge.link")


def run_linked(func: Callable[[Link], _T], link: Link) -> _T:
    """Return ``func(link)``, with ``link`` in :data:`CURRENT_LINK` (sync side, own context)."""
    CURRENT_LINK.set(link)  # the sync side's context is a copy: nothing to reset
    return func(link)


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


async def _shielded(func: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    # A cancelled request never interrupts a wait from the sync side; the channels end the wait
    # instead (the request stops them when cancelled).
    with anyio.CancelScope(shield=True):
        result = await func()
    return result


class _Job(Generic[_T]):
    """One call of ``func(link)`` in a pool thread; the loop side waits for :attr:`finished`."""

    __slots__ = ("_context", "_func", "_link", "_notify", "_outcome", "_unclaimed", "finished")

    def __init__(self, func: Callable[[Link], _T], link: Link) -> None:
        self._context = contextvars.copy_context()  # the request task's contextvars flow in
        self._func = func
        self._link = link
        self._notify: Callable[[], object] = _nothing  # set by the waiting side before submit
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
        notify, self._notify = self._notify, _nothing
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

    The pool (:class:`~bridge._thread_pool.ThreadPool`) starts with the first call, not here; it
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

    def close(self) -> None:
        """Join this runner's threads (they finish their jobs first); the next run starts anew."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None and pool.pid == os.getpid():
            pool.close()

    async def aclose(self) -> None:
        """Wait for the running callables and join the threads (in a helper thread)."""
        await anyio.to_thread.run_sync(self.close, abandon_on_cancel=True)

    async def run(
        self, func: Callable[[Link], _T], /, *, on_cancel: Callable[[], object] = _nothing
    ) -> _T:
        if running_on_asyncio():
            return await self._run_on_asyncio(func, on_cancel)
        return await self._run_on_anyio(func, on_cancel)

    async def _run_on_asyncio(
        self, func: Callable[[Link], _T], on_cancel: Callable[[], object]
    ) -> _T:
        loop = asyncio.get_running_loop()
        job = _Job(func, _AsyncioLink(loop))
        waiter = loop.create_future()

        def finish() -> None:  # on the loop
            job.finished = True
            if not waiter.done():
                waiter.set_result(None)

        job._notify = partial(loop.call_soon_threadsafe, finish)
        self._current_pool().submit(job)
        try:
            await waiter
        except BaseException:
            if job.withdraw():
                raise
            on_cancel()
            # anyio re-delivers a scope's cancellation on every loop turn unless shielded;
            # a native Task.cancel() gets through the shield once per call and is ignored.
            with anyio.CancelScope(shield=True):
                while not job.finished:
                    waiter = loop.create_future()
                    try:
                        await waiter
                    except asyncio.CancelledError:
                        continue
            raise
        return job.result()

    async def _run_on_anyio(
        self, func: Callable[[Link], _T], on_cancel: Callable[[], object]
    ) -> _T:
        token = anyio.lowlevel.current_token()
        job = _Job(func, _AnyioLink(token))
        finished = anyio.Event()

        def finish() -> None:  # on the loop
            job.finished = True
            finished.set()

        job._notify = partial(token.backend_class.run_sync_soon, finish, (), token.native_token)
        self._current_pool().submit(job)
        try:
            await finished.wait()
        except BaseException:
            if job.withdraw():
                raise
            on_cancel()
            with anyio.CancelScope(shield=True):  # holds against every trio cancellation
                await finished.wait()
            raise
        return job.result()
