"""AsgiToWsgi in-process: the app object, responses, streaming, backpressure and request bodies.

Each test names the PEP 3333 or ASGI HTTP clause it checks. Every call goes through
``wsgiref.validate``; both loop backends run every behavioural test. The options are in
``test_options.py``, ``close()`` in ``test_runtime.py``, the streamed response iterable in
``test_response_body.py``.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import pytest

from bridge import AsgiToWsgi
from bridge._asgi_to_wsgi.handoff import READ_AHEAD
from bridge._asgi_to_wsgi.response_body import CHUNK
from bridge._private_loop import REGISTRY
from tests.asgi_to_wsgi.helpers import (
    WAIT,
    Gate,
    RecordingInput,
    hello,
    loop_barrier,
    make_environ,
    original,
    read_body,
    respond,
    run,
    start,
)

pytestmark = pytest.mark.usefixtures("no_asgi_to_wsgi_leaks")


# --- the app object -----------------------------------------------------------------------


def test_app_must_be_callable() -> None:
    with pytest.raises(TypeError, match="app must be an ASGI application"):
        AsgiToWsgi(object())


def test_adapter_is_immutable_and_constructor_starts_nothing() -> None:
    """House rules 4 and 5: no thread, loop or task in ``__init__``; no attribute can change."""
    before = threading.active_count()
    adapter = AsgiToWsgi(hello)
    assert threading.active_count() == before
    assert REGISTRY._loops == {}
    assert adapter.app is hello
    with pytest.raises(AttributeError, match="immutable"):
        adapter.send_window = 1  # type: ignore[attr-defined]


def test_asgi2_double_callable_is_accepted() -> None:
    """asgiref's ``guarantee_single_callable`` turns an ASGI 2 app into an ASGI 3 one."""

    class Asgi2:
        def __init__(self, scope: Any) -> None:
            self.scope = scope

        async def __call__(self, receive: Any, send: Any) -> None:
            await respond(send, b"two")

    with AsgiToWsgi(Asgi2, lifespan="off") as adapter:
        assert run(adapter).body == b"two"


# --- the response (PEP 3333 start_response; ASGI http.response.*) --------------------------


def test_status_headers_and_body_reach_start_response(backend: str) -> None:
    """ASGI ``http.response.start`` -> PEP 3333 status string with the right reason phrase."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/plain"), (b"x-thing", b"1"), (b"x-thing", b"2")]
        await respond(send, b"missing", status=404, headers=headers)

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        result = run(adapter)
    assert result.status == "404 Not Found"
    assert result.recorder.headers == [
        ("content-type", "text/plain"),
        ("x-thing", "1"),
        ("x-thing", "2"),
    ]
    assert result.body == b"missing"
    assert result.recorder.exc_info is None


def test_short_response_is_returned_as_a_one_item_list(backend: str) -> None:
    """Start and the final body arrive as one queue item: ``[body]``, no iterator round trips."""
    with AsgiToWsgi(hello, lifespan="off", backend=backend) as adapter:
        _, iterable = start(adapter, make_environ())
        assert original(iterable) == [b"hello"]
        assert list(iterable) == [b"hello"]
        iterable.close()


def test_scope_is_built_from_the_environ_with_extensions(backend: str) -> None:
    """ASGI HTTP scope: spec_version 2.4, pathsend advertised, the environ under wsgi.environ."""
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(scope)
        await respond(send)

    environ = make_environ("POST", "/a b", QUERY_STRING="x=1", HTTP_X_TOKEN="t")
    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        run(adapter, environ)
    assert seen["type"] == "http"
    assert seen["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert (seen["method"], seen["path"], seen["query_string"]) == ("POST", "/a b", b"x=1")
    assert (b"x-token", b"t") in seen["headers"]
    assert seen["extensions"]["http.response.pathsend"] == {}
    assert seen["extensions"]["wsgi.environ"] is environ
    assert "state" not in seen  # no lifespan, no state


def test_head_response_drops_the_body(backend: str) -> None:
    """RFC 9110 9.3.2: a HEAD response has no body, whatever the app sends."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"5")]
        await respond(send, b"12345", headers=headers)

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        result = run(adapter, make_environ("HEAD"))
    assert result.body == b""
    assert result.recorder.headers == [("content-type", "text/plain"), ("content-length", "5")]


