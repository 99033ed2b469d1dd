"""``bridge._wsgi_to_asgi.app_call``: the PEP 3333 side of a WsgiToAsgi request (asyncio and trio).

``start_response`` and its checks, ``exc_info``, ``write()``, Content-Length, bodies that are
not allowed (HEAD, 204, 304), ``close()``, and how the app's response becomes ASGI messages (in
one go or streamed). Each test names the PEP 3333 or ASGI clause it checks. Apps are wrapped in
``wsgiref.validate.validator`` unless the test breaks the protocol on purpose (the validator
would then stop the app before bridge sees the violation).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from wsgiref.types import StartResponse, WSGIEnvironment

import pytest

import bridge
from tests.wsgi_to_asgi.helpers import (
    Body,
    Exchange,
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
