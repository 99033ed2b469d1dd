"""``bridge._private_loop.asyncio_loop``: an asyncio loop run inline, in its callers' turns.

A thread that waits for the loop (``result``, a queue's ``get``, ``settle``) runs it itself until
what it waits for is there; one thread at a time holds the turn; a second thread promotes the
loop into a thread of its own (the same loop object) unless the loop is not promotable; the
loop stands still between turns. The adapter-level behaviour is in
``tests/asgi_to_wsgi/test_loop_thread.py``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import Iterator

import pytest

from bridge._private_loop.asyncio_loop import AsyncioLoop
from tests.asgi_to_wsgi.helpers import WAIT
from tests.private_loop.helpers import loop_threads

pytestmark = pytest.mark.usefixtures("no_asgi_to_wsgi_leaks")


@pytest.fixture
def inline() -> Iterator[AsyncioLoop]:
    loop = AsyncioLoop("asyncio", inline=True)
    loop.start()
    yield loop
    loop.stop()


def resolve_soon(
    loop: AsyncioLoop, value: object, delay: float = 0.0
) -> concurrent.futures.Future[object]:
    """A future that a callback on ``loop`` resolves after ``delay`` seconds of loop time."""
    future: concurrent.futures.Future[object] = concurrent.futures.Future()
    loop.call_soon(lambda: loop.call_later(delay, lambda: future.set_result(value)))
    return future


def test_start_starts_no_thread_and_the_loop_stands_still_until_waited_for(
    inline: AsyncioLoop,
) -> None:
    ran = threading.Event()
    inline.call_soon(ran.set)
    assert loop_threads() == []
    assert not ran.is_set()  # nobody runs the loop yet
    assert inline.asyncio_loop is None  # not to be lent to code that schedules and waits
    assert inline.result(resolve_soon(inline, "done"), WAIT) == "done"
    assert ran.is_set()


def test_result_runs_the_loop_in_the_waiting_thread(inline: AsyncioLoop) -> None:
    def where() -> tuple[int, bool]:
        return threading.get_ident(), inline.in_loop()

    future: concurrent.futures.Future[tuple[int, bool]] = concurrent.futures.Future()
    inline.call_soon(lambda: future.set_result(where()))
    assert inline.result(future, WAIT) == (threading.get_ident(), True)
    assert not inline.in_loop()


def test_result_times_out_and_a_later_wait_still_works(inline: AsyncioLoop) -> None:
    never: concurrent.futures.Future[object] = concurrent.futures.Future()
    with pytest.raises(TimeoutError):
        inline.result(never, 0.02)
    assert inline.result(resolve_soon(inline, 2, delay=0.01), WAIT) == 2


def test_the_loop_cannot_wait_for_itself(inline: AsyncioLoop) -> None:
    errors: list[BaseException] = []

    def nested() -> None:
        try:
            inline.result(concurrent.futures.Future(), 0.01)
        except RuntimeError as exc:
            errors.append(exc)

    inline.call_soon(nested)
    inline.result(resolve_soon(inline, None), WAIT)
    assert "cannot wait for itself" in str(errors[0])


def test_call_now_runs_at_once_when_the_turn_is_free(inline: AsyncioLoop) -> None:
    ran: list[bool] = []
    inline.call_now(lambda: ran.append(inline.in_loop()))
    assert ran == [False]  # called directly, before any turn: no loop iteration was needed


def test_queue_get_runs_the_loop_until_an_item_is_put(inline: AsyncioLoop) -> None:
    items = inline.new_queue()
    inline.call_soon(lambda: inline.call_later(0.01, lambda: items.put("item")))
    assert items.get(timeout=WAIT) == "item"
    with pytest.raises(queue.Empty):
        items.get(timeout=0.02)
    with pytest.raises(queue.Empty):
        items.get_nowait()


def test_a_second_thread_promotes_the_same_loop_into_a_thread(inline: AsyncioLoop) -> None:
    """While one thread runs the loop, another needs it: the loop moves into a thread of its
    own, the same asyncio loop, and both waits end."""
    first_loop: concurrent.futures.Future[asyncio.AbstractEventLoop] = concurrent.futures.Future()
    release: concurrent.futures.Future[None] = concurrent.futures.Future()
    results: list[object] = []

    def first() -> None:
        inline.call_soon(lambda: first_loop.set_result(asyncio.get_running_loop()))
        results.append(inline.result(release, WAIT))

    runner = threading.Thread(target=first)
    runner.start()
    loop = first_loop.result(WAIT)
    second_loop: concurrent.futures.Future[asyncio.AbstractEventLoop] = concurrent.futures.Future()
    inline.call_soon(lambda: second_loop.set_result(asyncio.get_running_loop()))
    assert inline.result(second_loop, WAIT) is loop
    assert not inline.inline
    assert inline.asyncio_loop is loop
    assert loop_threads() == ["bridge-asyncio-loop"]
    inline.call_soon(lambda: release.set_result(None))
    runner.join(WAIT)
    assert results == [None]


def test_a_loop_that_may_not_be_promoted_makes_the_second_thread_wait_its_turn() -> None:
    loop = AsyncioLoop("asyncio", inline=True, promotable=False)
    loop.start()
    entered = threading.Event()
    release: concurrent.futures.Future[None] = concurrent.futures.Future()
    runner = threading.Thread(target=lambda: loop.result(release, WAIT), name="first-waiter")
    loop.call_soon(entered.set)
    runner.start()
    assert entered.wait(WAIT)
    loop.call_soon(lambda: release.set_result(None))
    assert loop.result(resolve_soon(loop, "mine"), WAIT) == "mine"
    runner.join(WAIT)
    assert loop.inline
    loop.stop()
    assert loop_threads() == []


def test_promote_keeps_tasks_started_inline_running() -> None:
    """What lifespan started inline (a task waiting on a timer) goes on in the loop thread."""
    loop = AsyncioLoop("asyncio", inline=True)
    loop.start()
    ticked = threading.Event()

    async def ticker() -> None:
        await asyncio.sleep(0.01)
        ticked.set()

    loop.result(resolve_soon(loop, None), WAIT)
    loop.call_soon(lambda: loop.spawn(ticker))
    loop.result(resolve_soon(loop, None), WAIT)  # the task has started, its timer is armed
    assert not ticked.is_set()
    loop.promote()
    assert ticked.wait(WAIT)  # nobody waits: the loop thread ran the timer
    loop.stop()


def test_stop_inline_cancels_tasks_and_fails_the_waiters() -> None:
    loop = AsyncioLoop("asyncio", inline=True)
    loop.start()
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            cancelled.set()

    class Waiting:
        told = False

        def loop_stopped(self) -> None:
            self.told = True

    waiter = Waiting()
    loop.waiting.add(waiter)
    loop.call_soon(lambda: loop.spawn(forever))
    loop.result(resolve_soon(loop, None), WAIT)
    loop.stop()
    assert cancelled.is_set()
    assert waiter.told
    assert loop.stopped
    with pytest.raises(RuntimeError, match="has stopped"):
        loop.result(concurrent.futures.Future(), 0.01)
    loop.stop()  # idempotent
    loop.promote()  # a stopped loop is not started again
    assert loop_threads() == []
