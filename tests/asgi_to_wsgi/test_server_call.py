"""AsgiToWsgi error paths: app exceptions, protocol violations, timeouts (PEP 3333 exc_info).

PEP 3333: an error before any body byte was sent is answered through
``start_response(status, headers, exc_info)``; after that the exception goes to the server,
which aborts the connection. ASGI HTTP: the app must send ``http.response.start`` once, then
``http.response.body`` messages; anything else is a protocol error (:class:`ApplicationError`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from bridge import ApplicationError, ApplicationTimeout, AsgiToWsgi
from tests.asgi_to_wsgi.helpers import TEXT, WAIT, Gate, make_environ, respond, run, start

pytestmark = pytest.mark.usefixtures("no_asgi_to_wsgi_leaks")


def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bridge.asgi" and r.levelno >= logging.ERROR]


def test_exception_before_start_is_500_with_exc_info_logged_once(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """PEP 3333 error handling: 500 via ``start_response(..., exc_info)``; one log record."""
    boom = ValueError("boom")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise boom

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        result = run(adapter)
    assert result.status == "500 Internal Server Error"
    assert result.body == b"500 Internal Server Error\n"
    assert result.error is boom
    [record] = errors(caplog)
    assert record.exc_info is not None
    assert record.exc_info[1] is boom
    assert "answered 500 to GET /" in record.getMessage()


def test_exception_after_start_before_any_body_still_answers_500(backend: str) -> None:
    """PEP 3333: headers are not sent before the first body byte, so exc_info replaces them."""
    gate = Gate()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": TEXT})
        await gate.wait()
        raise KeyError("late")

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        recorder, iterable = start(adapter, make_environ())
        assert recorder.status == "200 OK"
        gate.open()
        assert list(iterable) == [b"500 Internal Server Error\n"]
        iterable.close()
    assert recorder.status == "500 Internal Server Error"
    assert isinstance(recorder.exc_info[1], KeyError)  # start_response was called: exc_info


def test_exception_after_body_is_raised_into_the_server(backend: str) -> None:
    """PEP 3333: once body bytes went out, the server must see the exception (and abort)."""
    gate = Gate()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": TEXT})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        await gate.wait()
        raise RuntimeError("mid-stream")

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        _, iterable = start(adapter, make_environ())
        assert next(iterable) == b"part"
        gate.open()
        with pytest.raises(RuntimeError, match="mid-stream"):
            next(iterable)
        iterable.close()


@pytest.mark.parametrize(
    ("messages", "match"),
    [
        pytest.param([], "returned without starting the response", id="no-response"),
        pytest.param(
            [{"type": "http.response.start", "status": 200, "headers": TEXT}],
            "returned without completing the response",
            id="start-only",
        ),
        pytest.param(
            [{"type": "http.response.start", "status": 200}] * 2, "sent twice", id="start-twice"
        ),
        pytest.param(
            [{"type": "http.response.body", "body": b"x"}],
            "'http.response.body' sent before 'http.response.start'",
            id="body-before-start",
        ),
        pytest.param(
            [{"type": "http.response.pathsend", "path": "/etc/hostname"}],
            "'http.response.pathsend' sent before 'http.response.start'",
            id="pathsend-before-start",
        ),
        pytest.param([{"type": "websocket.send"}], "unexpected ASGI message type", id="type"),
        pytest.param(
            [{"type": "http.response.start", "status": "200"}],
            "status must be an integer",
            id="status-str",
        ),
        pytest.param(
            [{"type": "http.response.start", "status": 200, "headers": [(b"x", b"a\r\nb")]}],
            "response header 'x' holds",
            id="header-crlf",
        ),
        pytest.param(
            [{"type": "http.response.start", "status": 200, "headers": 5}],
            "response headers must be iterable",
            id="headers-int",
        ),
        pytest.param(
            [
                {"type": "http.response.start", "status": 200, "headers": TEXT},
                {"type": "http.response.body", "body": "text"},
            ],
            "needs bytes and a bool, got body=str",
            id="body-str",
        ),
        pytest.param(
            [
                {"type": "http.response.start", "status": 200, "headers": TEXT},
                {"type": "http.response.body", "body": b"", "more_body": 1},
            ],
            "more_body=int",
            id="more-body-int",
        ),
        pytest.param(
            [
                {"type": "http.response.start", "status": 200, "headers": TEXT},
                {"type": "http.response.pathsend", "path": "relative.txt"},
            ],
            "needs an absolute path",
            id="pathsend-relative",
        ),
        pytest.param(
            [
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [*TEXT, (b"content-length", b"2")],
                },
                {"type": "http.response.body", "body": b"abc"},
            ],
            "exceeds its content-length 2: 3 bytes sent",
            id="longer-than-content-length",
        ),
        pytest.param(
            [
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [*TEXT, (b"content-length", b"5")],
                },
                {"type": "http.response.body", "body": b"abc"},
            ],
            "ended after 3 bytes but its content-length is 5",
            id="shorter-than-content-length",
        ),
    ],
)
def test_protocol_violations_are_application_errors_answered_with_500(
    backend: str, caplog: pytest.LogCaptureFixture, messages: list[Any], match: str
) -> None:
    """ASGI HTTP message rules: each violation raises :class:`ApplicationError` naming it."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        for message in messages:
            await send(message)

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        result = run(adapter)
    assert result.status == "500 Internal Server Error"
    error = result.error
    assert isinstance(error, ApplicationError)
    assert error.status_code == 500
    with pytest.raises(ApplicationError, match=match):
        raise error
    assert len(errors(caplog)) == 1


