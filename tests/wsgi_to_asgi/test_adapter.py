"""WsgiToAsgi in process: responses, errors, other scopes and options (asyncio and trio).

Each test names the PEP 3333 or ASGI clause it checks. Apps are wrapped in
``wsgiref.validate.validator`` unless the test breaks the protocol on purpose (the validator
would then stop the app before bridge sees the violation).
"""

from __future__ import annotations

import contextvars
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
