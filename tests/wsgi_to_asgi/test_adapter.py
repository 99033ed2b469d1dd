"""WsgiToAsgi in process: responses, errors, other scopes and options (asyncio and trio).

Each test names the PEP 3333 or ASGI clause it checks. Apps are wrapped in
``wsgiref.validate.validator`` unless the test breaks the protocol on purpose (the validator
would then stop the app before bridge sees the violation).
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterable, Iterator
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

import pytest

import bridge
from tests.wsgi_to_asgi.helpers import (
    Body,
    Exchange,
    body_messages,
    http_scope,
    serve,
    simple_app,
    threads_in_bridge,
    wsgi,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _no_thread_left_in_bridge() -> Iterator[None]:
    yield
    assert threads_in_bridge() == []


# --- responses -------------------------------------------------------------------------------


async def test_pep3333_list_response_is_sent_in_one_start_and_one_final_body() -> None:
    """PEP 3333 'The start_response() Callable' / ASGI 'Response Start' and 'Response Body':
    a list cannot block, so it is sent in one go (not validated: the validator hides the list)."""
    app = simple_app(
        [b"Hello, ", b"world!"], headers=[("Content-Type", "text/plain")], validate=False
    )
    exchange = await serve(bridge.WsgiToAsgi(app))
    assert exchange.sent == [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
            "trailers": False,
        },
        {"type": "http.response.body", "body": b"Hello, ", "more_body": True},
        {"type": "http.response.body", "body": b"world!", "more_body": False},
    ]


async def test_pep3333_any_iterable_reaching_content_length_ends_with_that_chunk() -> None:
    """PEP 3333 'Handling the Content-Length Header': once the declared length is produced the
    response is complete, so the last chunk carries ``more_body`` False."""
    app = simple_app(Body([b"Hello, world!"]), headers=[("Content-Length", "13")])
    exchange = await serve(wsgi(app))
    assert exchange.bodies == [
        {"type": "http.response.body", "body": b"Hello, world!", "more_body": False}
    ]


async def test_pep3333_iterable_that_may_block_streams_each_chunk_then_a_final_message() -> None:
    """PEP 3333 'Buffering and Streaming': a chunk is sent before the next is requested."""
    exchange = await serve(wsgi(simple_app(Body([b"a", b"b"]))))
    assert [(m["body"], m["more_body"]) for m in exchange.bodies] == [
        (b"a", True),
        (b"b", True),
        (b"", False),
    ]


@pytest.mark.parametrize("multiprocess", [True, False])
async def test_pep3333_wsgi_multiprocess_is_an_option_true_by_default(multiprocess: bool) -> None:
    """PEP 3333: ``wsgi.multiprocess`` is "True if an equivalent application object may be
    simultaneously invoked by another process". bridge cannot see ``uvicorn --workers``, so it
    says True unless told otherwise (as every peer does)."""
    seen: dict[str, Any] = {}

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        seen["multiprocess"] = environ["wsgi.multiprocess"]
        start_response("204 No Content", [])
        return []

    await serve(wsgi(app, multiprocess=multiprocess))
    assert seen["multiprocess"] is multiprocess
    await serve(wsgi(app))
    assert seen["multiprocess"] is True
    with pytest.raises(TypeError, match="multiprocess must be a bool"):
        bridge.WsgiToAsgi(app, multiprocess=1)  # type: ignore[arg-type]


async def test_pep3333_environ_is_built_from_the_scope_with_wsgi_keys() -> None:
    """PEP 3333 'environ Variables' and ASGI 'WSGI Compatibility'."""
    seen: dict[str, Any] = {}

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        seen.update(environ)
        start_response("204 No Content", [])
        return []

    scope = http_scope("POST", "/app/x", root_path="/app", query_string=b"a=1")
    await serve(wsgi(app), scope)
    assert seen["REQUEST_METHOD"] == "POST"
    assert (seen["SCRIPT_NAME"], seen["PATH_INFO"], seen["QUERY_STRING"]) == ("/app", "/x", "a=1")
    assert seen["wsgi.input_terminated"] is True
    assert seen["wsgi.multithread"] is True
    assert seen["wsgi.multiprocess"] is True  # the conservative default (see the next test)
    assert seen["wsgi.errors"].errors is sys.stderr  # seen through the validator's wrapper
    assert seen["wsgi.file_wrapper"] is bridge._wsgi_to_asgi.wsgi_io.FileWrapper
    assert seen["asgi.scope"] is scope


async def test_pep3333_empty_iterable_sends_headers_at_the_end() -> None:
    """PEP 3333: headers are sent with the first non-empty chunk, or when the iterable ends."""
    exchange = await serve(wsgi(simple_app([])))
    assert exchange.status == 200
    assert exchange.bodies == [{"type": "http.response.body", "body": b"", "more_body": False}]


async def test_pep3333_empty_chunks_are_skipped_and_do_not_send_headers() -> None:
    """PEP 3333 'Buffering and Streaming': empty byte strings are allowed and carry nothing."""
    exchange = await serve(wsgi(simple_app(Body([b"", b"a", b"", b"b"]))))
    assert [m["body"] for m in exchange.bodies] == [b"a", b"b", b""]
    assert exchange.complete


@pytest.mark.parametrize(
    ("method", "status"),
    [("HEAD", "200 OK"), ("GET", "204 No Content"), ("GET", "304 Not Modified")],
    ids=["head", "204", "304"],
)
async def test_rfc9110_no_body_for_head_204_304_and_iterable_not_pulled_further(
    method: str, status: str
) -> None:
    """RFC 9110 6.4.1 (via ``response_has_body``): HEAD, 204 and 304 carry no body."""
    body = Body([b"ignored", b"never pulled"])
    headers = [("Content-Length", "7")] if method == "HEAD" else []
    exchange = await serve(wsgi(simple_app(body, status, headers)), http_scope(method))
    assert exchange.status == int(status[:3])
    assert exchange.body == b""
    assert exchange.complete
    assert (body.pulled, body.closed) == (1, 1)
    if method == "HEAD":
        assert (b"content-length", b"7") in exchange.headers


async def test_pep3333_content_length_reached_stops_pulling_and_truncates_extra_bytes() -> None:
    """PEP 3333 'Handling the Content-Length Header': never send more than declared."""
    body = Body([b"0123", b"456789", b"never pulled"])
    app = simple_app(body, headers=[("Content-Length", "6")])
    exchange = await serve(wsgi(app))
    assert exchange.body == b"012345"
    assert exchange.complete
    assert (body.pulled, body.closed) == (2, 1)


async def test_pep3333_content_length_zero_with_a_body_sends_nothing() -> None:
    """PEP 3333 'Handling the Content-Length Header' with a declared length of 0."""
    exchange = await serve(wsgi(simple_app([b"extra"], headers=[("Content-Length", "0")])))
    assert exchange.body == b""
    assert exchange.complete


async def test_pep3333_short_in_memory_body_answers_500_and_raises() -> None:
    """PEP 3333 Content-Length: fewer bytes than declared is an app error; nothing was sent."""
    app = simple_app([b"short"], headers=[("Content-Length", "10")], validate=False)
    exchange = Exchange()
    with pytest.raises(bridge.ApplicationError, match=r"declared content-length 10 but .* 5"):
        await serve(bridge.WsgiToAsgi(app), exchange=exchange)
    assert exchange.status == 500
    assert exchange.body == b"500 Internal Server Error\n"


async def test_pep3333_short_streamed_body_raises_after_headers_without_finishing() -> None:
    """PEP 3333 Content-Length: a short streamed body aborts (no final ``more_body`` False)."""
    app = simple_app(Body([b"short"]), headers=[("Content-Length", "10")])
    exchange = Exchange()
    with pytest.raises(bridge.ApplicationError, match="produced only 5 bytes"):
        await serve(bridge.WsgiToAsgi(app), exchange=exchange)
    assert exchange.status == 200
    assert exchange.body == b"short"
    assert not exchange.complete


async def test_pep3333_status_and_headers_are_validated_by_translate() -> None:
    """PEP 3333 'The start_response() Callable': a bad status is an application error."""
    app = simple_app([b"x"], status="OK", validate=False)
    exchange = Exchange()
    with pytest.raises(bridge.ApplicationError, match="status must be"):
        await serve(bridge.WsgiToAsgi(app), exchange=exchange)
    assert exchange.status == 500


async def test_pep3333_header_injection_is_refused() -> None:
    """PEP 3333 header values may not hold control characters (header injection)."""
    app = simple_app([b"x"], headers=[("X-Evil", "a\r\nSet-Cookie: x=1")], validate=False)
    with pytest.raises(bridge.ApplicationError, match="control character"):
        await serve(bridge.WsgiToAsgi(app))


async def test_pep3333_hop_by_hop_headers_are_dropped_with_one_warning_per_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """PEP 3333 'Other HTTP Features': apps must not send hop-by-hop headers."""
    headers = [("Connection", "close"), ("Keep-Alive", "timeout=5"), ("X-Ok", "1")]
    adapter = bridge.WsgiToAsgi(simple_app([b"x"], headers=headers, validate=False))
    with caplog.at_level(logging.WARNING, logger="bridge.wsgi"):
        first = await serve(adapter)
        await serve(adapter)
    assert first.headers == [(b"content-type", b"text/plain"), (b"x-ok", b"1")]
    warnings = [r for r in caplog.records if r.name == "bridge.wsgi"]
    assert [r.args for r in warnings] == [("connection",), ("keep-alive",)]
    assert all("close" not in r.getMessage() for r in warnings)  # never header values


async def test_pep3333_str_chunk_is_an_application_error() -> None:
    """PEP 3333 'Unicode Issues': the body must be bytes; a str chunk is refused."""
    exchange = Exchange()
    with pytest.raises(bridge.ApplicationError, match="must be bytes, got 'text'"):
        await serve(bridge.WsgiToAsgi(simple_app(["text"], validate=False)), exchange=exchange)  # type: ignore[list-item]
    assert exchange.status == 500


async def test_pep3333_body_without_start_response_is_an_application_error() -> None:
    """PEP 3333: start_response must be called before the first body chunk is produced."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return [b"x"]

    with pytest.raises(bridge.ApplicationError, match="before the body is produced"):
        await serve(bridge.WsgiToAsgi(app))


