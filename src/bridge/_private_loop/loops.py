"""An event loop running forever in its own daemon thread: :class:`LoopThread` and its backends.

See the package docstring (:mod:`bridge._private_loop`) for who may call what, from where.
"""

from __future__ import annotations

import abc
import asyncio
import concurrent.futures
import contextlib
import logging
import os
import queue
import threading
from collections.abc import Awaitable, Callable, Coroutine
from importlib.util import find_spec
from typing import Any, Protocol, TypeVar, TypeVarTuple, Unpack

__all__ = ["BACKENDS", "Event", "ItemQueue", "LoopThread", "TrioLoop", "Waiter", "resolve_backend"]

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")
_logger = logging.getLogger("bridge.asgi")

#: The event loop implementations an AsgiToWsgi can run on ("auto" picks one, see
#: :func:`resolve_backend`).
BACKENDS = ("asyncio", "uvloop", "trio")


def resolve_backend(backend: str) -> str:
    """Return the loop implementation ``backend`` names: ``"auto"`` is uvloop when installed.

    uvloop runs the same asyncio code with a cheaper loop (Uvicorn's ``--loop auto`` makes the
    same choice); the request hand-off between the WSGI thread and the loop costs less on it.

    :raises ValueError: ``backend`` names a loop whose package is not installed.
    """
    if backend == "auto":
        return "uvloop" if find_spec("uvloop") is not None else "asyncio"
    if backend in ("uvloop", "trio") and find_spec(backend) is None:
        raise ValueError(f"backend={backend!r} needs the {backend} package; pip install {backend}")
    return backend


class Event(Protocol):
    """The part of ``asyncio.Event`` and ``trio.Event`` bridge uses."""

    def set(self) -> None: ...

    def is_set(self) -> bool: ...

    async def wait(self) -> Any: ...


class Waiter(Protocol):
    """A thread's wait on the loop that must end if the loop stops first."""

    def loop_stopped(self) -> None:
        """End the wait (called from the loop thread, or from a waiter that saw ``stopped``)."""


