"""Run sync code in a greenlet on the event-loop thread: :class:`GreenletRunner`.

The :class:`~.base.Runner` behind ``WsgiToAsgi(app, runner="greenlet")``. No thread
hand-off: the app runs on the loop thread itself, and only ever waits by switching to the loop.

Theory of operation
===================
Two greenlets take part in each request, both on the loop thread:

* the **loop greenlet** (the one running the event loop; the request task's code runs in it).
  :meth:`GreenletRunner.start` takes a child and switches into it, synchronously: a short
  response runs to its end right there, and the caller has nothing to await. A child that has
  to wait hands back an async function instead; the returned job's :meth:`~_Job.finish` awaits
  it, then switches back into the child with the outcome, until the job is done
  (:meth:`GreenletRunner.run` is ``start`` then ``finish``);
* the **request greenlet** (the child) runs ``func(link)``: the whole WSGI side of one request.
  ``link.call(afunc)`` switches to the loop greenlet with ``afunc`` and resumes, when switched
  back, with ``afunc()``'s result or exception; the loop serves other tasks meanwhile.
  ``link.call_soon(func)`` calls ``func`` at once: the child already runs on the loop thread,
  inside the request task's step, so nothing needs scheduling.

Reuse: creating a greenlet costs far more than switching into one, so a child whose job
returned parks itself (it switches to its parent and waits there for the next job) and goes on
a per-thread free list of at most :data:`MAX_IDLE` greenlets; :meth:`GreenletRunner.start`
takes one from there when it can. Per job, the runner sets the child's ``parent`` (the loop
greenlet that runs the job) and ``gr_context``, and resets ``gr_context`` when parking it; when
the job ends its :class:`GreenletLink` is retired and the job lets go of the child (a
greenlet's first job stays referenced from its C stack). A child whose job raised is not
reused: it ends with the exception, as it did before reuse. A dropped parked greenlet ends by
``GreenletExit`` when it is collected. Greenlets are parked only while the thread's loop runs:
the first one made on a loop starts an anchor task whose cancellation, when the loop run ends,
drops the free list on the loop's own thread (a suspended greenlet of an exited thread could
never be ended, and would keep that thread's main greenlet alive too).

The child runs in the request task's own contextvars (``gr_context`` is the task's context, as
in SQLAlchemy's ``greenlet_spawn``): the app sees the task's values, and a coroutine it awaits
sees the app's (Flask's request context included), as with the thread runner, whose coroutines
run in the worker's context. :data:`~.base.CURRENT_LINK` is set in the child for the
length of the job and reset when it ends.

Cancellation follows :meth:`~.base.Runner.run`: ``afunc`` is never interrupted (on
asyncio it runs as a task of its own, which a native ``Task.cancel()`` of the request does not
reach; on trio it is awaited in a shield); the first cancellation calls ``on_cancel`` (the
request stops its channels, so the app's waits end), the child is driven to its end (the app's
``close()`` runs), and the cancellation is re-raised.

Blocking: while the child runs (between switches) the loop runs nothing else. Every blocking
call in the app (``time.sleep``, a sync database driver) stalls every request of the loop.

A :class:`GreenletLink` used from anywhere but its own request greenlet (another thread, the
loop greenlet, another request) raises :class:`~bridge.ApplicationError` instead of switching.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio

from .._errors import ApplicationError
from .base import CURRENT_LINK, Link, Runner, Started, nothing
from .wakeups import running_on_asyncio

__all__ = ["MAX_IDLE", "GreenletLink", "GreenletRunner"]

#: How many parked request greenlets one runner keeps per thread for reuse.
MAX_IDLE = 32

_T = TypeVar("_T")


if TYPE_CHECKING:  # greenlet ships no type hints: the part used here

    class greenlet:
        dead: bool
        gr_context: contextvars.Context | None
        parent: greenlet | None

        def __init__(self, run: Callable[..., Any]) -> None: ...

        def switch(self, *args: Any) -> Any: ...

    def getcurrent() -> greenlet: ...

else:
    from greenlet import getcurrent, greenlet


class GreenletLink(Link):
    """The request greenlet's handle on the loop greenlet (see the module docstring).

    Each job is its own link (:class:`_Job`): one object per request, not two.
    """

    __slots__ = ("_child",)

    _child: greenlet | None  # the request greenlet; None once the job ended (see _Job.end)

    def call_soon(self, func: Callable[[], object]) -> None:
        """Call ``func()`` now: the request greenlet already runs on the loop thread."""
        self._check("call_soon")
        func()

    def call(self, func: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
        """Switch to the loop greenlet, which awaits ``func()``; return its result here.

        :raises ApplicationError: not called from this link's request greenlet.
        :raises BaseException: whatever ``func()`` raised.
        """
        self._check("call")
        parent = getcurrent().parent
        assert parent is not None  # the runner set it to the loop greenlet for this job
        outcome: tuple[bool, Any] = parent.switch(func)
        succeeded, value = outcome
        if not succeeded:
            raise value
        return value  # type: ignore[no-any-return]

    def in_own_greenlet(self) -> bool:
        """Whether the calling code runs in this link's request greenlet."""
        return getcurrent() is self._child

    def _check(self, method: str) -> None:
        if getcurrent() is not self._child:
            raise ApplicationError(
                f"a greenlet-mode link's {method}() was used outside its request greenlet "
                "(another thread, the event loop, or another request); "
                "only the WSGI app's own call may use it"
            )


