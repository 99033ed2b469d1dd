"""``bridge._asgi_to_wsgi.runtime``: what one AsgiToWsgi owns in one process, and ``close()``.

The loop shared by every adapter of a process, ``close()`` (idempotent, starting nothing before
first use, waiting for background work, then cancelling what still runs after
``shutdown_timeout``, bounded even for a task that ignores its cancellation) and the requests
that reach a closing or closed adapter.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from bridge import AsgiToWsgi, ServerError
from bridge._private_loop import REGISTRY
from tests.asgi_to_wsgi.helpers import (
    WAIT,
    Gate,
    Result,
    hello,
    loop_barrier,
    make_environ,
    respond,
    respond_ok,
    run,
)

pytestmark = pytest.mark.usefixtures("no_asgi_to_wsgi_leaks")


# --- close, context manager ---------------------------------------------------------------


def test_close_is_idempotent_and_a_closed_adapter_refuses_requests(backend: str) -> None:
    adapter = AsgiToWsgi(hello, lifespan="off", backend=backend)
    assert run(adapter).body == b"hello"
    adapter.close()
    adapter.close()
    with pytest.raises(ServerError, match="was closed"):
        adapter(make_environ(), lambda *args: None)
    with pytest.raises(ServerError, match="was closed"):
        adapter.startup()


def test_close_before_first_use_starts_nothing() -> None:
    adapter = AsgiToWsgi(hello)
    adapter.close()
    assert REGISTRY._loops == {}


def test_adapters_share_one_loop_per_backend() -> None:
    """One loop thread per process (and backend), shared by every adapter."""
    with AsgiToWsgi(hello, lifespan="off") as one, AsgiToWsgi(hello, lifespan="off") as two:
        run(one)
        run(two)
        names = [t.name for t in threading.enumerate() if t.name.startswith("bridge-")]
        assert names == [f"bridge-{one.options.backend}-loop"]
        assert one._slot.runtime.loop is two._slot.runtime.loop  # type: ignore[union-attr]
        one.close()
        assert run(two).body == b"hello"


# --- draining the requests still running --------------------------------------------------


def test_close_waits_for_background_work(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Background work is awaited at shutdown: close() returns once it finished."""
    gate = Gate()
    outcome: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await respond(send)
        try:
            await gate.wait()
            outcome.append("finished")
        except BaseException:
            outcome.append("cancelled")
            raise

    adapter = AsgiToWsgi(app, lifespan="off", backend=backend)
    run(adapter)
    runtime = adapter._slot.runtime
    watch = runtime._watch_drain  # type: ignore[union-attr]

    def watch_then_open(drained: Any) -> None:
        watch(drained)
        gate.open()  # only now: close() is already waiting

    monkeypatch.setattr(runtime, "_watch_drain", watch_then_open)
    adapter.close()
    assert outcome == ["finished"]


def test_close_cancels_requests_still_running_after_shutdown_timeout(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """close() bounds its wait; a request it cancels is answered (500), not left hanging."""
    started = threading.Event()
    results: list[Result] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        started.set()
        await Gate().wait()

    adapter = AsgiToWsgi(app, lifespan="off", backend=backend, shutdown_timeout=0.05)
    client = threading.Thread(target=lambda: results.append(run(adapter)))
    client.start()
    assert started.wait(WAIT)
    adapter.close()
    client.join(WAIT)
    assert results[0].status == "500 Internal Server Error"
    assert "the adapter closed" in str(results[0].error)
    assert "cancelling 1 request task(s)" in caplog.text


def test_requests_reaching_a_closing_adapter_are_refused(backend: str) -> None:
    adapter = AsgiToWsgi(respond_ok, lifespan="off", backend=backend)
    run(adapter)
    runtime = adapter._slot.runtime
    assert runtime is not None
    runtime.loop.call_soon(setattr, runtime, "closing", True)
    loop_barrier(adapter)
    result = run(adapter)
    assert result.status == "500 Internal Server Error"
    assert "is closing" in str(result.error)
    adapter.close()


def test_close_gives_up_on_a_task_that_ignores_cancellation(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """close() is bounded even if the app swallows its cancellation (asyncio only can)."""
    import asyncio

    monkeypatch.setattr("bridge._asgi_to_wsgi.runtime._CANCEL_WAIT", 0.05)
    swallowed = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await respond(send)
        try:
            await Gate().wait()
        except asyncio.CancelledError:
            swallowed.set()
            await Gate().wait()  # the loop's own stop() cancels this one

    adapter = AsgiToWsgi(app, lifespan="off", shutdown_timeout=0.05)
    run(adapter)
    adapter.close()
    assert swallowed.is_set()
    assert "requests still running after being cancelled" in caplog.text
