"""AsgiToWsgi request lifecycle: disconnect, background work, pathsend, concurrency.

ASGI HTTP 2.4: after the client disconnects ``receive()`` returns ``http.disconnect`` and
``send()`` raises an ``OSError``; ``http.disconnect`` is also what ``receive()`` returns once
the response is complete. PEP 3333: the server calls the iterable's ``close()`` when it stops
early (client gone, write failed), and may offer ``wsgi.file_wrapper`` for files. The
iterable's own ``close()`` is in ``test_response_body.py``.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any
from wsgiref.util import FileWrapper

import anyio
import anyio.lowlevel
import pytest

from bridge import AsgiToWsgi, ClientDisconnected
from tests.asgi_to_wsgi.helpers import (
    TEXT,
    WAIT,
    Gate,
    make_environ,
    original,
    read_body,
    respond,
    run,
    running_app_tasks,
    start,
)

pytestmark = pytest.mark.usefixtures("no_asgi_to_wsgi_leaks")


# --- disconnect ---------------------------------------------------------------------------


def test_sender_blocked_on_a_full_window_learns_of_the_disconnect(backend: str) -> None:
    """A ``send()`` waiting for the WSGI side raises ``OSError`` when the client goes."""
    raised: list[BaseException] = []
    done = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": TEXT})
        try:
            for _ in range(3):
                await send({"type": "http.response.body", "body": b"1234", "more_body": True})
        except OSError as exc:
            raised.append(exc)
        done.set()

    with AsgiToWsgi(app, lifespan="off", backend=backend, send_window=0) as adapter:
        _, iterable = start(adapter, make_environ())
        iterable.close()
        assert done.wait(WAIT)
    assert isinstance(raised[0], ClientDisconnected)


def test_app_ignoring_the_disconnect_is_cancelled_after_the_grace_period(backend: str) -> None:
    """No task is left pending: an app that never looks is cancelled after ``disconnect_grace``."""
    cancelled = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": TEXT})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        try:
            await Gate().wait()
        finally:
            cancelled.set()

    with AsgiToWsgi(app, lifespan="off", backend=backend, disconnect_grace=0.05) as adapter:
        _, iterable = start(adapter, make_environ())
        assert next(iterable) == b"x"
        iterable.close()
        assert cancelled.wait(WAIT)
        assert running_app_tasks(adapter) == 0


def test_receive_returns_http_disconnect_once_the_response_is_complete(backend: str) -> None:
    """ASGI: a ``receive()`` waiting after the body, or called later, gets ``http.disconnect``."""
    seen: list[Any] = []
    done = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        listening = anyio.Event()

        async def listen() -> None:
            seen.append(await receive())
            listening.set()
            seen.append(await receive())  # waits: the body is read, the response not sent

        async with anyio.create_task_group() as group:
            group.start_soon(listen)
            await listening.wait()
            await respond(send)
        seen.append(await receive())
        done.set()

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        assert run(adapter).body == b"ok"
        assert done.wait(WAIT)
    assert seen == [
        {"type": "http.request", "body": b"", "more_body": False},
        {"type": "http.disconnect"},
        {"type": "http.disconnect"},
    ]


# --- background work after the response ---------------------------------------------------


def test_response_ends_at_more_body_false_and_background_work_goes_on(backend: str) -> None:
    """Starlette ``BackgroundTasks``: the client has its response before the task finishes."""
    gate = Gate()
    finished = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await respond(send, b"now")
        await gate.wait()
        finished.set()

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        assert run(adapter).body == b"now"
        assert not finished.is_set()
        gate.open()
        assert finished.wait(WAIT)


def test_background_work_past_its_timeout_is_cancelled(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    cancelled = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await respond(send)
        try:
            await Gate().wait()
        finally:
            cancelled.set()

    with AsgiToWsgi(app, lifespan="off", backend=backend, background_timeout=0.05) as adapter:
        assert run(adapter).body == b"ok"
        assert cancelled.wait(WAIT)
    assert "cancelled background work" in caplog.text


# --- pathsend -----------------------------------------------------------------------------


def pathsend_app(path: Path, gate: Gate | None = None) -> Any:
    size = str(path.stat().st_size).encode() if path.exists() else b"0"

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [*TEXT, (b"content-length", size)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if gate is not None:
            await gate.wait()
        await send({"type": "http.response.pathsend", "path": str(path)})

    return app


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(range(256)) * 1000)
    return path


def test_pathsend_uses_the_servers_file_wrapper(backend: str, big_file: Path) -> None:
    """ASGI ``http.response.pathsend`` -> PEP 3333 ``wsgi.file_wrapper`` (sendfile)."""
    environ = make_environ(**{"wsgi.file_wrapper": FileWrapper})
    with AsgiToWsgi(pathsend_app(big_file), lifespan="off", backend=backend) as adapter:
        _, iterable = start(adapter, environ)
        assert isinstance(original(iterable), FileWrapper)
        assert b"".join(iterable) == big_file.read_bytes()
        iterable.close()


def test_pathsend_without_file_wrapper_streams_blocks(backend: str, big_file: Path) -> None:
    with AsgiToWsgi(pathsend_app(big_file), lifespan="off", backend=backend) as adapter:
        _, iterable = start(adapter, make_environ())
        blocks = list(iterable)
        iterable.close()
    assert [len(block) for block in blocks] == [65536, 65536, 65536, 59392]
    assert b"".join(blocks) == big_file.read_bytes()


def test_pathsend_after_a_lone_start_is_streamed(backend: str, big_file: Path) -> None:
    gate = Gate()
    environ = make_environ(**{"wsgi.file_wrapper": FileWrapper})
    with AsgiToWsgi(pathsend_app(big_file, gate), lifespan="off", backend=backend) as adapter:
        recorder, iterable = start(adapter, environ)
        assert recorder.status == "200 OK"
        gate.open()
        assert b"".join(iterable) == big_file.read_bytes()
        iterable.close()


def test_pathsend_for_head_sends_no_body(backend: str, big_file: Path) -> None:
    with AsgiToWsgi(pathsend_app(big_file), lifespan="off", backend=backend) as adapter:
        assert run(adapter, make_environ("HEAD")).body == b""


@pytest.mark.parametrize("lone_start", [False, True], ids=["merged", "lone-start"])
def test_pathsend_of_a_missing_file_is_500(
    backend: str, tmp_path: Path, lone_start: bool, caplog: pytest.LogCaptureFixture
) -> None:
    gate = Gate() if lone_start else None
    app = pathsend_app(tmp_path / "missing.txt", gate)
    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        _recorder, iterable = start(adapter, make_environ())
        if gate is not None:
            gate.open()
        assert b"".join(iterable) == b"500 Internal Server Error\n"
        iterable.close()
    record = caplog.records[-1]
    assert record.levelno == logging.ERROR
    assert "cannot open the http.response.pathsend file" in record.getMessage()


# --- concurrency --------------------------------------------------------------------------


def test_many_threads_at_once_get_their_own_responses(backend: str) -> None:
    """gthread/Waitress: many WSGI threads share one loop without cross-talk."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = await read_body(receive)
        await anyio.lowlevel.checkpoint()
        await respond(send, scope["path"].encode() + b":" + body)

    results: dict[int, bytes] = {}

    def client(number: int) -> None:
        body = b"%d" % number
        results[number] = run(adapter, make_environ("POST", f"/{number}", body=body)).body

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)
    assert results == {n: b"/%d:%d" % (n, n) for n in range(20)}
