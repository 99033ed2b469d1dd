"""``_runners``: the thread runner, its pool's lifetime, and its links back to the loop (the pool
itself: ``test_thread_pool.py``)."""

from __future__ import annotations

import os
import threading
from functools import partial

import anyio
import pytest

from bridge._runners import Link, ThreadRunner, threads
from tests.wsgi_to_asgi.helpers import eventually

pytestmark = pytest.mark.anyio


async def test_thread_runner_runs_in_a_worker_thread_and_links_back_to_the_loop() -> None:
    """The callable runs in another thread; ``call`` and ``call_soon`` reach the loop."""
    runner = ThreadRunner(max_threads=2)
    loop_thread = threading.get_ident()
    hits: list[int] = []

    async def on_loop() -> int:
        hits.append(threading.get_ident())
        return 7

    def work(link: Link) -> tuple[int, int]:
        link.call_soon(lambda: hits.append(threading.get_ident()))
        return threading.get_ident(), link.call(on_loop)

    worker, result = await runner.run(work)
    assert worker != loop_thread
    assert result == 7
    assert hits == [loop_thread, loop_thread]


def test_thread_runner_keeps_one_pool_across_loops_and_a_fresh_one_after_fork(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 3: one app object may be served by several loops (one pool, started lazily); a
    process forked after first use (Gunicorn ``--preload``) must not use its parent's pool."""
    runner = ThreadRunner(max_threads=3)
    assert runner._pool is None

    async def main() -> None:
        await runner.run(lambda link: None)
        await runner.run(lambda link: None)

    anyio.run(main, backend="asyncio")
    first = runner._pool
    anyio.run(main, backend="trio")
    assert runner._pool is first is not None
    monkeypatch.setattr(os, "getpid", lambda: first.pid + 1)  # as in a forked child
    anyio.run(main, backend="asyncio")
    assert runner._pool is not first
    monkeypatch.undo()
    first.close()
    runner.close()
    assert runner._pool is None


async def test_run_cancelled_calls_on_cancel_once_then_waits_for_the_callable() -> None:
    """Issue 3 'close() on every path': a cancelled caller stops the callable's channels
    (``on_cancel``), still waits for it to finish, then sees the cancellation."""
    runner = ThreadRunner(max_threads=1)
    entered = threading.Event()
    stop = threading.Event()
    finished: list[bool] = []
    stops: list[int] = []

    def work(link: Link) -> None:
        entered.set()
        assert stop.wait(10)  # what a channel wait does until the channel is stopped
        finished.append(True)

    def on_cancel() -> None:
        stops.append(1)
        stop.set()

    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(partial(runner.run, work, on_cancel=on_cancel))
            await eventually(entered.is_set)  # another thread's state: a bounded poll
            scope.cancel()
    assert scope.cancelled_caught
    assert finished == [True]
    assert stops == [1]
    runner.close()


async def test_a_cancelled_caller_waits_a_bounded_grace_then_lets_the_call_run_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Uvicorn's graceful-shutdown deadline cancels the request tasks: a call blocked in the
    app's own code (not in a channel ``on_cancel`` can stop) must not hold the task, and so
    the client and the server's exit, until it returns. After ``CANCEL_GRACE`` the
    cancellation goes through, a WARNING names the call, and the call ends in its thread."""
    monkeypatch.setattr(threads, "CANCEL_GRACE", 0.05)
    runner = ThreadRunner(max_threads=1)
    entered = threading.Event()
    release = threading.Event()
    finished = threading.Event()

    def blocked_in_the_app(link: Link) -> None:
        entered.set()
        assert release.wait(10)  # a slow query: on_cancel cannot end it
        finished.set()

    try:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as task_group:
                task_group.start_soon(partial(runner.run, blocked_in_the_app, label="GET /slow"))
                await eventually(entered.is_set)
                scope.cancel()
        assert scope.cancelled_caught
        assert not finished.is_set()
        assert "still running after 0.05 s: GET /slow" in caplog.text
        assert await anyio.to_thread.run_sync(partial(runner.close, timeout=0.0)) == ["GET /slow"]
    finally:
        release.set()
    assert finished.wait(10)