async def test_pep3333_returning_without_start_response_is_an_application_error() -> None:
    """PEP 3333: an app must call start_response before its iterable is exhausted."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return []

    exchange = Exchange()
    with pytest.raises(bridge.ApplicationError, match="without calling start_response"):
        await serve(bridge.WsgiToAsgi(app), exchange=exchange)
    assert exchange.status == 500


async def test_pep3333_start_response_twice_without_exc_info_is_an_error() -> None:
    """PEP 3333: calling start_response a second time without exc_info is an error."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [])
        start_response("201 Created", [])
        return []

    with pytest.raises(bridge.ApplicationError, match="second time without exc_info"):
        await serve(bridge.WsgiToAsgi(app))


async def test_pep3333_exc_info_before_headers_sent_replaces_the_status() -> None:
    """PEP 3333 'Error Handling': with exc_info and nothing sent, the new status is used."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b""  # an empty chunk does not send headers
        try:
            raise ValueError("boom")
        except ValueError:
            headers = [("Content-Type", "text/html"), ("Retry-After", "1")]
            start_response("503 Service Unavailable", headers, sys.exc_info())
        yield b"sorry"

    exchange = await serve(wsgi(app))
    assert exchange.status == 503
    assert exchange.headers == [(b"content-type", b"text/html"), (b"retry-after", b"1")]
    assert exchange.body == b"sorry"


async def test_start_response_takes_exc_info_by_keyword_too() -> None:
    """PEP 3333 passes ``exc_info`` by position, but Gunicorn, Waitress, Werkzeug, wsgiref and
    the peers accept ``exc_info=...`` and apps use it: be liberal in what is accepted."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("caught")
        except ValueError:
            start_response(
                status="503 Service Unavailable",
                headers=[("Content-Type", "text/plain")],
                exc_info=sys.exc_info(),
            )  # type: ignore[call-arg]
        return [b"down"]

    exchange = await serve(bridge.WsgiToAsgi(app))
    assert (exchange.status, exchange.body) == (503, b"down")