def test_send_after_the_response_is_complete_is_logged(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """ASGI: nothing may follow ``more_body: False``; the client already has its response."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await respond(send)
        await send({"type": "http.response.body", "body": b"more"})

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        assert run(adapter).body == b"ok"
    [record] = errors(caplog)
    assert "after its response ended" in record.getMessage()
    assert record.exc_info is not None
    assert "sent after the response was complete" in str(record.exc_info[1])


def test_hop_by_hop_headers_are_dropped_with_one_warning_per_name(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """PEP 3333: apps must not send hop-by-hop headers; dropped, warned once per name."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [*TEXT, (b"connection", b"close"), (b"transfer-encoding", b"chunked")]
        await respond(send, headers=headers)

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        first = run(adapter)
        run(adapter)
    assert first.recorder.headers == [("content-type", "text/plain")]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "dropped the hop-by-hop response header 'connection' (PEP 3333)",
        "dropped the hop-by-hop response header 'transfer-encoding' (PEP 3333)",
    ]


def test_request_timeout_answers_504_and_cancels_the_task(backend: str) -> None:
    """``request_timeout``: 504 (:class:`ApplicationTimeout`) and the app's task is cancelled."""
    cancelled = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            await Gate().wait()
        finally:
            cancelled.set()

    with AsgiToWsgi(app, lifespan="off", backend=backend, request_timeout=0.05) as adapter:
        result = run(adapter)
        assert cancelled.wait(WAIT)
    assert result.status == "504 Gateway Timeout"
    assert isinstance(result.error, ApplicationTimeout)


def test_request_timeout_mid_stream_is_raised_into_the_server(backend: str) -> None:
    """After body bytes went out, a timeout can only abort the response."""
    cancelled = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": TEXT})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        try:
            await Gate().wait()
        finally:
            cancelled.set()

    with AsgiToWsgi(app, lifespan="off", backend=backend, request_timeout=0.2) as adapter:
        _, iterable = start(adapter, make_environ())
        assert next(iterable) == b"a"
        with pytest.raises(ApplicationTimeout, match=r"did not respond within 0\.2 seconds"):
            next(iterable)
        iterable.close()
        assert cancelled.wait(WAIT)


def test_a_response_within_the_timeout_is_served(backend: str) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await respond(send)

    with AsgiToWsgi(app, lifespan="off", backend=backend, request_timeout=WAIT) as adapter:
        assert run(adapter).body == b"ok"


def test_a_stopped_loop_is_a_server_error(caplog: pytest.LogCaptureFixture) -> None:
    """If the loop thread is gone, requests get 500 and close() still returns."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await respond(send)

    adapter = AsgiToWsgi(app)
    adapter.startup()
    runtime = adapter._slot.runtime
    assert runtime is not None
    runtime.loop.stop()
    result = run(adapter)
    assert result.status == "500 Internal Server Error"
    assert "event loop has stopped" in str(result.error)
    adapter.close()


class BrokenInput:
    """A ``wsgi.input`` whose server-side parser fails (e.g. a bad chunk size)."""

    def read(self, size: int = -1) -> bytes:
        raise ValueError("invalid chunk size")


def test_wsgi_input_failure_reaches_the_server_as_500_and_the_app_sees_disconnect(
    backend: str,
) -> None:
    """PEP 3333: the server's own exception is not swallowed; the app gets ``http.disconnect``."""
    seen: list[Any] = []
    done = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(await receive())
        done.set()

    environ = make_environ("POST", content_length=5, **{"wsgi.input": BrokenInput()})
    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        result = run(adapter, environ, validate=False)
        assert done.wait(WAIT)
    assert result.status == "500 Internal Server Error"
    assert isinstance(result.error, ValueError)
    assert seen == [{"type": "http.disconnect"}]
