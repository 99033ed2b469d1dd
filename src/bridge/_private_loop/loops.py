"""An event loop running forever in its own daemon thread: :class:`LoopThread` and its backends.

See the package docstring (:mod:`bridge._private_loop`) for who may call what, from where.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine
from importlib.util import find_spec
from typing import Any, Protocol, TypeVarTuple, Unpack

__all__ = ["BACKENDS", "LOOP_CLASSES", "Event", "LoopThread", "Waiter", "resolve_backend"]

_Ts = TypeVarTuple("_Ts")
_logger = logging.getLogger("bridge.asgi")

#: The event loop implementations an AsgiToWsgi can run on ("auto" picks one, see
#: :func:`resolve_backend`).
BACKENDS = ("asyncio", "uvloop", "trio")

#: How long ``stop()`` lets cancelled tasks finish before it gives up on them (seconds).
_STOP_GRACE = 5.0


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


class LoopThread:
    """An event loop running forever in its own daemon thread (see the module docstring)."""

    backend = "asyncio"

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

    # Backend-specific parts.

    def _new_loop(self) -> asyncio.AbstractEventLoop:
        return asyncio.new_event_loop()

    def _serve(self) -> None:
        loop = self._new_loop()
        self._loop = loop
        self._tasks: set[asyncio.Task[None]] = set()
        self._ready.set()
        try:
            loop.run_forever()
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
        """The asyncio (or uvloop) loop this thread runs, once started; ``None`` on trio."""
        return getattr(self, "_loop", None)

    def call_soon(self, callback: Callable[[Unpack[_Ts]], object], *args: *_Ts) -> None:
        """Schedule ``callback(*args)`` on the loop from any thread.

        :raises RuntimeError: the loop has stopped.
        """
        self._loop.call_soon_threadsafe(callback, *args)

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
        """Start ``fn()`` as a bare task (loop thread only); return a function that cancels it.

        Cheaper than :meth:`spawn` (no done callbacks, so no extra loop iteration): ``fn`` must
        catch its own errors, and the caller must keep the returned function while the task
        runs. A task cancelled before its first step never runs ``fn`` at all.
        """
        return self._loop.create_task(fn()).cancel  # type: ignore[return-value]

    def new_event(self) -> Event:
        """Return a new native event, to be set and awaited on the loop only."""
        return asyncio.Event()


class _UvloopLoopThread(LoopThread):
    """A :class:`LoopThread` whose asyncio loop is uvloop's."""

    backend = "uvloop"

    def _new_loop(self) -> asyncio.AbstractEventLoop:
        import uvloop

        return uvloop.new_event_loop()


class _TrioLoopThread(LoopThread):
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


#: The loop class of each backend.
LOOP_CLASSES: dict[str, type[LoopThread]] = {
    "asyncio": LoopThread,
    "uvloop": _UvloopLoopThread,
    "trio": _TrioLoopThread,
}
