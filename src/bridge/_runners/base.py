"""The contract between an adapter and a runner: :class:`Runner`, :class:`Started`, :class:`Link`.

See the package docstring (:mod:`bridge._runners`) for how they work together.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

from .asgiref_loop import Coroutines
from .wakeups import CallGate, Gate

__all__ = ["CURRENT_LINK", "Link", "Runner", "Started", "nothing", "run_linked"]

_T = TypeVar("_T")


def nothing() -> None:
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
        """A new :class:`~.wakeups.Gate` for the sync side to block on until the loop opens it.

        The default waits through :meth:`call`; links of worker threads return a cheaper one.
        """
        return CallGate(self.call)

    def host_async_to_sync(self, coroutines: Coroutines) -> None:
        """Make asgiref's ``async_to_sync``, called by the sync side, run on this link's loop.

        Called by the sync side before it runs the app (see :mod:`.asgiref_loop`); asgiref
        records each coroutine's task in ``coroutines``. The default does nothing, which leaves
        asgiref's own behaviour: a link whose sync side runs on the loop thread (the greenlet
        runner) cannot block there, and asgiref refuses with its own ``RuntimeError``.
        """
        return  # not abstract: the greenlet link keeps this default

    def in_own_greenlet(self) -> bool:
        """Whether the caller is this link's sync side running in a greenlet on the loop thread.

        Then :meth:`call` switches to the loop rather than blocking a thread that runs one, so
        ``bridge.await_`` may use it there. A worker thread's link says ``False``.
        """
        return False


class Runner(abc.ABC):
    """Runs sync callables beside the running event loop."""

    @abc.abstractmethod
    async def run(
        self,
        func: Callable[[Link], _T],
        /,
        *,
        on_cancel: Callable[[], object] = nothing,
        label: str = "",
    ) -> _T:
        """Run ``func(link)`` beside the loop and return its result once it finishes.

        The caller waits for ``func`` even when cancelled, by a cancel scope or by a native
        asyncio ``Task.cancel()`` (a thread cannot be killed, and the app's ``close()`` must
        run): on the first cancellation ``run`` calls ``on_cancel()`` on the loop (the caller
        stops the channels ``func`` may be blocked on, so ``func`` ends promptly), keeps waiting
        for ``func`` while ignoring further cancellations, then re-raises the first one. A
        runner with threads bounds that wait (a call blocked in the app's own code goes on in
        its thread, where it still ends with the app's ``close()``). A ``func`` that has not
        started yet when cancelled is never started.

        :param on_cancel: makes ``func`` finish soon; called at most once, on the loop thread.
        :param label: how logs name the call (the request's method and path).
        :raises BaseException: whatever ``func`` raised, or the cancellation.
        """

    def start(self, func: Callable[[Link], _T], /, *, label: str = "") -> Started[_T]:
        """Begin ``func(link)`` now if this runner can without waiting; finish it later.

        A runner that runs ``func`` on the loop thread (the greenlet runner) runs it here until
        it first has to wait, and often to its end: then :attr:`Started.done` is true and the
        caller needs no helper task to wait for it. The default starts nothing: the returned
        handle's :meth:`~Started.finish` is :meth:`run`.

        :param label: how logs name the call (see :meth:`run`).
        :raises BaseException: whatever ``func`` raised, when it raised before its first wait.
        """
        return _NotStarted(self, func, label)

    async def aclose(self, *, grace: float | None = None) -> list[str]:
        """Wait until every callable started by :meth:`run` has finished (server shutdown).

        The default has nothing to wait for; a runner with threads waits for them.

        :param grace: seconds to wait at most (``None``: no limit).
        :returns: the labels of the callables still running when the wait ended.
        """
        return []  # a default for runners without threads, not an abstract method


class Started(abc.ABC, Generic[_T]):
    """A callable begun by :meth:`Runner.start`; :meth:`finish` waits for it and returns its result.

    The caller must call :meth:`finish` unless :attr:`done` is true.
    """

    __slots__ = ()

    #: Whether the callable has returned: :meth:`finish` will not wait.
    done: bool

    @abc.abstractmethod
    async def finish(self, *, on_cancel: Callable[[], object] = nothing) -> _T:
        """Wait for the callable as :meth:`Runner.run` does, and return its result.

        :raises BaseException: whatever the callable raised, or the cancellation.
        """


class _NotStarted(Started[_T]):
    """What the default :meth:`Runner.start` returns: :meth:`finish` runs the callable."""

    __slots__ = ("_func", "_label", "_runner")

    done = False

    def __init__(self, runner: Runner, func: Callable[[Link], _T], label: str) -> None:
        self._runner = runner
        self._func = func
        self._label = label

    async def finish(self, *, on_cancel: Callable[[], object] = nothing) -> _T:
        return await self._runner.run(self._func, on_cancel=on_cancel, label=self._label)


#: The link of the sync callable running in this context (how ``bridge.await_`` finds its loop).
CURRENT_LINK: ContextVar[Link] = ContextVar("bridge.link")


def run_linked(func: Callable[[Link], _T], link: Link) -> _T:
    """Return ``func(link)``, with ``link`` in :data:`CURRENT_LINK` (sync side, own context)."""
    CURRENT_LINK.set(link)  # the sync side's context is a copy: nothing to reset
    return func(link)
