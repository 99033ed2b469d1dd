"""Point asgiref's ``async_to_sync`` at a running loop: :func:`lend_loop` and :class:`Coroutines`.

Flask runs every ``async def`` view with ``asgiref.sync.async_to_sync``, and Django code calls it
directly. Called in a thread with no running loop, ``AsyncToSync`` looks for "the main event
loop" in a thread-local that asgiref's own ``SyncToAsync`` fills in the threads it runs sync
code in (``SyncToAsync.threadlocal``: ``main_event_loop``, ``main_event_loop_pid`` and
``task_context``; the same names from asgiref 3.8 to 3.13 at least). Found, it schedules the
coroutine there (``call_soon_threadsafe(loop.create_task, ...)``) and blocks the thread until it
ends, running meanwhile any ``sync_to_async`` call the coroutine makes back into this thread.
Not found, it starts a new event loop in a new thread for every call.

bridge's threads are not asgiref's, so it fills in the same three attributes itself: in a worker
thread at the start of each app call (the server's loop), and in a WSGI server's thread before
``router.wsgi`` calls a WSGI app (the private loop). That is all: asgiref's own code does the
rest, so its context-variable copying, its thread-sensitive executor and its error for a thread
that runs a loop apply unchanged.

``task_context`` is the list in which asgiref's ``main_wrap`` records the task running each
coroutine while it runs (its ``SyncToAsync`` cancels them when it is cancelled itself). bridge
gives it a :class:`Coroutines`, so a request that is cancelled, or whose client is gone, cancels
its coroutines too, and the request learns when the first one starts.

These attributes are asgiref's internals, not its API: each is feature-detected when this module
is imported, and without them nothing is set, so ``async_to_sync`` keeps its default behaviour.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Coroutines", "lend_loop", "supported"]


def _asgiref_threadlocal() -> threading.local | None:
    """The thread-local ``AsyncToSync`` reads its main loop from, or ``None`` if it moved."""
    try:
        from asgiref.sync import SyncToAsync
    except ImportError:  # pragma: no cover (asgiref is a dependency)
        return None
    found = getattr(SyncToAsync, "threadlocal", None)
    return found if isinstance(found, threading.local) else None


_THREADLOCAL: threading.local | None = _asgiref_threadlocal()


def _nothing() -> None:
    """The ``on_start`` of a request already told, or over."""


def supported() -> bool:
    """Whether the installed asgiref has the thread-local :func:`lend_loop` fills in."""
    return _THREADLOCAL is not None


class Coroutines(list["asyncio.Task[Any]"]):
    """The tasks asgiref runs one app call's coroutines in (its ``task_context``), loop side.

    asgiref's ``main_wrap`` appends its task as the coroutine starts and removes it as it ends,
    both on the loop thread. The first start calls ``on_start`` (once); :meth:`cancel` cancels
    the running ones and every later one as it starts.

    :param on_start: called on the loop when the first coroutine starts.
    """

    __slots__ = ("_on_start",)

    def __init__(self, on_start: Callable[[], object]) -> None:
        # No list.__init__: the list is empty already (one Python call less per request).
        self._on_start: Callable[[], object] | None = on_start  # None: cancelled

    def append(self, task: asyncio.Task[Any]) -> None:
        """Record a coroutine's task as it starts (asgiref calls it, on the loop thread)."""
        super().append(task)
        on_start = self._on_start
        if on_start is None:
            task.cancel()
        else:
            self._on_start = _nothing
            on_start()

    def cancel(self) -> None:
        """Cancel the coroutines running now and any that start later (loop thread)."""
        self._on_start = None
        for task in self:
            task.cancel()

    def release(self) -> None:
        """Drop ``on_start`` (it refers back to the request): the request is over."""
        if self._on_start is not None:
            self._on_start = _nothing


def lend_loop(loop: asyncio.AbstractEventLoop | None, tasks: Coroutines | None = None) -> None:
    """Make ``async_to_sync`` called in this thread run its coroutines on ``loop``.

    Call it in the thread that runs the sync code, before that code runs; it stays in force in
    this thread until the next call. A no-op when asgiref's thread-local was not found.

    :param loop: a running asyncio loop of another thread, or ``None`` for asgiref's default
        (a new loop in a new thread per call).
    :param tasks: where asgiref records the coroutines' tasks, or ``None`` to record nothing.
    """
    local = _THREADLOCAL
    if local is None:
        return
    local.task_context = tasks
    if getattr(local, "main_event_loop", None) is not loop:
        local.main_event_loop = loop
        local.main_event_loop_pid = os.getpid()  # a new loop in a forked child
