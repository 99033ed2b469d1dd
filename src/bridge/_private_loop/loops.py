"""The private event loop: one loop thread per process and backend, shared by every AsgiToWsgi.

Theory of operation
===================
A WSGI server calls the app from its own threads (one in a Gunicorn sync worker, many in gthread,
Waitress or mod_wsgi). ASGI apps need a running event loop. bridge keeps exactly one loop per
process and backend (``asyncio``, ``uvloop`` or ``trio``), running forever in a daemon thread named
``bridge-<backend>-loop``; every :class:`~bridge.AsgiToWsgi` of the process and every WSGI thread
share it.

Who may call what, from where:

==================  =================  ========================================================
method              called from        what it does
==================  =================  ========================================================
``call_soon``       any thread         schedule a plain callback on the loop (one wake-up)
``call_soon_local`` the loop thread    schedule a callback for the next loop iteration
``call_later``      the loop thread    run a callback after a delay; returns its cancel function
``spawn``           the loop thread    start a task; returns a function that cancels it
``start_task``      the loop thread    ``spawn`` without bookkeeping, for per-request tasks
``waiting``         any thread         the set of :class:`Waiter` objects a stop must fail
``new_event``       any thread         a native event, set and awaited on the loop only
``stop``            any other thread   cancel every task, stop the loop, join the thread
==================  =================  ========================================================

A thread that blocks waiting for the loop adds a :class:`Waiter` to ``waiting`` first and
checks ``stopped`` after: when the loop thread ends (stopped, or its tasks ignored cancellation)
it sets ``stopped`` and calls ``loop_stopped()`` on every waiter, so no wait outlives the loop.

Lifetime: :data:`REGISTRY` hands out :class:`Lease` objects. The first lease of a backend starts
its loop thread (lazily: never at import or in a constructor); releasing the last lease stops the
loop and joins its thread. At interpreter exit (:mod:`atexit`) every lease still held is given
its ``on_exit`` callback (each AsgiToWsgi runs its lifespan shutdown there), then every loop is
stopped and joined.

Fork: a process forked after first use (Gunicorn ``--preload``, Passenger) inherits the registry
but not the loop threads. ``os.register_at_fork(after_in_child=...)`` gives the child a fresh
lock and empty tables, and the pid recorded in the registry catches forks that bypass that hook.
The parent's loops, leases and lock are kept in a list, never used, never closed and never
garbage-collected (their destructors would close file descriptors the parent still uses), so the
child starts its own loop without acquiring any lock some parent thread may have held.

The registry is the only module-level mutable state in bridge: "one loop per process" is process
state by definition.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine
from importlib.util import find_spec
from typing import Any, Protocol, TypeVarTuple, Unpack

__all__ = ["BACKENDS", "REGISTRY", "Event", "Lease", "LoopThread", "Waiter", "resolve_backend"]

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


_LOOP_CLASSES: dict[str, type[LoopThread]] = {
    "asyncio": LoopThread,
    "uvloop": _UvloopLoopThread,
    "trio": _TrioLoopThread,
}


class Lease:
    """A claim on a running loop; the loop stops when its last lease is released."""

    def __init__(self, registry: Registry, loop: LoopThread, on_exit: Callable[[], None]) -> None:
        self.loop = loop
        self.on_exit = on_exit
        self._registry = registry

    def release(self) -> None:
        """Give the loop back; idempotent. Stops and joins the loop if this was its last lease."""
        self._registry.release(self)


class Registry:
    """The process's loop threads, by backend, with the leases that keep them running."""

    def __init__(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self._loops: dict[str, LoopThread] = {}
        self._leases: dict[Lease, None] = {}
        self._orphans: list[object] = []

    def lock(self) -> threading.RLock:
        """Return this process's registry lock (a fresh one after a fork)."""
        if self._pid != os.getpid():
            self.after_fork_in_child()
        return self._lock

    def acquire(self, backend: str, on_exit: Callable[[], None]) -> Lease:
        """Return a lease on this process's ``backend`` loop, starting the loop if needed.

        :param backend: one of :data:`BACKENDS`.
        :param on_exit: called at interpreter exit if the lease is still held then.
        """
        with self.lock():
            loop = self._loops.get(backend)
            if loop is None:
                loop = _LOOP_CLASSES[backend]()
                loop.start()
                self._loops[backend] = loop
            lease = Lease(self, loop, on_exit)
            self._leases[lease] = None
            return lease

    def running(self) -> list[LoopThread]:
        """Return this process's running loops, in :data:`BACKENDS` order (for ``await_``)."""
        with self.lock():
            return [self._loops[backend] for backend in BACKENDS if backend in self._loops]

    def release(self, lease: Lease) -> None:
        """Drop ``lease``; stop its loop (outside the lock) when no lease uses it any more."""
        with self.lock():
            if self._leases.pop(lease, False) is False:
                return
            loop = lease.loop
            last = all(other.loop is not loop for other in self._leases)
            if last and self._loops.get(loop.backend) is loop:
                del self._loops[loop.backend]
        if last:
            loop.stop()

    def after_fork_in_child(self) -> None:
        """Forget the parent's loops without touching them (see the module docstring)."""
        self._orphans.append((self._lock, self._loops, self._leases))
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self._loops = {}
        self._leases = {}

    def close_all(self) -> None:
        """Run every held lease's ``on_exit``, then stop every loop (at interpreter exit)."""
        with self.lock():
            leases = list(self._leases)
        for lease in leases:
            try:
                lease.on_exit()
            except Exception:
                _logger.exception("error while closing an AsgiToWsgi at exit")
            lease.release()
        with self.lock():
            loops = list(self._loops.values())
            self._loops.clear()
        for loop in loops:
            loop.stop()


#: The one registry of the process.
REGISTRY = Registry()
os.register_at_fork(after_in_child=REGISTRY.after_fork_in_child)
atexit.register(REGISTRY.close_all)