async def test_pep3333_exc_info_after_headers_sent_reraises_to_the_server() -> None:
    """PEP 3333 'Error Handling': with exc_info after headers were sent, start_response
    re-raises, and the server sees the exception and aborts the response."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"partial"
        try:
            raise ValueError("boom after headers")
        except ValueError:
            start_response(
                "500 Internal Server Error", [("Content-Type", "text/x")], sys.exc_info()
            )
        yield b"unreachable"

    exchange = Exchange()
    with pytest.raises(ValueError, match="boom after headers"):
        await serve(wsgi(app), exchange=exchange)
    assert exchange.status == 200
    assert exchange.body == b"partial"
    assert not exchange.complete


async def test_pep3333_app_exception_before_headers_answers_500_then_raises() -> None:
    """PEP 3333 'Error Handling' / house rule 14: 500 when nothing was sent, then re-raise."""
    body = Body([b"a"], before=lambda index: 1 / 0)
    exchange = Exchange()
    with pytest.raises(ZeroDivisionError):
        await serve(wsgi(simple_app(body)), exchange=exchange)
    assert exchange.status == 500
    assert exchange.headers[0] == (b"content-type", b"text/plain; charset=utf-8")
    # The exception goes on to the server, and Uvicorn closes the connection after any
    # exception: the client is told so (RFC 9112 9.6), so it never sends its next request on a
    # connection that is about to close.
    assert (b"connection", b"close") in exchange.headers
    assert exchange.complete
    assert body.closed == 1


async def test_http2_error_answers_carry_no_connection_header() -> None:
    """RFC 9113 8.2.2: an HTTP/2 message must not hold connection-specific fields, so the
    ``Connection: close`` of bridge's error answers is for HTTP/1.x only."""
    body = Body([b"a"], before=lambda index: 1 / 0)
    exchange = Exchange()
    with pytest.raises(ZeroDivisionError):
        await serve(wsgi(simple_app(body)), http_scope(http_version="2"), exchange)
    assert exchange.status == 500
    assert all(name != b"connection" for name, _ in exchange.headers)