def test_start_alone_reaches_start_response_before_any_body(backend: str) -> None:
    """A start not followed by a body in the same loop iteration is handed over by itself."""
    gate = Gate()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await gate.wait()
        await send({"type": "http.response.body", "body": b"late"})

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        recorder, iterable = start(adapter, make_environ())
        assert recorder.status == "201 Created"
        gate.open()
        assert list(iterable) == [b"late"]
        iterable.close()


def test_send_waits_while_the_window_is_full(backend: str) -> None:
    """Backpressure: ``send()`` completes only once the WSGI side took enough bytes."""
    gate = Gate()
    completed: list[int] = []
    attempting = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"0000", "more_body": True})
        completed.append(0)
        await gate.wait()
        for number in range(1, 4):
            if number == 3:
                attempting.set()
            chunk = b"%d" % number * 4
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            completed.append(number)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    with AsgiToWsgi(app, lifespan="off", backend=backend, send_window=10) as adapter:
        environ = make_environ()
        _, iterable = start(adapter, environ)  # took chunk 0
        gate.open()
        assert attempting.wait(WAIT)
        loop_barrier(adapter)
        assert completed == [0, 1, 2]  # 12 bytes outstanding > 10: chunk 3 waits
        assert next(iterable) == b"0000"
        assert b"".join(iterable) == b"111122223333"  # small queued chunks may come joined
        assert completed == [0, 1, 2, 3]
        iterable.close()


# --- the request body (PEP 3333 wsgi.input; ASGI http.request) -----------------------------


async def echo(scope: Any, receive: Any, send: Any) -> None:
    await respond(send, await read_body(receive))


def test_app_that_never_receives_leaves_wsgi_input_untouched(backend: str) -> None:
    """The body is never read up front: no ``receive()``, no ``wsgi.input.read``."""
    stream = RecordingInput(b"x" * 100)
    with AsgiToWsgi(hello, lifespan="off", backend=backend) as adapter:
        run(adapter, make_environ("POST", body=stream, content_length=100))
    assert stream.reads == []


def test_reads_stop_at_content_length(backend: str) -> None:
    """PEP 3333: never read past CONTENT_LENGTH (the stream holds more)."""
    stream = RecordingInput(b"abcdefEXTRA")
    with AsgiToWsgi(echo, lifespan="off", backend=backend) as adapter:
        result = run(adapter, make_environ("POST", body=stream, content_length=6))
    assert result.body == b"abcdef"
    assert stream.tell() == 6
    assert stream.reads == [6]


def test_large_body_arrives_in_chunks_with_more_body(backend: str) -> None:
    """ASGI ``http.request``: chunks with ``more_body: True``, the last with False."""
    messages: list[tuple[int, bool]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            messages.append((len(message["body"]), message["more_body"]))
            if not message["more_body"]:
                break
        await respond(send)

    body = b"y" * 150_000
    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        run(adapter, make_environ("POST", body=body))
    assert messages == [(65536, True), (65536, True), (18928, False)]


def test_chunked_body_the_server_did_not_decode_is_411(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """RFC 9112 6.3: without Content-Length, a chunked request body ends where its framing
    says; a server that neither decodes it nor sets ``wsgi.input_terminated`` (wsgiref) would
    leave bridge reading to EOF (a hang until the client gives up, or the chunk framing as the
    body). bridge answers 411 Length Required without calling the app, and says why."""
    called: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(True)

    stream = RecordingInput(b"5\r\nhello\r\n0\r\n\r\n", piece=5000)
    environ = make_environ("POST", body=stream, HTTP_TRANSFER_ENCODING="chunked")
    adapter = AsgiToWsgi(app, lifespan="off", backend=backend)
    with caplog.at_level("WARNING", "bridge.asgi"), adapter:
        result = run(adapter, environ)
    assert result.status == "411 Length Required"
    assert called == []
    assert stream.tell() == 0
    assert "wsgi.input_terminated" in caplog.text


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"wsgi.input_terminated": True}, id="input_terminated"),
        pytest.param(
            {"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"}, id="chunked"
        ),
    ],
)
def test_body_without_content_length_is_read_to_eof(backend: str, extra: dict[str, Any]) -> None:
    """``wsgi.input_terminated`` (a server that decoded a chunked body says so): read until
    ``read()`` returns b''."""
    body = bytes(range(256)) * 1000
    stream = RecordingInput(body, piece=5000)
    with AsgiToWsgi(echo, lifespan="off", backend=backend) as adapter:
        result = run(adapter, make_environ("POST", body=stream, **extra))
    assert result.body == body
    assert stream.reads[-1] == 65536
    assert stream.tell() == len(body)


