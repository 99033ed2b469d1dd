"""``bridge._wsgi_to_asgi.server_task``: the ASGI side of a WsgiToAsgi request (asyncio and trio):
the environ, requests answered without the app, streaming, backpressure, uploads, disconnects,
cancellation, threads, app exceptions (a 500, or re-raised to the server) and contextvars.

Each test names the PEP 3333 / ASGI clause (or issue 3 rule) it checks. Synchronisation is by
events and bounded polling (``eventually``), never by sleeping for a guessed time.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

import anyio
import anyio.from_thread
import anyio.lowlevel
import pytest

import bridge
from bridge._runners import Inbox, Outbox
from bridge._runners.wakeups import ThreadGate
from bridge._wsgi_to_asgi.server_task import ServerTask
from tests.wsgi_to_asgi.helpers import (
    TIMEOUT,
    Body,
    Exchange,
    body_messages,
    eventually,
    http_scope,
    serve,
    simple_app,
    threads_in_bridge,
    wsgi,
)

pytestmark = pytest.mark.anyio
CHUNK = 10_000


@pytest.fixture(autouse=True)
def _no_thread_left_in_bridge() -> Iterator[None]:
    yield
    assert threads_in_bridge() == []


def endless(chunk: bytes = b"x" * CHUNK) -> Iterator[bytes]:
    while True:
        yield chunk


#: The code of a worker thread sleeping on a gate, and of the channel calls that do so.
GATE_WAIT = ThreadGate.wait.__code__
CHANNEL_CALLS = {"put": Outbox.put.__code__, "take": Inbox.take.__code__}


def worker_blocked_in(function: str) -> bool:
    """Whether a thread sleeps on a gate (``ThreadGate.wait``) under ``Outbox.put`` or
    ``Inbox.take`` (found by code object, never by file name)."""
    for frame in sys._current_frames().values():
        if frame.f_code is not GATE_WAIT:
            continue
        current: Any = frame.f_back
        while current is not None:
            if current.f_code is CHANNEL_CALLS[function]:
                return True
            current = current.f_back
    return False


# --- the environ ---------------------------------------------------------------------------------


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


# --- streaming and backpressure ------------------------------------------------------------------


async def test_pep3333_each_block_is_sent_before_the_next_is_requested() -> None:
    """PEP 3333 'Buffering and Streaming': the server must not delay a block waiting for the
    next one. The app blocks producing chunk 2 until chunk 1 reached send()."""
    first_sent = threading.Event()

    def before(index: int) -> None:
        if index == 1:
            assert first_sent.wait(TIMEOUT), "chunk 1 was held back"

    async def on_send(message: dict[str, Any]) -> None:
        if message.get("body") == b"one":
            first_sent.set()

    body = Body([b"one", b"two"], before=before)
    exchange = await serve(wsgi(simple_app(body)), exchange=Exchange(on_send=on_send))
    assert exchange.body == b"onetwo"
    assert exchange.complete


async def test_issue3_backpressure_pauses_the_app_thread_after_send_window_bytes() -> None:
    """Issue 3 'Response': byte-bounded backpressure. While send() is stuck, the app thread
    pulls chunks until ``send_window`` bytes are in flight, then waits; nothing is lost."""
    release = anyio.Event()

    async def on_send(message: dict[str, Any]) -> None:
        await release.wait()

    body = Body([b"x" * CHUNK] * 100)
    adapter = wsgi(simple_app(body), send_window=10 * CHUNK)
    exchange = Exchange(on_send=on_send)
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(serve, adapter, None, exchange)
        await eventually(lambda: worker_blocked_in("put"))
        assert body.pulled == 11  # the 11th chunk took the window over 10 * CHUNK bytes
        release.set()
    assert exchange.body == b"x" * CHUNK * 100
    assert exchange.complete
    assert body.closed == 1


async def test_issue3_in_flight_bytes_never_exceed_the_window_plus_one_batch() -> None:
    """Issue 3 'Response': memory stays bounded for a slow client (send yields each time)."""
    body = Body([b"y" * CHUNK] * 50)
    in_flight: list[int] = []

    async def on_send(message: dict[str, Any]) -> None:
        in_flight.append(CHUNK * body.pulled - len(exchange.body))
        await anyio.lowlevel.checkpoint()

    exchange = Exchange(on_send=on_send)
    await serve(wsgi(simple_app(body), send_window=3 * CHUNK), exchange=exchange)
    assert len(exchange.body) == 50 * CHUNK
    assert max(in_flight) <= 5 * CHUNK


# --- request body --------------------------------------------------------------------------------


def reading_app(
    read: Callable[[Any], list[bytes]], seen: list[Any]
) -> Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            seen.extend(read(environ["wsgi.input"]))
        except Exception as exc:
            seen.append(exc)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done"]

    return app


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        (lambda f: [f.read(-1)], [b"hello\nworld\nbye"]),
        (
            lambda f: [f.read(3), f.read(4), f.read(100), f.read(1)],
            [b"hel", b"lo\nw", b"orld\nbye", b""],
        ),
        (
            lambda f: [f.readline(), f.readline(2), f.readline(), f.readline()],
            [b"hello\n", b"wo", b"rld\n", b"bye"],
        ),
        (lambda f: f.readlines(), [b"hello\n", b"world\n", b"bye"]),
        (lambda f: f.readlines(3), [b"hello\n"]),
        (lambda f: list(f), [b"hello\n", b"world\n", b"bye"]),
    ],
    ids=["read", "read-n", "readline", "readlines", "readlines-hint", "iterate"],
)
async def test_pep3333_input_stream_methods_across_body_messages(
    read: Callable[[Any], list[bytes]], expected: list[bytes]
) -> None:
    """PEP 3333 'Input and Error Streams': read, readline, readlines, __iter__ over a body that
    arrives in several ASGI 'Request' messages, without Content-Length (chunked)."""
    seen: list[Any] = []
    incoming = body_messages(b"hel", b"lo\nwor", b"", b"ld\nbye")
    await serve(wsgi(reading_app(read, seen)), http_scope("POST"), Exchange(incoming))
    assert seen == expected


async def test_pep3333_input_never_reads_past_content_length() -> None:
    """PEP 3333 'Input and Error Streams' (CONTENT_LENGTH): extra bytes are not readable."""
    seen: list[Any] = []
    scope = http_scope("POST", headers=[(b"content-length", b"5")])
    incoming = body_messages(b"abc", b"defgh")
    app = reading_app(lambda f: [f.read(-1), f.read(-1)], seen)
    await serve(wsgi(app), scope, Exchange(incoming))
    assert seen == [b"abcde", b""]


async def test_issue3_app_starts_before_the_upload_ends() -> None:
    """Issue 3 'Request body': wsgi.input is fed lazily; the app runs during the upload."""
    started = anyio.Event()
    seen: list[Any] = []
    token = anyio.lowlevel.current_token()

    def read(stream: Any) -> list[bytes]:
        first = stream.read(5)
        anyio.from_thread.run_sync(started.set, token=token)
        return [first, stream.read(-1)]

    async def receive() -> dict[str, Any]:
        if not calls:
            calls.append(1)
            return {"type": "http.request", "body": b"start", "more_body": True}
        await started.wait()  # the rest of the body only comes once the app has started
        return {"type": "http.request", "body": b"-rest", "more_body": False}

    calls: list[int] = []
    exchange = Exchange()
    exchange.receive = receive  # type: ignore[method-assign]
    await serve(wsgi(reading_app(read, seen)), http_scope("POST"), exchange)
    assert seen == [b"start", b"-rest"]
    assert exchange.body == b"done"


async def test_issue3_upload_read_ahead_is_bounded() -> None:
    """Issue 3 'Request body': memory stays bounded; the pump reads at most a window ahead."""
    from bridge._wsgi_to_asgi.server_task import RECEIVE_WINDOW

    size = 64 * 1024
    total = 40
    consumed = [0]
    unread_at_receive: list[int] = []
    token = anyio.lowlevel.current_token()

    def read(stream: Any) -> list[bytes]:
        while data := stream.read(size):
            consumed[0] += len(data)
            # let the loop pump ahead as far as it may
            anyio.from_thread.run(anyio.sleep, 0, token=token)
        return [b"%d" % consumed[0]]

    incoming = body_messages(*[b"z" * size] * total)
    exchange = Exchange(incoming)
    original = exchange.receive

    async def receive() -> dict[str, Any]:
        delivered = size * (total - len(exchange.incoming))
        unread_at_receive.append(delivered - consumed[0])
        return await original()

    exchange.receive = receive  # type: ignore[method-assign]
    seen: list[Any] = []
    await serve(wsgi(reading_app(read, seen)), http_scope("POST"), exchange)
    assert seen == [b"%d" % (size * total)]
    assert max(unread_at_receive) <= RECEIVE_WINDOW + size


async def test_issue3_body_over_the_limit_mid_upload_is_413() -> None:
    """Issue 3 options: ``max_request_body_size`` also bounds a chunked body (no length)."""
    seen: list[Any] = []

    def read(stream: Any) -> list[bytes]:
        return [stream.read(-1)]

    adapter = bridge.WsgiToAsgi(reading_app(read, seen), max_request_body_size=5)
    incoming = body_messages(b"abc", b"def", b"ghi")
    exchange = await serve(adapter, http_scope("POST"), Exchange(incoming))
    assert isinstance(seen[0], bridge.RequestTooLarge)
    assert seen[0].status_code == 413
    assert exchange.body == b"done"  # the app chose to answer itself


async def test_issue3_body_over_the_limit_propagated_by_the_app_is_413_not_raised() -> None:
    """Issue 3 options: a RequestTooLarge the app lets through is answered 413 (client's fault)."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ["wsgi.input"].read(-1)
        raise AssertionError("unreachable")

    adapter = bridge.WsgiToAsgi(app, max_request_body_size=4)
    incoming = body_messages(b"abc", b"def")
    exchange = await serve(adapter, http_scope("POST"), Exchange(incoming))
    assert exchange.status == 413


# --- disconnects --------------------------------------------------------------------------------


async def test_asgi_disconnect_mid_upload_makes_the_next_read_raise_client_disconnected() -> None:
    """ASGI 'Disconnect' during the body: wsgi.input raises ClientDisconnected (an OSError),
    never a silently short body; nothing is sent and nothing is raised to the server."""
    seen: list[Any] = []
    incoming = [{"type": "http.request", "body": b"part", "more_body": True}]
    incoming.append({"type": "http.disconnect"})
    body = Body([b"never sent"])

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            environ["wsgi.input"].read(-1)
        except OSError as exc:
            seen.append(exc)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    exchange = await serve(wsgi(app), http_scope("POST"), Exchange(incoming))
    assert isinstance(seen[0], bridge.ClientDisconnected)
    assert isinstance(seen[0], bridge.BridgeError)
    assert exchange.sent == []
    assert body.closed == 1


async def test_asgi_disconnect_mid_upload_propagated_by_the_app_is_not_raised() -> None:
    """ASGI 'Disconnect': ClientDisconnected let through by the app is not a server error."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ["wsgi.input"].read(-1)
        raise AssertionError("unreachable")

    incoming = [{"type": "http.request", "body": b"part", "more_body": True}]
    incoming.append({"type": "http.disconnect"})
    exchange = await serve(wsgi(app), http_scope("POST"), Exchange(incoming))
    assert exchange.sent == []


async def test_asgi24_send_raising_oserror_stops_the_iterable_within_one_chunk() -> None:
    """ASGI 2.4 'send()' raises OSError after a disconnect: stop pulling, close, free the thread."""
    sends = [0]

    async def on_send(message: dict[str, Any]) -> None:
        sends[0] += 1
        if sends[0] == 4:  # start, body 1, body 2, then body 3 fails
            raise OSError("connection reset")

    body = Body(endless())
    await serve(wsgi(simple_app(body), send_window=1), exchange=Exchange(on_send=on_send))
    assert body.pulled == 3
    assert body.closed == 1
    assert len(set(body.threads)) == 1


async def test_asgi_http_disconnect_mid_download_stops_the_iterable_and_frees_a_stuck_send() -> (
    None
):
    """ASGI 'Disconnect' while streaming: the pump hears it; a send() that still blocks is
    cancelled, the iterable is not pulled again and close() runs once."""
    exchange = Exchange(body_messages(b""))
    bodies = [0]

    async def on_send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            bodies[0] += 1
            if bodies[0] == 3:
                exchange.disconnect()
                await anyio.sleep_forever()

    exchange.on_send = on_send
    body = Body(endless())
    await serve(wsgi(simple_app(body), send_window=1), exchange=exchange)
    assert body.pulled == 3
    assert body.closed == 1


async def test_asgi_http_disconnect_while_the_app_computes_stops_before_the_next_chunk() -> None:
    """ASGI 'Disconnect' between chunks: the chunk being computed is the last one pulled."""
    exchange = Exchange(body_messages(b""))
    go = threading.Event()
    delivered = [0]
    original = exchange.receive

    async def receive() -> dict[str, Any]:
        message = await original()
        delivered[0] += message["type"] == "http.disconnect"
        return message

    exchange.receive = receive  # type: ignore[method-assign]

    async def on_send(message: dict[str, Any]) -> None:
        if message.get("body") == b"x" * CHUNK:
            exchange.disconnect()
            await eventually(lambda: delivered[0] == 1)  # the pump has stopped the response
            go.set()

    def before(index: int) -> None:
        if index == 1:
            assert go.wait(TIMEOUT)

    exchange.on_send = on_send
    body = Body(endless(), before=before)
    await serve(wsgi(simple_app(body)), exchange=exchange)
    assert body.pulled in (1, 2)  # 1 when the worker saw the disconnect before asking again
    assert body.closed == 1
    assert exchange.body == b"x" * CHUNK


async def test_asgi_disconnect_before_the_response_streams_never_leaves_the_app_waiting() -> None:
    """ASGI 'Disconnect' that lands before the first flush: the loop stopped the response while
    it had no outbox yet, and the worker makes one for its first chunk, larger than
    ``send_window``. The loop side stops that outbox when it sees it, so the worker does not wait
    for room that no sender will make; ``close()`` runs once and nothing is sent."""
    exchange = Exchange(body_messages(b"a", b"never sent")[:1])  # the pump starts at once
    exchange.disconnect()  # and receives http.disconnect right after the first message
    seen: list[BaseException] = []
    body = Body(endless())

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            environ["wsgi.input"].read(100)
        except bridge.ClientDisconnected as exc:  # the loop has stopped the response by now
            seen.append(exc)
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return body

    await serve(wsgi(app, send_window=1), exchange=exchange)
    assert len(seen) == 1
    assert body.pulled == 1
    assert body.closed == 1
    assert exchange.sent == []


async def test_pep3333_write_after_a_disconnect_raises_client_disconnected() -> None:
    """PEP 3333 'The write() Callable' on a broken connection raises (an OSError)."""
    seen: list[Any] = []

    async def on_send(message: dict[str, Any]) -> None:
        raise OSError("gone")

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            for _ in range(1000):
                write(b"data")
        except OSError as exc:
            seen.append(exc)
        return []

    await serve(wsgi(app, send_window=1), exchange=Exchange(on_send=on_send))
    assert isinstance(seen[0], bridge.ClientDisconnected)


@pytest.mark.parametrize("streamed", [False, True], ids=["in-one-go", "streamed"])
async def test_asgi_send_raising_something_else_reaches_the_server_as_is(streamed: bool) -> None:
    """A server's ``send()`` failing with anything but ``OSError`` is the server's own problem:
    the same exception reaches it (not wrapped in an exception group), after close()."""
    body = Body(endless() if streamed else [b"a", b"b"])

    async def on_send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            raise KeyError("server bug")

    with pytest.raises(KeyError, match="server bug"):
        await serve(wsgi(simple_app(body), send_window=1), exchange=Exchange(on_send=on_send))
    assert body.closed == 1


class _ClosingList(list[bytes]):
    """A list body (sent in one go: ``next()`` cannot block) that counts its ``close()`` calls."""

    closed = 0

    def close(self) -> None:
        self.closed += 1


async def test_asgi_send_raising_something_else_after_a_list_body_reaches_the_server() -> None:
    """The same for a list body, whose messages the request task sends itself once the app
    returned (no sender task): the server's own exception, as is, after close()."""
    body = _ClosingList([b"a", b"b"])

    async def on_send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            raise KeyError("server bug")

    # Without wsgiref.validate, which would wrap the list in an iterator.
    app = bridge.WsgiToAsgi(simple_app(body, validate=False))
    with pytest.raises(KeyError, match="server bug"):
        await serve(app, exchange=Exchange(on_send=on_send))
    assert body.closed == 1


# --- cancellation and shutdown ------------------------------------------------------------------


async def test_issue3_cancelled_while_streaming_closes_once_without_hanging() -> None:
    """Issue 3 'close() on every path': the request task is cancelled mid-stream."""
    started = anyio.Event()

    async def on_send(message: dict[str, Any]) -> None:
        started.set()
        await anyio.sleep_forever()

    body = Body(endless())
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(serve, wsgi(simple_app(body)), None, Exchange(on_send=on_send))
            await started.wait()
            scope.cancel()
    assert body.closed == 1
    assert len(set(body.threads)) == 1


async def test_issue3_cancelled_while_the_app_call_blocks_still_closes_once() -> None:
    """Issue 3 'close() on every path': cancellation (server shutdown) during the app call
    waits for the thread; the app learns of it once a send window is in flight (one byte
    here), then the iterable is closed and the response is not finished."""
    entered = threading.Event()
    release = threading.Event()
    body = Body(endless())

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        entered.set()
        assert release.wait(TIMEOUT)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    exchange = Exchange()
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(serve, wsgi(app, send_window=1), None, exchange)
            await eventually(entered.is_set)
            scope.cancel()
            release.set()
    assert body.closed == 1
    assert body.pulled == 1
    assert [m for m in exchange.sent if m.get("more_body") is False] == []


async def test_issue3_server_shutdown_while_the_app_waits_for_body_bytes() -> None:
    """Issue 3 'close() on every path': shutdown while wsgi.input waits for the client; the
    read raises ClientDisconnected so the thread is freed."""
    seen: list[Any] = []
    incoming = [{"type": "http.request", "body": b"part", "more_body": True}]
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(
                serve,
                wsgi(reading_app(lambda f: [f.read(4), f.read(-1)], seen)),
                http_scope("POST"),
                Exchange(incoming),
            )
            await eventually(lambda: worker_blocked_in("take"))
            scope.cancel()
    assert len(seen) == 1
    assert isinstance(seen[0], bridge.ClientDisconnected)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_issue3_native_task_cancel_closes_in_the_worker_before_the_task_ends() -> None:
    """Issue 3 'close() on every path' (server shutdown): a plain asyncio ``Task.cancel()``, as
    Uvicorn's graceful-shutdown timeout and ``asyncio.run`` at exit do, while the worker is
    blocked on a full send window. The task ends only after close() ran, once, in the thread
    that called the app; a second cancel meanwhile is ignored."""
    in_close = threading.Event()
    release = threading.Event()
    call_thread: list[int] = []

    class Blocking(Body):
        def close(self) -> None:
            super().close()
            in_close.set()
            assert release.wait(TIMEOUT)  # app code still running after the cancellation

    body = Blocking(endless())

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        call_thread.append(threading.get_ident())
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    async def on_send(message: dict[str, Any]) -> None:
        await anyio.sleep_forever()  # a client that never reads: send() never returns

    adapter = wsgi(app, send_window=1)
    task = asyncio.get_running_loop().create_task(
        adapter(http_scope(), Exchange(on_send=on_send).receive, Exchange(on_send=on_send).send)
    )
    await eventually(lambda: worker_blocked_in("put"))
    task.cancel()
    await eventually(in_close.is_set)
    task.cancel()  # a second cancellation while close() runs: still waited for
    await anyio.sleep(0.01)
    assert not task.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert body.closed == 1
    assert set(body.threads) == set(call_thread)
    assert call_thread[0] != threading.get_ident()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_issue3_native_cancel_before_a_thread_is_free_never_calls_the_app() -> None:
    """Issue 3 'Concurrency': a request still waiting for a free thread when it is cancelled
    is withdrawn; the app is never called for it."""
    release = threading.Event()
    calls: list[str] = []

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        calls.append(environ["PATH_INFO"])
        assert release.wait(TIMEOUT)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    adapter = wsgi(app, max_threads=1)
    first = asyncio.get_running_loop().create_task(serve(adapter, http_scope(path="/first")))
    await eventually(lambda: calls == ["/first"])
    second = asyncio.get_running_loop().create_task(serve(adapter, http_scope(path="/second")))
    await eventually(lambda: len(adapter._runner._pool._backlog) == 1)
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    release.set()
    assert (await first).body == b"ok"
    assert calls == ["/first"]


# --- close() on every path and threads ---------------------------------------------------------


def _fail_at(index: int) -> Callable[[int], None]:
    def before(current: int) -> None:
        if current == index:
            raise LookupError("app failed")

    return before


@pytest.mark.parametrize(
    ("make_body", "headers", "on_send", "raises"),
    [
        (lambda: Body([b"a", b"b"]), [], None, None),
        (lambda: Body(endless(), before=None), [("Content-Length", "5")], None, None),
        (lambda: Body(endless(), before=_fail_at(0)), [], None, LookupError),
        (lambda: Body(endless(), before=_fail_at(3)), [], None, LookupError),
        (lambda: Body(endless()), [], "fail-send", None),
    ],
    ids=["normal-end", "content-length-reached", "exception-before-headers",
         "exception-after-headers", "client-disconnect"],
)  # fmt: skip
async def test_pep3333_close_is_called_exactly_once_in_the_app_thread_on_every_path(
    make_body: Callable[[], Body],
    headers: list[tuple[str, str]],
    on_send: str | None,
    raises: type[Exception] | None,
) -> None:
    """PEP 3333: 'If the iterable returned by the application has a close() method, the server
    must call that method upon completion of the current request, whether the request was
    completed normally, or terminated early due to an application error during iteration or an
    early disconnect of the browser.' Issue 3: call, next() and close() share one thread."""
    body = make_body()
    call_thread: list[int] = []

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        call_thread.append(threading.get_ident())
        start_response("200 OK", [("Content-Type", "text/plain"), *headers])
        return body

    async def fail_send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            raise OSError("reset")

    exchange = Exchange(on_send=fail_send if on_send else None)
    if raises is None:
        await serve(wsgi(app, send_window=1), exchange=exchange)
    else:
        with pytest.raises(raises):
            await serve(wsgi(app, send_window=1), exchange=exchange)
    assert body.closed == 1
    assert set(body.threads) == set(call_thread)
    assert call_thread[0] != threading.get_ident()


async def test_issue3_max_threads_bounds_concurrent_app_calls_per_loop() -> None:
    """Issue 3 'Concurrency': at most ``max_threads`` requests run the app at once."""
    release = threading.Event()
    active = [0, 0]  # now, most
    lock = threading.Lock()

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        with lock:
            active[0] += 1
            active[1] = max(active)
        assert release.wait(TIMEOUT)
        with lock:
            active[0] -= 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    adapter = wsgi(app, max_threads=2)
    exchanges = [Exchange() for _ in range(5)]
    async with anyio.create_task_group() as task_group:
        for exchange in exchanges:
            task_group.start_soon(serve, adapter, None, exchange)
        await eventually(lambda: active[0] == 2)
        pool = adapter._runner._pool
        await eventually(lambda: len(pool._backlog) == 3)  # three jobs wait for a free thread
        release.set()
    assert active[1] == 2
    assert all(exchange.body == b"ok" for exchange in exchanges)


def test_issue3_no_thread_outlives_aborted_requests_on_asyncio() -> None:
    """Issue 3 'no leaked thread': after aborted requests and the server's lifespan shutdown,
    every thread that ran the app exits (joined with a bound, no sleeping; not left to the
    pool's idle retirement, which would race the bound)."""
    app_threads: set[threading.Thread] = set()

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        app_threads.add(threading.current_thread())
        start_response("200 OK", [("Content-Type", "text/plain")])
        return endless()

    async def fail_send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            raise OSError("reset")

    async def main() -> None:
        adapter = wsgi(app)
        async with anyio.create_task_group() as task_group:
            for _ in range(20):
                task_group.start_soon(serve, adapter, None, Exchange(on_send=fail_send))
        shutdown = Exchange([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
        await serve(adapter, {"type": "lifespan", "asgi": {"version": "3.0"}}, shutdown)

    anyio.run(main, backend="asyncio")
    assert app_threads
    for thread in app_threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive()


# --- memory: no reference cycles ----------------------------------------------------------------


def _echo_streamed(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    while chunk := environ["wsgi.input"].read(3):
        yield chunk


def _requests_of(adapter: bridge.WsgiToAsgi, garbage: list[Any]) -> int:
    """How many of ``adapter``'s per-request objects (its server tasks) ``garbage`` holds.

    Only this adapter's: other tests' objects (a retired thread pool, a failed request's
    traceback) may turn into garbage while this test runs.
    """
    settings = adapter._settings
    return sum(1 for item in garbage if isinstance(item, ServerTask) and item._settings is settings)


async def test_issue3_a_streamed_upload_leaves_no_reference_cycle() -> None:
    """Issue 3 'memory stays bounded': a request whose helper tasks (sender, body pump) were
    started and cancelled is freed by reference counting when it ends. A cycle through a
    cancelled helper's traceback once kept every such request's last body chunk alive until
    the cyclic garbage collector ran, which uploads (few allocations per MiB) rarely trigger."""
    adapter = wsgi(_echo_streamed)
    await serve(adapter, http_scope("POST"), Exchange(body_messages(b"abc", b"def")))  # warm up
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(3):
            exchange = Exchange(body_messages(b"abc", b"def", b"ghi"))
            await serve(adapter, http_scope("POST"), exchange)
            assert exchange.body == b"abcdefghi"
        gc.collect()
        found = _requests_of(adapter, gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert found == 0


# --- app exceptions ------------------------------------------------------------------------------


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
