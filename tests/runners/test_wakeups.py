"""``bridge._runners.wakeups``: :class:`Signal` (wakes tasks) and the gates the sync side blocks
on (:class:`ThreadGate` for worker threads, :class:`CallGate` through ``link.call``), driven with
a real worker thread (the sync side) and the test's task (the loop side)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import anyio.to_thread
import pytest

from bridge._runners import Link
from bridge._runners.wakeups import CallGate, Signal
from tests.runners.helpers import CountingGate
from tests.wsgi_to_asgi.helpers import eventually

pytestmark = pytest.mark.anyio


async def test_signal_wakes_every_current_waiter_and_is_reusable() -> None:
    signal = Signal()
    woken: list[int] = []
    signal.notify()  # nobody waits: a no-op

    async def waiter(n: int) -> None:
        await signal.wait()
        woken.append(n)

    for _ in range(2):
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(waiter, 1)
            task_group.start_soon(waiter, 2)
            await anyio.wait_all_tasks_blocked()
            signal.notify()
    assert sorted(woken) == [1, 1, 2, 2]


async def test_thread_gate_remembers_one_open_and_blocks_until_opened() -> None:
    gate = CountingGate()
    gate.open()
    gate.open()  # already open: remembered once, not twice
    gate.wait()  # returns at once
    assert gate._lock.locked()  # closed again: the second open was not remembered
    passed = threading.Event()

    def waiter() -> None:
        gate.wait()
        passed.set()

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(anyio.to_thread.run_sync, waiter)
        await eventually(lambda: gate.sleeping)
        assert not passed.is_set()
        gate.open()
    assert passed.is_set()


async def test_call_gate_waits_through_link_call_until_opened() -> None:
    """The default gate (greenlet links): ``wait`` hands a coroutine to ``link.call``."""
    calls: list[Callable[[], Coroutine[Any, Any, Any]]] = []

    class RecordingLink(Link):
        def call_soon(self, func: Callable[[], object]) -> None:
            func()

        def call(self, func: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
            calls.append(func)

    gate = RecordingLink().gate()
    assert isinstance(gate, CallGate)
    gate.open()
    gate.wait()  # open: no call
    assert calls == []
    gate.wait()  # closed again: waits through the link
    assert len(calls) == 1
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(calls[0])
        await anyio.wait_all_tasks_blocked()
        gate.open()  # ends the wait
