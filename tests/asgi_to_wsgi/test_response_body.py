"""``bridge._asgi_to_wsgi.response_body``: the PEP 3333 response iterable of a streamed response.

Each chunk is yielded as soon as the app sends it; small chunks the app has already sent are
joined (and what follows them, a failure or a file, comes after their bytes); ``close()`` before
the response ended tells the app the client left, and so does an iterable the server drops
without calling ``close()`` (PEP 3333 says servers must call it; a broken one must still leave
no task pending). ASGI HTTP 2.4: after the client disconnects ``receive()`` returns
``http.disconnect`` and ``send()`` raises an ``OSError``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from bridge import AsgiToWsgi, ClientDisconnected
from tests.asgi_to_wsgi.helpers import (
    TEXT,
    WAIT,
    Gate,
    RecordingInput,
    collect_dropped,
    loop_barrier,
    make_environ,
    read_body,
    running_app_tasks,
    start,
)

pytestmark = pytest.mark.usefixtures("no_asgi_to_wsgi_leaks")


# --- streaming and joining small chunks ---------------------------------------------------


def test_response_chunks_are_yielded_as_soon_as_the_app_sends_them(backend: str) -> None:
    """Streaming (SSE): each ``http.response.body`` is yielded before the app sends the next."""
    gates = [Gate(), Gate()]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for number, gate in enumerate(gates):
            await send({"type": "http.response.body", "body": b"e%d" % number, "more_body": True})
            await gate.wait()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        recorder, iterable = start(adapter, make_environ())
        assert recorder.status == "200 OK"
        assert next(iterable) == b"e0"
        gates[0].open()
        assert next(iterable) == b"e1"
        gates[1].open()
        assert list(iterable) == []
        iterable.close()


SSE_HEADERS = [(b"content-type", b"text/event-stream")]


def test_small_chunks_already_sent_are_yielded_together(backend: str) -> None:
    """SSE and other small writes: what the app has already sent is handed to the server as
    one block (fewer writes), and nothing waits for a chunk the app has not sent yet."""
    gate = Gate()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        for event in (b"e1", b"e2", b"e3", b"e4"):
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await gate.wait()
        await send({"type": "http.response.body", "body": b"e5", "more_body": False})

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        _, iterable = start(adapter, make_environ())
        loop_barrier(adapter)  # the app has sent e1..e4 and waits
        assert next(iterable) == b"e1"  # came with the start
        assert next(iterable) == b"e2e3e4"
        gate.open()
        assert list(iterable) == [b"e5"]
        iterable.close()


def test_an_app_error_after_small_chunks_comes_after_them(backend: str) -> None:
    """Joining never loses bytes: the chunks sent before the app failed are yielded first, then
    the failure reaches the server (which aborts the response it had started)."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        for event in (b"e1", b"e2", b"e3"):
            await send({"type": "http.response.body", "body": event, "more_body": True})
        raise RuntimeError("boom after three events")

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        _, iterable = start(adapter, make_environ())
        loop_barrier(adapter)  # the app has sent everything and failed
        assert next(iterable) == b"e1"
        assert next(iterable) == b"e2e3"
        with pytest.raises(RuntimeError, match="boom after three events"):
            next(iterable)
        iterable.close()


def test_a_file_sent_after_small_chunks_follows_them(backend: str, tmp_path: Path) -> None:
    """An ``http.response.pathsend`` queued behind small chunks is served after their bytes."""
    tail = tmp_path / "tail.bin"
    tail.write_bytes(b"TAIL" * 10)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        for event in (b"e1", b"e2", b"e3"):
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.pathsend", "path": str(tail)})

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        _, iterable = start(adapter, make_environ())
        loop_barrier(adapter)
        assert next(iterable) == b"e1"
        assert next(iterable) == b"e2e3"
        assert b"".join(iterable) == b"TAIL" * 10
        iterable.close()


def test_a_body_read_failing_while_chunks_are_joined_comes_after_them(backend: str) -> None:
    """The app asks for the request body behind small chunks; the read fails (the client
    left): the chunks are yielded, then the failure, and the app sees ``http.disconnect``."""
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        for event in (b"e1", b"e2"):
            await send({"type": "http.response.body", "body": event, "more_body": True})
        seen.append((await receive())["type"])

    stream = RecordingInput(fail=True)
    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        _, iterable = start(adapter, make_environ("POST", body=stream, content_length=10))
        loop_barrier(adapter)  # e2 and the app's request for the body are queued
        assert next(iterable) == b"e1"
        assert next(iterable) == b"e2"
        with pytest.raises(ClientDisconnected, match="reading the request body failed"):
            next(iterable)
        iterable.close()
        loop_barrier(adapter)
    assert seen == ["http.disconnect"]


# --- close(), and the iterable dropped without close() ------------------------------------


def test_early_close_gives_http_disconnect_and_send_raises_oserror(backend: str) -> None:
    """ASGI 2.4: after the server closed the iterable early, ``send()`` raises ``OSError``."""
    seen: list[Any] = []
    done = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            seen.append(await receive())
            await send({"type": "http.response.start", "status": 200, "headers": TEXT})
            await send({"type": "http.response.body", "body": b"event", "more_body": True})
            seen.append(await receive())
            try:
                await send({"type": "http.response.body", "body": b"lost", "more_body": True})
            except OSError as exc:
                seen.append(exc)
        finally:
            done.set()

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        _, iterable = start(adapter, make_environ())
        assert next(iterable) == b"event"
        iterable.close()
        assert done.wait(WAIT)
        assert running_app_tasks(adapter) == 0
    assert seen[0] == {"type": "http.request", "body": b"", "more_body": False}
    assert seen[1] == {"type": "http.disconnect"}
    assert isinstance(seen[2], ClientDisconnected)
    assert isinstance(seen[2], OSError)


def test_dropped_iterable_after_the_response_ended_leaves_no_task(backend: str) -> None:
    """The response ended (``more_body: False``) but was never read to the end nor closed."""
    done = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": TEXT})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await send({"type": "http.response.body", "body": b"b", "more_body": False})
        assert await receive() == {"type": "http.disconnect"}
        done.set()

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        _, iterable = start(adapter, make_environ(), validate=False)
        assert next(iterable) == b"a"
        del iterable  # never closed
        collect_dropped(adapter, done)


def test_dropped_unfinished_iterable_disconnects_the_app(backend: str) -> None:
    """Mid-stream, a dropped iterable is a disconnect: the app's ``receive()`` says so."""
    seen: list[Any] = []
    done = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await read_body(receive)
        await send({"type": "http.response.start", "status": 200, "headers": TEXT})
        await send({"type": "http.response.body", "body": b"event", "more_body": True})
        seen.append(await receive())
        done.set()

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        _, iterable = start(adapter, make_environ(), validate=False)
        assert next(iterable) == b"event"
        del iterable  # never closed
        collect_dropped(adapter, done)
    assert seen == [{"type": "http.disconnect"}]
