"""Call async code from the sync code of a bridge request: :func:`await_`.

A legacy view (Flask, Django) calls ``bridge.await_(coro)`` to run a coroutine on an event loop
bridge already runs, and gets its result, so it can share an async HTTP client or database pool
with the ASGI side of the same process.

Which loop
==========
1. **Inside a request served by** :class:`~bridge.WsgiToAsgi`: the server's own loop, the one
   running that request. The runner put the request's :class:`~bridge._runners.Link` in
   :data:`~bridge._runners.CURRENT_LINK` for the length of the app call (its ``close()``
   included). Thread runner: the worker thread hands the coroutine to the loop and blocks until
   it ends. Greenlet runner: the request greenlet switches to the loop, which serves other
   requests until the coroutine ends.
2. **Otherwise, from a thread of a process whose private loop runs** (an
   :class:`~bridge.AsgiToWsgi` has started: a request reached it, or its ``startup()`` ran; e.g.
   a WSGI app behind ``router.wsgi``): that loop, the one that ran the ASGI apps' lifespan, so
   resources made there can be used. The calling thread blocks until the coroutine ends. If
   both an asyncio and a trio private loop run, which one is meant is ambiguous: it raises.
3. **Otherwise** (no bridge request, no private loop: a plain WSGI server, a script) it raises.

It never blocks a loop on itself: called on a thread that runs an event loop (async code, or
sync code that async code called), it raises instead of deadlocking. In every refusal, a
coroutine that was never started is closed, so Python does not warn that it was never awaited.

The coroutine is not cancelled when the request is (a client that leaves, a server shutting
down): it runs to its end, as every wait of the sync side does. Bound it inside, e.g. with
``asyncio.timeout`` or ``anyio.fail_after``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from ._errors import ApplicationError, BridgeError
from ._private_loop import REGISTRY, LoopThread
from ._runners import CURRENT_LINK

__all__ = ["await_"]

_T = TypeVar("_T")
_CREATED = inspect.CORO_CREATED


def await_(awaitable: Awaitable[_T], /) -> _T:
    """Run ``awaitable`` on the event loop of the current bridge request and return its result.

    See the module docstring for which loop that is, and when there is none.

    :param awaitable: a coroutine (or any awaitable) to run to its end.
    :raises ApplicationError: not inside a bridge request, with no private loop to use, or
        called on a thread that runs an event loop (use ``await`` there).
    :raises BridgeError: the private loop stopped before the coroutine ended.
    :raises BaseException: whatever the awaitable raised.
    """
    try:
        return _dispatch(awaitable)
    except BaseException:
        if inspect.iscoroutine(awaitable) and inspect.getcoroutinestate(awaitable) == _CREATED:
            awaitable.close()  # refused before it started: no "never awaited" warning
        raise


def _dispatch(awaitable: Awaitable[_T]) -> _T:
    link = CURRENT_LINK.get(None)
    if link is not None and link.in_own_greenlet():
        return link.call(partial(_await, awaitable))
    if _runs_an_event_loop():
        raise ApplicationError(
            "await_() was called on a thread that runs an event loop (from async code, or sync "
            "code that async code called); use 'await' there: blocking the loop until the "
            "coroutine ends would deadlock it"
        )
    if link is not None:
        return link.call(partial(_await, awaitable))
    return _run_on(_private_loop(), awaitable)


async def _await(awaitable: Awaitable[_T]) -> _T:
    return await awaitable


def _runs_an_event_loop() -> bool:
    """Whether an asyncio or trio loop runs on this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        trio = sys.modules.get("trio")
        return trio is not None and bool(trio.lowlevel.in_trio_run())
    return True


def _private_loop() -> LoopThread:
    loops = REGISTRY.running()
    if not loops:
        raise ApplicationError(
            "await_() was called outside a bridge request: call it from WSGI code served by "
            "bridge.WsgiToAsgi, or from a WSGI thread of a process where a bridge.AsgiToWsgi "
            "(or router.wsgi) has started its event loop (call its startup() first)"
        )
    if len(loops) > 1:
        backends = ", ".join(loop.backend for loop in loops)
        raise ApplicationError(
            f"await_() cannot tell which private event loop to use: {backends} are running; "
            "use one AsgiToWsgi backend per process"
        )
    return loops[0]


class _Call(concurrent.futures.Future[Any]):
    """One coroutine handed to a private loop; the calling thread waits for its result."""

    def loop_stopped(self) -> None:
        """Fail the wait: the loop ended before the coroutine did (the loop's ``Waiter``)."""
        error = BridgeError("the private event loop stopped before the coroutine ended")
        self._settle(self.set_exception, error)

    async def settle(self, awaitable: Awaitable[Any]) -> None:
        """Run on the loop: await ``awaitable`` and hand over its outcome."""
        try:
            result = await awaitable
        except Exception as exc:
            self._settle(self.set_exception, exc)
        except BaseException:  # the loop is stopping and cancels its tasks
            self.loop_stopped()
            raise
        else:
            self._settle(self.set_result, result)

    @staticmethod
    def _settle(method: Callable[[Any], None], value: object) -> None:
        with contextlib.suppress(concurrent.futures.InvalidStateError):  # the first one wins
            method(value)


def _run_on(loop: LoopThread, awaitable: Awaitable[_T]) -> _T:
    """Run ``awaitable`` as a task of the private ``loop`` and block until it ends."""
    call = _Call()
    loop.waiting.add(call)
    try:
        try:
            loop.call_soon(loop.spawn, partial(call.settle, awaitable), call.loop_stopped)
        except RuntimeError:
            call.loop_stopped()
        if loop.stopped:
            call.loop_stopped()  # after the loop's own sweep of its waiters
        result: _T = loop.result(call, None)
    finally:
        loop.waiting.discard(call)
    return result