async def test_pep3333_app_call_exception_answers_500_then_raises() -> None:
    """PEP 3333 'Error Handling': an exception from the app call itself."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        raise KeyError("no such thing")

    exchange = Exchange()
    with pytest.raises(KeyError):
        await serve(bridge.WsgiToAsgi(app), exchange=exchange)
    assert exchange.status == 500


async def test_pep3333_app_exception_after_headers_reaches_the_server_unfinished() -> None:
    """PEP 3333 'Error Handling': after headers were sent the server must abort."""

    def fail(index: int) -> None:
        if index == 1:
            raise RuntimeError("mid-body")

    body = Body([b"first", b"second"], before=fail)
    exchange = Exchange()
    with pytest.raises(RuntimeError, match="mid-body"):
        await serve(wsgi(simple_app(body)), exchange=exchange)
    assert exchange.body == b"first"
    assert not exchange.complete
    assert body.closed == 1


async def test_pep3333_close_exception_reaches_the_server() -> None:
    """PEP 3333: close() is the app's code; its exception is the app's to report."""

    class Failing(Body):
        def close(self) -> None:
            super().close()
            raise OSError("close failed")

    exchange = Exchange()
    with pytest.raises(OSError, match="close failed"):
        await serve(
            bridge.WsgiToAsgi(simple_app(Failing([b"x"]), validate=False)), exchange=exchange
        )
    assert exchange.body == b"x"
    assert not exchange.complete


# --- write() -----------------------------------------------------------------------------------


async def test_pep3333_write_callable_sends_before_returning_and_keeps_order() -> None:
    """PEP 3333 'The write() Callable': data is sent (or queued for sending) before write()
    returns, in order with the iterable's chunks."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"one,")
        write(b"")
        write(b"two,")
        return [b"three"]

    exchange = await serve(wsgi(app))
    assert [m["body"] for m in exchange.bodies] == [b"one,", b"two,", b"three", b""]
    assert exchange.complete