class LoopThread(abc.ABC):
    """An event loop running forever in its own daemon thread (see the module docstring)."""

    backend = "asyncio"
    #: Whether callers run the loop themselves, on their own thread (see ``asyncio_loop``).
    inline = False

    def __init__(self) -> None:
        self.pid = os.getpid()
        #: Set once the loop ran its last callback; then every waiter has been told.
        self.stopped = False
        #: Waits of other threads to end when the loop stops (set add/discard are atomic).
        self.waiting: set[Waiter] = set()
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(
            target=self._main, name=f"bridge-{self.backend}-loop", daemon=True
        )

    def start(self) -> None:
        """Start the thread and return once its loop accepts callbacks.

        :raises BaseException: whatever prevented the loop from starting.
        """
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            self._thread.join()
            raise self._failure

    def stop(self) -> None:
        """Cancel every task, stop the loop and join its thread; a no-op if it already stopped."""
        with contextlib.suppress(RuntimeError):
            self.call_soon(self._request_stop)
        self._thread.join()

    def _main(self) -> None:
        try:
            self._serve()
        except BaseException as exc:
            self._failure = exc
            self._ready.set()
        finally:
            self.stopped = True
            for waiter in list(self.waiting):
                waiter.loop_stopped()

    async def _guard(self, fn: Callable[[], Awaitable[None]]) -> None:
        """Run ``fn`` and log what it raises: a task's error must never take the loop down."""
        try:
            await fn()
        except Exception:
            _logger.exception("unexpected error in a bridge task")

    # Backend-specific parts: see AsyncioLoop (asyncio_loop.py) and TrioLoop below.

    @abc.abstractmethod
    def _serve(self) -> None:
        """Run the loop in this thread until :meth:`_request_stop`; set ``_ready`` once ready."""

    @abc.abstractmethod
    def _request_stop(self) -> None:
        """Make :meth:`_serve` return (called on the loop)."""

    @property
    def asyncio_loop(self) -> asyncio.AbstractEventLoop | None:
        """The asyncio (or uvloop) loop this thread runs, once started; ``None`` on trio."""
        return None

    @abc.abstractmethod
    def call_soon(self, callback: Callable[[Unpack[_Ts]], object], *args: *_Ts) -> None:
        """Schedule ``callback(*args)`` on the loop from any thread.

        :raises RuntimeError: the loop has stopped.
        """

    def call_soon_waking(self, callback: Callable[[], object]) -> None:
        """Schedule ``callback()`` and wake the loop even if it waits in its selector (from a
        signal handler that interrupted the loop's own thread, say).

        :raises RuntimeError: the loop has stopped.
        """
        self.call_soon(callback)

    def call_now(self, callback: Callable[[], object]) -> None:
        """Schedule ``callback()`` on the loop (a loop that callers run may call it at once).

        :raises RuntimeError: the loop has stopped.
        """
        self.call_soon(callback)

    @abc.abstractmethod
    def call_soon_local(self, callback: Callable[[Unpack[_Ts]], object], *args: *_Ts) -> None:
        """Schedule ``callback(*args)`` for the loop's next iteration (loop thread only)."""

    @abc.abstractmethod
    def call_later(self, delay: float, callback: Callable[[], object]) -> Callable[[], None]:
        """Run ``callback()`` after ``delay`` seconds (loop thread only); return its cancel."""

    @abc.abstractmethod
    def spawn(
        self, fn: Callable[[], Awaitable[None]], on_done: Callable[[], object] | None = None
    ) -> Callable[[], None]:
        """Start ``fn()`` as a task (loop thread only); return a function that cancels it.

        :param on_done: called on the loop once the task ended, even if cancelled before it ran.
        """

    @abc.abstractmethod
    def start_task(self, fn: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
        """Start ``fn()`` as a bare task (loop thread only); return a function that cancels it.

        Cheaper than :meth:`spawn` (no done callbacks, so no extra loop iteration): ``fn`` must
        catch its own errors, and the caller must keep the returned function while the task
        runs. A task cancelled before its first step never runs ``fn`` at all.
        """

    @abc.abstractmethod
    def new_event(self) -> Event:
        """Return a new native event, to be set and awaited on the loop only."""

    def promote(self) -> None:  # noqa: B027 (a hook: nothing to do for a loop thread)
        """Run the loop in a thread of its own from now on; it does already."""

    def in_loop(self) -> bool:
        """Whether the caller runs on the loop (its thread), where it must not wait for it."""
        return threading.current_thread() is self._thread

    # Waiting for the loop, from a thread that does not run it.

    def result(self, future: concurrent.futures.Future[_T], timeout: float | None) -> _T:
        """Wait up to ``timeout`` seconds for ``future``, which the loop resolves; its result.

        :raises TimeoutError: the time ran out.
        :raises BaseException: what the future holds.
        """
        return future.result(timeout)

    def new_queue(self) -> ItemQueue[_T]:
        """A queue the loop puts items in and a thread takes them from, blocking while empty."""
        return queue.SimpleQueue()

    def settle(self, future: concurrent.futures.Future[None]) -> None:  # noqa: B027 (a hook)
        """Let the loop finish what ``future`` waits for; nothing to do for a loop thread.

        A loop that callers run themselves (:class:`~.asyncio_loop.AsyncioLoop` inline) runs
        until ``future`` is resolved, so that a request's background work gets done.
        """


class ItemQueue(Protocol[_T]):
    """The part of :class:`queue.SimpleQueue` a request's hand-off uses."""

    def put(self, item: _T) -> None: ...

    def get(self, block: bool = True, timeout: float | None = None) -> _T: ...

    def get_nowait(self) -> _T: ...


class TrioLoop(LoopThread):
    """A :class:`LoopThread` running ``trio.run``; tasks live in one nursery."""

    backend = "trio"

    def _serve(self) -> None:
        import trio

        trio.run(self._serve_trio)

    async def _serve_trio(self) -> None:
        import trio

        self._trio = trio
        self._token = trio.lowlevel.current_trio_token()
        self._stopping = trio.Event()
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self._ready.set()
            await self._stopping.wait()
            nursery.cancel_scope.cancel()

    def _request_stop(self) -> None:
        self._stopping.set()

    def call_soon(self, callback: Callable[[Unpack[_Ts]], object], *args: *_Ts) -> None:
        """Schedule ``callback(*args)`` on the loop from any thread.

        :raises RuntimeError: the loop has stopped (``trio.RunFinishedError``).
        """
        self._token.run_sync_soon(callback, *args)

    call_soon_local = call_soon

    def call_later(self, delay: float, callback: Callable[[], object]) -> Callable[[], None]:
        """Run ``callback()`` after ``delay`` seconds (loop thread only); return its cancel."""

        async def sleep_then_call() -> None:
            await self._trio.sleep(delay)
            callback()

        return self.spawn(sleep_then_call)

    def spawn(
        self, fn: Callable[[], Awaitable[None]], on_done: Callable[[], object] | None = None
    ) -> Callable[[], None]:
        """Start ``fn()`` as a task (loop thread only); return a function that cancels it.

        :param on_done: called on the loop once the task ended, even if cancelled before it ran.
        """
        scope = self._trio.CancelScope()
        self._nursery.start_soon(self._scoped, fn, scope, on_done)
        return scope.cancel

    def start_task(self, fn: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
        """Start ``fn()`` as a task (loop thread only); return a function that cancels it."""
        return self.spawn(fn)

    async def _scoped(
        self, fn: Callable[[], Awaitable[None]], scope: Any, on_done: Callable[[], object] | None
    ) -> None:
        try:
            with scope:
                await self._guard(fn)
        finally:
            if on_done is not None:
                on_done()

    def new_event(self) -> Event:
        """Return a new native event, to be set and awaited on the loop only."""
        return self._trio.Event()