class GreenletRunner(Runner):
    """Runs each callable in a greenlet on the event-loop thread, switching to wait.

    Nothing limits how many run at once: a waiting greenlet costs a stack, not a thread. Up to
    :data:`MAX_IDLE` finished greenlets per thread are kept for the next calls.
    """

    def __init__(self) -> None:
        self._idle = _IdleGreenlets()

    async def run(
        self,
        func: Callable[[Link], _T],
        /,
        *,
        on_cancel: Callable[[], object] = nothing,
        label: str = "",
    ) -> _T:
        """Run ``func(link)`` in a request greenlet until it returns (see the module docstring).

        :param on_cancel: makes ``func`` finish soon; called at most once, on the first
            cancellation seen while ``func`` waits.
        :raises BaseException: whatever ``func`` raised, or the cancellation.
        """
        return await self.start(func).finish(on_cancel=on_cancel)

    def start(self, func: Callable[[Link], _T], /, *, label: str = "") -> Started[_T]:
        """Run ``func(link)`` in a request greenlet until it first waits or returns.

        A short response never waits: the returned job is then :attr:`~_Job.done` and the
        caller has nothing to await.

        :raises BaseException: whatever ``func`` raised before its first wait.
        """
        idle = self._idle
        if idle.greenlets:
            child = idle.greenlets.pop()
        else:
            child = greenlet(_serve_jobs)
            if not idle.anchored:
                idle.anchor_to_running_loop()
        current = getcurrent()
        child.parent = current
        child.gr_context = current.gr_context  # the request task's context
        job: _Job[_T] = _Job(func, child, idle)
        try:
            job.request = child.switch(job)
        except BaseException:
            job.end()
            raise
        if job.done:  # the short response: the child parked itself; put it on the free list
            job.end()
        return job


class _IdleGreenlets(threading.local):
    """Parked request greenlets, per thread: a greenlet can only be switched into from its own.

    They are kept only while the thread's event loop runs. A parked greenlet is suspended, and
    only its own thread can end it (by throwing ``GreenletExit`` into it); once that thread has
    exited, the greenlet and the thread's main greenlet stay in memory for good. So the first
    greenlet made on a loop starts an *anchor*, a task that waits until the loop run ends
    (``asyncio.run``, ``anyio.run`` and ``trio.run`` cancel what is left then) and drops the
    parked greenlets, still on the loop's thread. Until the next anchor, nothing is parked.
    """

    def __init__(self) -> None:
        self.greenlets: list[greenlet] = []
        self.anchored = False
        self._anchor: asyncio.Task[None] | None = None  # asyncio keeps only a weak reference

    def park(self, child: greenlet) -> None:
        """Keep a finished child for the next job, or let it go (it ends with GreenletExit)."""
        if self.anchored and len(self.greenlets) < MAX_IDLE:
            self.greenlets.append(child)

    def anchor_to_running_loop(self) -> None:
        """Start the task that drops the parked greenlets when the running loop's run ends.

        It runs in an empty context: a copy of the request's would keep that request's
        contextvars (a tracing span, say) alive as long as the loop.
        """
        self.anchored = True
        context = contextvars.Context()
        if running_on_asyncio():
            loop = asyncio.get_running_loop()
            self._anchor = loop.create_task(self._drop_when_cancelled(), context=context)
        else:
            import trio.lowlevel  # anyio's only other backend

            trio.lowlevel.spawn_system_task(self._drop_when_cancelled, context=context)

    async def _drop_when_cancelled(self) -> None:
        try:
            await anyio.sleep_forever()
        finally:  # the loop run is ending: end the parked greenlets on their own thread
            self.anchored = False
            self._anchor = None
            self.greenlets.clear()


