"""``bridge._private_loop.registry``: the leases that start and stop the loops, one loop per
backend, the exit hook (``close_all``), and fork handling (the hook and the pid check)."""

from __future__ import annotations

import os
import warnings
from typing import Any

import pytest

from bridge import AsgiToWsgi
from bridge._private_loop.registry import REGISTRY, Registry
from tests.asgi_to_wsgi.helpers import make_environ, respond, run
from tests.private_loop.helpers import loop_threads

pytestmark = pytest.mark.usefixtures("no_asgi_to_wsgi_leaks")


def test_leases_share_a_loop_that_stops_with_the_last(backend: str) -> None:
    registry = Registry()
    first = registry.acquire(backend, lambda: None)
    second = registry.acquire(backend, lambda: None)
    assert first.loop is second.loop
    assert loop_threads() == [f"bridge-{backend}-loop"]
    first.release()
    first.release()  # idempotent
    assert loop_threads() == [f"bridge-{backend}-loop"]
    second.release()
    assert loop_threads() == []


def test_each_backend_has_its_own_loop() -> None:
    registry = Registry()
    leases = [registry.acquire(name, lambda: None) for name in ("asyncio", "uvloop", "trio")]
    assert loop_threads() == ["bridge-asyncio-loop", "bridge-trio-loop", "bridge-uvloop-loop"]
    for lease in leases:
        lease.release()


def test_close_all_runs_on_exit_callbacks_then_stops_loops(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """At interpreter exit (atexit): each lease's ``on_exit`` runs, even if another fails."""
    registry = Registry()
    calls: list[str] = []

    def failing() -> None:
        calls.append("failing")
        raise RuntimeError("bad exit")

    registry.acquire(backend, failing)
    registry.acquire(backend, lambda: calls.append("fine"))
    registry.close_all()
    assert calls == ["failing", "fine"]
    assert loop_threads() == []
    assert "error while closing an AsgiToWsgi at exit" in caplog.text


def test_close_all_closes_adapters_still_open(backend: str) -> None:
    """An adapter never closed is closed by the registry's atexit hook (lifespan shutdown)."""
    events: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                events.append(message["type"])
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        await respond(send)

    adapter = AsgiToWsgi(app, backend=backend)
    run(adapter)
    REGISTRY.close_all()
    assert events == ["lifespan.startup", "lifespan.shutdown"]
    adapter.close()


def test_after_fork_in_child_forgets_the_parents_loops_without_touching_them() -> None:
    registry = Registry()
    lease = registry.acquire("asyncio", lambda: None)
    parent_lock = registry._lock
    parent_lock.acquire()  # as if another parent thread held it at fork time
    try:
        registry.after_fork_in_child()
        assert registry._loops == {}
        assert registry._leases == {}
        assert registry._lock is not parent_lock
        assert lease.loop in registry._orphans[0][1].values()  # type: ignore[index]
    finally:
        parent_lock.release()
    lease.loop.stop()


def test_a_pid_change_is_detected_without_the_fork_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry()
    monkeypatch.setattr(registry, "_pid", -1)
    old = registry._lock
    assert registry.lock() is not old
    assert registry._pid == os.getpid()


def test_forked_child_starts_its_own_loop_and_lifespan(backend: str) -> None:
    """Gunicorn ``--preload``: a child forked after first use gets its own loop and startup."""
    started_in: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            scope["state"]["pid"] = os.getpid()
            started_in.append(os.getpid())
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await respond(send, b"%d:%d" % (scope["state"]["pid"], os.getpid()))

    with AsgiToWsgi(app, backend=backend) as adapter:
        parent = os.getpid()
        assert run(adapter).body == b"%d:%d" % (parent, parent)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit status
            os._exit(_child(adapter, started_in))
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert run(adapter).body == b"%d:%d" % (parent, parent)  # the parent is untouched
    assert started_in == [parent]


def _child(adapter: AsgiToWsgi, started_in: list[int]) -> int:  # pragma: no cover - child only
    import signal

    signal.alarm(30)  # bounds the parent's waitpid if anything hangs here
    try:
        child = os.getpid()
        result = run(adapter, make_environ())
        if result.body != b"%d:%d" % (child, child) or started_in[-1] != child:
            return 1
        adapter.close()
        return 0 if loop_threads() == [] else 2
    except BaseException:
        return 3
