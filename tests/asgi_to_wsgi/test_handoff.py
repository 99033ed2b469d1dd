"""AsgiToWsgi edge races: the loop stopping under a waiting WSGI thread, ``request_timeout``
during a slow ``wsgi.input`` read, and the hand-off cost.

No WSGI thread may wait forever on a loop that is gone. Iterables dropped without ``close()``
are in ``test_response_body.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import pytest

import bridge._asgi_to_wsgi.runtime
import bridge._private_loop.asyncio_loop
from bridge import AsgiToWsgi
from bridge._asgi_to_wsgi.app_task import AppTask
from bridge._asgi_to_wsgi.handoff import Handoff, Item, Start
from tests.asgi_to_wsgi.helpers import (
    TEXT,
    WAIT,
    Gate,
    RecordingInput,
    Result,
    make_environ,
    read_body,
    respond_ok,
    run,
    start,
)

pytestmark = pytest.mark.usefixtures("no_asgi_to_wsgi_leaks")


def wait_for_waiter(adapter: AsgiToWsgi) -> None:
    """Wait (bounded) until a WSGI thread blocks in the adapter's loop ``waiting`` set."""
    runtime = adapter._slot.runtime
    assert runtime is not None
    stopped = threading.Event()
    for _ in range(int(WAIT / 0.01)):
        if runtime.loop.waiting:
            return
        stopped.wait(0.01)
    raise AssertionError("no WSGI thread ever waited on the loop")


# --- the loop stops while a WSGI thread waits ------------------------------------------------


def test_request_whose_task_never_started_fails_when_the_loop_stops(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: a request passed the ready check, then the last close() stopped the loop
    before the loop ran its ``begin``. Its WSGI thread gets a 500, never a hang."""
    adapter = AsgiToWsgi(respond_ok, lifespan="off", backend=backend)
    run(adapter)  # the loop runs
    monkeypatch.setattr(AppTask, "begin", lambda self: None)  # the loop never gets to it
    results: list[Result] = []
    client = threading.Thread(target=lambda: results.append(run(adapter)))
    client.start()
    wait_for_waiter(adapter)
    adapter.close()
    client.join(WAIT)
    assert not client.is_alive()
    assert results[0].status == "500 Internal Server Error"
    assert "event loop stopped" in str(results[0].error)


def test_waiting_after_the_loop_stopped_fails_at_once(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A WSGI thread that starts waiting after the loop's last sweep sees ``stopped`` itself."""
    adapter = AsgiToWsgi(respond_ok, lifespan="off", backend=backend)
    run(adapter)
    runtime = adapter._slot.runtime
    assert runtime is not None
    monkeypatch.setattr(AppTask, "begin", lambda self: None)
    monkeypatch.setattr(runtime.loop, "stopped", True)  # as if the sweep had just run
    results: list[Result] = []
    client = threading.Thread(target=lambda: results.append(run(adapter)), daemon=True)
    client.start()
    client.join(WAIT)
    assert not client.is_alive()
    result = results[0]
    assert result.status == "500 Internal Server Error"
    assert "event loop stopped" in str(result.error)
    monkeypatch.undo()
    adapter.close()


def test_streaming_task_that_ignores_cancellation_cannot_hang_its_thread(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A task that swallows every cancellation outlives the loop: its reader gets ServerError."""
    monkeypatch.setattr(bridge._asgi_to_wsgi.runtime, "_CANCEL_WAIT", 0.05)
    monkeypatch.setattr(bridge._private_loop.asyncio_loop, "_STOP_GRACE", 0.05)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": TEXT})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        while True:
            with contextlib.suppress(asyncio.CancelledError):  # a badly behaved app
                await asyncio.sleep(3600)

    adapter = AsgiToWsgi(app, lifespan="off", shutdown_timeout=0.05)
    raised: list[BaseException] = []
    _, iterable = start(adapter, make_environ(), validate=False)
    assert next(iterable) == b"first"

    def read_on() -> None:
        try:
            next(iterable)
        except BaseException as exc:
            raised.append(exc)

    reader = threading.Thread(target=read_on)
    reader.start()
    wait_for_waiter(adapter)
    adapter.close()
    reader.join(WAIT)
    assert not reader.is_alive()
    assert isinstance(raised[0], bridge.ServerError)
    # Which of the two ends the reader sees first depends on timing: the adapter giving up on
    # the task, or the loop stopping under it.
    message = str(raised[0])
    assert "event loop stopped" in message or "the adapter closed" in message, message
    iterable.close()


# --- request_timeout and a slow wsgi.input -----------------------------------------------------


class SlowInput(RecordingInput):
    """A ``wsgi.input`` whose reads take ``delay`` seconds, like a client trickling its upload."""

    def __init__(self, data: bytes, delay: float) -> None:
        super().__init__(data)
        self._delay = delay

    def read(self, size: int = -1) -> bytes:
        threading.Event().wait(self._delay)
        return super().read(size)


def test_request_timeout_is_checked_once_a_slow_read_returns(backend: str) -> None:
    """A blocking ``wsgi.input.read()`` cannot be interrupted; the deadline applies after it."""
    cancelled = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            await read_body(receive)
            await Gate().wait()
        finally:
            cancelled.set()

    stream = SlowInput(b"x" * 10, delay=0.3)
    with AsgiToWsgi(app, lifespan="off", backend=backend, request_timeout=0.1) as adapter:
        result = run(adapter, make_environ("POST", body=stream, content_length=10))
        assert result.status == "504 Gateway Timeout"
        assert stream.reads == [10]  # the read ran to its end
        assert cancelled.wait(WAIT)


# --- the hand-off cost ---------------------------------------------------------------------------


def test_short_response_is_one_call_soon_and_one_queue_item(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most two thread wake-ups: one ``call_soon`` to the loop, one item back."""
    adapter = AsgiToWsgi(respond_ok, lifespan="off", backend=backend)
    run(adapter)
    runtime = adapter._slot.runtime
    assert runtime is not None
    calls: list[object] = []
    items: list[Item] = []
    call_soon = runtime.loop.call_soon
    monkeypatch.setattr(runtime.loop, "call_soon", lambda *a: (calls.append(a), call_soon(*a)))
    put = Handoff.put

    def record_item(self: Handoff, item: Item) -> None:
        items.append(item)
        put(self, item)

    monkeypatch.setattr(Handoff, "put", record_item)
    result = run(adapter)
    monkeypatch.undo()
    assert result.body == b"ok"
    assert len(calls) == 1
    assert [type(item) for item in items] == [Start]  # one item: start and body together
    adapter.close()