class _Job(GreenletLink, Started[_T]):
    """One call of ``func(link)`` handed to a request greenlet: its result once done.

    Also the link ``func`` gets (``link._child`` is the job's greenlet until the job ends), and
    the started handle :meth:`GreenletRunner.start` returns: :meth:`finish` serves the child's
    ``link.call`` requests until the job is done.
    """

    __slots__ = ("_idle", "done", "func", "request", "result")

    def __init__(self, func: Callable[[Link], _T], child: greenlet, idle: _IdleGreenlets) -> None:
        self._child = child
        self.func: Callable[[Link], _T] | None = func  # None once the job ended (see end)
        self._idle = idle  # where the child parks once the job is done
        self.done = False
        self.request: Any = None  # what the child asked the loop greenlet to await
        self.result: _T | None = None

    def end(self) -> None:
        """Retire the link; park the child if the job is done (a job that raised ended it).

        The link refuses every later use (the child may serve another request by then). Drops
        the job's references to the child and to ``func``: a greenlet's first job stays
        referenced from its C stack (the arguments of its first switch) while the greenlet
        lives, where the garbage collector cannot see it, so a job that kept its child would
        keep an unparked child alive for ever.
        """
        child, self._child = self._child, None
        self.func = None
        if self.done and child is not None:
            child.gr_context = None  # keep no request's contextvars alive
            self._idle.park(child)

    async def finish(self, *, on_cancel: Callable[[], object] = nothing) -> _T:
        """Serve the child's ``link.call`` requests until the job is done; return its result."""
        if not self.done:
            try:
                await self._wait(on_cancel)
            finally:
                self.end()
        return cast("_T", self.result)

    async def _wait(self, on_cancel: Callable[[], object]) -> None:
        cancel = _Cancellation(on_cancel)
        wait = _wait_in_task if running_on_asyncio() else _wait_shielded
        request, self.request = self.request, None
        child = self._child
        assert child is not None  # not ended: end() runs after this wait
        while not self.done:
            request = child.switch(await wait(request, cancel))
        if cancel.error is not None:  # pragma: no cover (see below)
            # Runs after a greenlet switch, which coverage's thread tracer does not follow:
            # test_native_task_cancel_waits_for_close_and_reraises (test_greenlet.py) gets here.
            raise cancel.error
        await anyio.lowlevel.checkpoint_if_cancelled()  # a cancellation the shield held back


def _serve_jobs(job: _Job[Any]) -> None:
    """A request greenlet's body: run each job switched in, parking in between.

    An exception from a job ends the greenlet (its parent, the runner, raises it); a parked
    greenlet that is dropped ends with ``GreenletExit``.
    """
    while True:
        func = job.func
        assert func is not None  # a job is switched in before it ends
        token = CURRENT_LINK.set(job)
        try:
            result = func(job)
        finally:
            CURRENT_LINK.reset(token)
        job.result = result
        job.done = True
        # Parked: hold no request's objects (a ContextVar token holds the request's context).
        del job, func, result, token
        job = cast("greenlet", getcurrent().parent).switch()


class _Cancellation:
    """The first cancellation of one :meth:`GreenletRunner.run`, and its ``on_cancel``."""

    __slots__ = ("_on_cancel", "error", "seen")

    def __init__(self, on_cancel: Callable[[], object]) -> None:
        self._on_cancel = on_cancel
        self.seen = False
        self.error: BaseException | None = None  # re-raised once the request greenlet ended

    def record(self, error: BaseException | None) -> None:
        if not self.seen:
            self.seen = True
            self.error = error
            self._on_cancel()


_Outcome = tuple[bool, Any]  # (True, result) or (False, exception), for the request greenlet


async def _wait_in_task(
    func: Callable[[], Coroutine[Any, Any, object]], cancel: _Cancellation
) -> _Outcome:
    """asyncio: run ``func()`` as a task of its own and wait for it, ignoring cancellations.

    Its own task, because a native ``Task.cancel()`` of the request gets through anyio's shield.
    The task itself puts its outcome in a box and wakes the request task (no done-callback, so
    the request resumes one loop turn after ``func()`` ends). After a first cancellation the
    wait goes on in a shield, as anyio re-delivers a cancel scope's cancellation on every turn.
    """
    loop = asyncio.get_running_loop()
    box = _OutcomeBox()
    box.task = loop.create_task(_report(func, box))  # a copy of the request task's context
    try:
        while box.outcome is None:
            box.waiter = waiter = loop.create_future()
            try:
                if cancel.seen:
                    with anyio.CancelScope(shield=True):
                        await waiter
                else:
                    await waiter
            except asyncio.CancelledError as exc:
                cancel.record(exc)
        return box.outcome
    finally:
        box.clear()  # an exception's traceback holds the box: no cycle through the outcome


class _OutcomeBox:
    """Where :func:`_report` leaves its outcome, and the future the request task waits on."""

    __slots__ = ("outcome", "task", "waiter")

    def __init__(self) -> None:
        self.outcome: _Outcome | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.task: asyncio.Task[None] | None = None  # asyncio keeps only a weak reference

    def clear(self) -> None:
        self.outcome = self.waiter = self.task = None


async def _report(func: Callable[[], Coroutine[Any, Any, object]], box: _OutcomeBox) -> None:
    """The task of :func:`_wait_in_task`: await ``func()``, box the outcome, wake the waiter."""
    try:
        box.outcome = (True, await func())
    except BaseException as exc:  # handed to the request greenlet, which raises it
        box.outcome = (False, exc)
    waiter = box.waiter
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


async def _wait_shielded(
    func: Callable[[], Coroutine[Any, Any, object]], cancel: _Cancellation
) -> _Outcome:
    """trio: await ``func()`` in a shield, which holds against every trio cancellation."""
    try:
        with anyio.CancelScope(shield=True):
            result = await func()
    except BaseException as exc:  # handed to the request greenlet, which raises it
        return False, exc
    if anyio.current_effective_deadline() == -math.inf:
        cancel.record(None)  # re-raised by the checkpoint once the greenlet ended
    return True, result