def test_body_is_read_ahead_of_receive_by_a_bounded_window(backend: str) -> None:
    """Issue 4 'Per request': the WSGI thread reads only when the app asks, and never the whole
    body up front: while the app holds its first chunk, at most ``READ_AHEAD`` bytes (plus the
    chunk in hand) are read; the rest follows as the app receives."""
    body = bytes(range(256)) * 8192  # 2 MiB
    stream = RecordingInput(body)
    gate = Gate()
    read_while_held: list[int] = []
    caller = threading.get_ident()

    def hold_then_release() -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:  # until the WSGI thread waits for the app again
            frame = sys._current_frames().get(caller)
            if frame is not None and frame.f_code.co_name == "next_item" and stream.tell():
                break
            time.sleep(0.001)
        read_while_held.append(stream.tell())
        gate.open()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        first = await receive()
        await gate.wait()
        rest = await read_body(receive)
        await respond(send, first["body"] + rest)

    helper = threading.Thread(target=hold_then_release)
    helper.start()
    try:
        with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
            environ = make_environ("POST", body=stream, content_length=len(body))
            result = run(adapter, environ)
    finally:
        helper.join(WAIT)
    assert result.body == body
    assert READ_AHEAD <= read_while_held[0] <= READ_AHEAD + CHUNK


def test_body_without_length_or_framing_is_empty(backend: str) -> None:
    """PEP 3333: without CONTENT_LENGTH (and no chunked framing) nothing may be read."""
    stream = RecordingInput(b"never")
    with AsgiToWsgi(echo, lifespan="off", backend=backend) as adapter:
        result = run(adapter, make_environ("POST", body=stream))
    assert result.body == b""
    assert stream.reads == []


def test_invalid_content_length_is_answered_with_400(backend: str) -> None:
    with AsgiToWsgi(echo, lifespan="off", backend=backend) as adapter:
        result = run(adapter, make_environ("POST", CONTENT_LENGTH="ten"), validate=False)
    assert result.status == "400 Bad Request"


@pytest.mark.parametrize(
    "stream",
    [
        pytest.param(RecordingInput(b"abc"), id="short-body"),
        pytest.param(RecordingInput(b"abc", fail=True), id="read-oserror"),
    ],
)
def test_client_gone_during_upload_is_http_disconnect(backend: str, stream: RecordingInput) -> None:
    """ASGI: ``receive()`` returns ``http.disconnect`` when the body cannot be read."""
    seen: list[str] = []
    finished = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            while True:
                message = await receive()
                seen.append(message["type"])
                if message["type"] == "http.disconnect":
                    return
        finally:
            finished.set()

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        result = run(adapter, make_environ("POST", body=stream, content_length=10))
        assert finished.wait(WAIT)
    assert result.status == "400 Bad Request"
    assert seen[-1] == "http.disconnect"


def test_non_latin1_environ_is_a_server_error(backend: str) -> None:
    """PEP 3333: environ strings are latin-1 "native strings"; anything else is the server's."""
    with AsgiToWsgi(hello, lifespan="off", backend=backend) as adapter:
        result = run(adapter, make_environ(PATH_INFO="/\u20ac"), validate=False)
    assert result.status == "500 Internal Server Error"