async def test_pep3333_write_up_to_content_length_ends_the_body() -> None:
    """PEP 3333 'Handling the Content-Length Header' applies to write() too."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
        write(b"abcdef")
        write(b"more")
        return [b"even more"]

    exchange = await serve(wsgi(app))
    assert exchange.body == b"abc"
    assert [m["more_body"] for m in exchange.bodies] == [False]


# --- request problems --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "close"),
    [
        ([(b"content-length", b"x")], 400, True),
        ([(b"x-a", b"1")] * 3, 400, False),
        ([(b"x-a", b"1")] * 3 + [(b"content-length", b"0")], 400, False),
        ([(b"x-a", b"1")] * 3 + [(b"content-length", b"5")], 400, True),
        ([(b"content-length", b"11")], 413, True),
        ([(b"transfer-encoding", b"chunked"), (b"content-length", b"5")], 400, True),
        ([(b"host", b"a b/c@x")], 400, False),
    ],
    ids=[
        "bad-content-length",
        "duplicate-header-limit",
        "duplicate-header-limit-empty-body",
        "duplicate-header-limit-with-body",
        "content-length-over-limit",
        "transfer-encoding-and-content-length",
        "invalid-host",
    ],
)
async def test_asgi_requests_that_cannot_be_served_are_answered_from_their_headers(
    headers: list[tuple[bytes, bytes]], status: int, close: bool
) -> None:
    """ASGI 'WSGI Compatibility' via ``build_environ``: ClientError statuses (400, 413), decided
    from the headers before the first ``receive()``: ASGI servers send ``100 Continue`` on the
    app's first ``receive()`` (Uvicorn, Hypercorn, Granian), so a client that asked for it never
    uploads a body that is refused anyway. A request whose body is left unread is answered with
    ``Connection: close`` (RFC 9110 15.5.14; RFC 9112 6.1: a server that refuses a request with
    both Transfer-Encoding and Content-Length "MUST close the connection after responding")."""
    called = []
    app = simple_app(lambda: called.append(1) or [])  # type: ignore[func-returns-value]
    adapter = bridge.WsgiToAsgi(app, duplicate_header_limit=2, max_request_body_size=10)
    exchange = await serve(adapter, http_scope("POST", headers=headers))
    assert exchange.status == status
    assert exchange.complete
    assert called == []
    assert exchange.receive_calls == 0
    assert ((b"connection", b"close") in exchange.headers) is close


async def test_asgi_first_body_message_over_the_limit_is_413() -> None:
    """ASGI 'Request' message: a body over ``max_request_body_size`` is answered with 413."""
    adapter = bridge.WsgiToAsgi(simple_app([b"x"]), max_request_body_size=3)
    exchange = await serve(adapter, http_scope("POST"), Exchange(body_messages(b"abcd")))
    assert exchange.status == 413


async def test_asgi_disconnect_before_the_app_starts_skips_the_app() -> None:
    """ASGI 'Disconnect': a client gone before its request is served gets nothing."""
    called = []
    app = simple_app(lambda: called.append(1) or [])  # type: ignore[func-returns-value]
    exchange = await serve(bridge.WsgiToAsgi(app), exchange=Exchange([{"type": "http.disconnect"}]))
    assert (exchange.sent, called) == ([], [])


async def test_asgi_send_raising_oserror_on_an_error_page_is_ignored() -> None:
    """ASGI 2.4: send() raises OSError once the client is gone; a 400 then goes nowhere."""

    async def gone(message: dict[str, Any]) -> None:
        raise OSError("connection lost")

    exchange = Exchange(on_send=gone)
    await serve(
        bridge.WsgiToAsgi(simple_app([])), http_scope(headers=[(b"content-length", b"x")]), exchange
    )
    assert len(exchange.sent) == 1


# --- concurrency context ------------------------------------------------------------------------

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")


async def test_contextvars_of_the_request_task_flow_into_the_app_thread() -> None:
    """Issue 3 'Concurrency': contextvars of the request task are visible to the app."""
    seen = []

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        seen.append(request_id.get("unset"))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return []

    request_id.set("abc-123")
    await serve(wsgi(app))
    assert seen == ["abc-123"]


# --- other scopes ------------------------------------------------------------------------------


async def test_asgi_lifespan_startup_and_shutdown_are_answered_complete() -> None:
    """ASGI 'Lifespan Protocol': startup.complete and shutdown.complete."""
    exchange = Exchange(
        [{"type": "lifespan.startup"}, {"type": "lifespan.unknown"}, {"type": "lifespan.shutdown"}]
    )
    await serve(
        bridge.WsgiToAsgi(simple_app([])),
        {"type": "lifespan", "asgi": {"version": "3.0"}},
        exchange,
    )
    assert exchange.sent == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.complete"},
    ]


async def test_asgi_websocket_is_refused_by_closing_before_accept() -> None:
    """ASGI 'WebSocket Close' before accept: the server answers the handshake with 403."""
    exchange = Exchange([{"type": "websocket.connect"}])
    await serve(bridge.WsgiToAsgi(simple_app([])), http_scope(type="websocket"), exchange)
    assert exchange.sent == [{"type": "websocket.close", "code": 1000, "reason": ""}]


async def test_asgi_websocket_gone_before_connect_sends_nothing() -> None:
    """ASGI 'WebSocket Disconnect' before connect: nothing to refuse."""
    exchange = Exchange([{"type": "websocket.disconnect", "code": 1006}])
    await serve(bridge.WsgiToAsgi(simple_app([])), http_scope(type="websocket"), exchange)
    assert exchange.sent == []


async def test_asgi_unknown_scope_type_raises_a_clear_error() -> None:
    """ASGI 'Applications': apps raise for scope types they do not understand."""
    with pytest.raises(bridge.ServerError, match=r"expected an 'http'.*got 'telepathy'"):
        await serve(bridge.WsgiToAsgi(simple_app([])), {"type": "telepathy"})


# --- options -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"max_threads": 0}, ValueError, "max_threads must be at least 1, got 0"),
        ({"max_threads": 2.0}, TypeError, "max_threads must be an int, got float"),
        ({"max_threads": True}, TypeError, "max_threads must be an int, got bool"),
        ({"send_window": 0}, ValueError, "send_window must be at least 1"),
        ({"send_window": "big"}, TypeError, "send_window must be an int, got str"),
        ({"max_request_body_size": -1}, ValueError, "max_request_body_size must be at least 0"),
        ({"max_request_body_size": 1.5}, TypeError, "max_request_body_size must be an int"),
        ({"duplicate_header_limit": 0}, ValueError, "duplicate_header_limit must be at least 1"),
        ({"shutdown_timeout": -1}, ValueError, "shutdown_timeout must be >= 0 seconds"),
        ({"shutdown_timeout": float("inf")}, ValueError, "shutdown_timeout must be >= 0"),
        ({"shutdown_timeout": "5"}, TypeError, "shutdown_timeout must be a number of seconds"),
        ({"shutdown_timeout": True}, TypeError, "shutdown_timeout must be a number of seconds"),
    ],
    ids=lambda value: str(value) if isinstance(value, dict) else "",
)
def test_options_are_validated_in_init(
    options: dict[str, Any], error: type[Exception], match: str
) -> None:
    """House rule 10: options are keyword-only and validated with TypeError/ValueError."""
    with pytest.raises(error, match=match):
        bridge.WsgiToAsgi(simple_app([]), **options)


def test_app_must_be_callable_and_options_are_keyword_only() -> None:
    """House rule 10: ``WsgiToAsgi(app, /, *, ...)``."""
    with pytest.raises(TypeError, match="app must be a WSGI callable, got str"):
        bridge.WsgiToAsgi("app")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        bridge.WsgiToAsgi(simple_app([]), 40)  # type: ignore[misc]
    app = simple_app([])
    assert bridge.WsgiToAsgi(app, max_request_body_size=None).app is app


def test_init_starts_no_thread() -> None:
    """House rule 5: constructors have no side effects (no threads, loops or pools)."""
    import threading

    before = threading.active_count()
    adapter = bridge.WsgiToAsgi(simple_app([]), max_threads=3)
    assert threading.active_count() == before
    assert adapter._runner._pool is None  # type: ignore[attr-defined]
