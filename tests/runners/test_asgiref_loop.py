"""``_runners.asgiref_loop``: asgiref's ``async_to_sync`` in a thread runs on the loop lent to it.

The tests drive the installed asgiref itself: what they check is that asgiref still reads the
thread-local bridge fills in. ``scripts/test`` runs them with the newest asgiref and once more
with the oldest ``pyproject.toml`` allows (3.8).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from bridge._runners import asgiref_loop
from bridge._runners.asgiref_loop import Coroutines, lend_loop

pytestmark = pytest.mark.anyio
VAR: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # asgiref's coroutines run on asyncio only


async def run_in_thread(func: Callable[[], Any]) -> Any:
    """Run ``func`` in a new thread (whose thread-local nothing else shares) and return what it
    returned, or raise what it raised."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[tuple[bool, Any]] = loop.create_future()

    def target() -> None:
        try:
            outcome = (True, func())
        except BaseException as exc:
            outcome = (False, exc)
        loop.call_soon_threadsafe(done.set_result, outcome)

    thread = threading.Thread(target=target)
    thread.start()
    try:
        succeeded, value = await asyncio.wait_for(done, 10)
    finally:
        thread.join(10)
    if not succeeded:
        raise value
    return value


async def test_async_to_sync_runs_on_the_lent_loop_and_records_its_task() -> None:
    """asgiref schedules the coroutine on the lent loop, copies contextvars both ways, and
    records its task in the Coroutines it was given (the first start calls ``on_start``)."""
    loop = asyncio.get_running_loop()
    started: list[str] = []
    coroutines = Coroutines(lambda: started.append("started"))
    seen: list[Any] = []

    async def coroutine() -> str:
        seen.append((asyncio.get_running_loop(), VAR.get(), list(coroutines)))
        VAR.set("set by the coroutine")
        return "done"

    def sync_code() -> tuple[str, str]:
        lend_loop(loop, coroutines)
        VAR.set("set by the sync code")
        first = async_to_sync(coroutine)()
        async_to_sync(coroutine)()
        return first, VAR.get()

    assert await run_in_thread(sync_code) == ("done", "set by the coroutine")
    values = [(found, value) for found, value, _ in seen]
    assert values == [(loop, "set by the sync code"), (loop, "set by the coroutine")]
    assert all(len(tasks) == 1 for _, _, tasks in seen)
    assert (started, list(coroutines)) == (["started"], [])


async def test_cancel_cancels_running_and_later_coroutines() -> None:
    loop = asyncio.get_running_loop()
    coroutines = Coroutines(lambda: None)
    running = threading.Event()

    async def waits() -> None:
        loop.call_soon(coroutines.cancel)  # cancelled once it runs
        running.set()
        await asyncio.sleep(10)

    def sync_code() -> list[str]:
        lend_loop(loop, coroutines)
        outcomes = []
        for _ in range(2):
            try:
                async_to_sync(waits)()
            except asyncio.CancelledError:
                outcomes.append("cancelled")
        return outcomes

    assert await run_in_thread(sync_code) == ["cancelled", "cancelled"]
    assert running.is_set()


async def test_lend_loop_none_gives_asgirefs_own_loop_back() -> None:
    """A thread that ran an asyncio request, then a trio one: asgiref makes its own loop."""
    loop = asyncio.get_running_loop()

    async def where() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def sync_code() -> bool:
        lend_loop(loop, Coroutines(lambda: None))
        lend_loop(None)
        return async_to_sync(where)() is loop

    assert await run_in_thread(sync_code) is False


async def test_without_asgirefs_thread_local_nothing_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An asgiref whose internals moved: asgiref's default behaviour stays, no crash."""
    monkeypatch.setattr(asgiref_loop, "_THREADLOCAL", None)
    loop = asyncio.get_running_loop()

    async def where() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def sync_code() -> bool:
        lend_loop(loop, Coroutines(lambda: None))
        return async_to_sync(where)() is loop

    assert asgiref_loop.supported() is False
    assert await run_in_thread(sync_code) is False
