"""``bridge._private_loop.loops``: a loop thread's timers, its task guard, stop (cancelling what
still runs) and a start that fails. Leases, exit and fork are in ``test_registry.py``."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from bridge._private_loop.asyncio_loop import AsyncioLoop
from bridge._private_loop.loops import LoopThread
from bridge._private_loop.registry import Registry
from tests.asgi_to_wsgi.helpers import WAIT

pytestmark = pytest.mark.usefixtures("no_asgi_to_wsgi_leaks")


def on_loop(loop: LoopThread, fn: Any) -> Any:
    """Run ``fn()`` on the loop thread and return its result."""
    box: list[Any] = []
    done = threading.Event()
    loop.call_soon(lambda: (box.append(fn()), done.set()))
    assert done.wait(WAIT)
    return box[0]


def test_call_later_runs_and_can_be_cancelled(backend: str) -> None:
    registry = Registry()
    lease = registry.acquire(backend, lambda: None)
    fired = threading.Event()
    cancelled_fired = threading.Event()
    on_loop(lease.loop, lambda: lease.loop.call_later(0.01, fired.set))
    cancel = on_loop(lease.loop, lambda: lease.loop.call_later(0.01, cancelled_fired.set))
    on_loop(lease.loop, cancel)
    assert fired.wait(WAIT)
    lease.release()
    assert not cancelled_fired.is_set()


def test_a_task_error_is_logged_and_the_loop_survives(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    registry = Registry()
    lease = registry.acquire(backend, lambda: None)
    done = threading.Event()

    async def broken() -> None:
        raise ZeroDivisionError

    on_loop(lease.loop, lambda: lease.loop.spawn(broken, done.set))
    assert done.wait(WAIT)
    assert on_loop(lease.loop, lambda: "alive") == "alive"
    lease.release()
    assert "unexpected error in a bridge task" in caplog.text


def test_stop_cancels_tasks_still_running(backend: str) -> None:
    """No task is left pending when a loop stops ("Task was destroyed" never appears)."""
    registry = Registry()
    lease = registry.acquire(backend, lambda: None)
    ended = threading.Event()

    async def forever() -> None:
        try:
            await lease.loop.new_event().wait()
        finally:
            ended.set()

    on_loop(lease.loop, lambda: lease.loop.spawn(forever))
    lease.release()
    assert ended.is_set()


def test_a_loop_that_cannot_start_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: LoopThread) -> None:
        raise OSError("no file descriptors")

    monkeypatch.setattr(AsyncioLoop, "_serve", broken)
    with pytest.raises(OSError, match="no file descriptors"):
        Registry().acquire("asyncio", lambda: None)
