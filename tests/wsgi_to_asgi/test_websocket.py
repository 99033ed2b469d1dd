"""WsgiToAsgi WebSockets in process: scripted ASGI messages on one side, and on the other WSGI
apps that speak WebSocket on ``environ["werkzeug.socket"]`` with wsproto (as simple-websocket
does), written to reach the edge cases a flask-sock app seldom does. The end-to-end tests with
flask-sock on real servers are in ``tests/e2e/test_websocket_wsgi_to_asgi.py``.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

import anyio
import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    RejectConnection,
    RejectData,
    TextMessage,
)

import bridge
from bridge._translate.websocket import handshake_headers

TIMEOUT = 10.0
pytestmark = pytest.mark.anyio
Script = Callable[[socket.socket, WSConnection], None]


def ws_scope(*headers: tuple[bytes, bytes], denial: bool = True) -> dict[str, Any]:
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws",
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"example.com"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "subprotocols": [],
        "extensions": {"websocket.http.response": {}} if denial else {},
    }


class Client:
    """The ASGI server's side: ``incoming`` replayed, then ``websocket.disconnect`` when told."""

    def __init__(self, *incoming: dict[str, Any]) -> None:
        self.incoming = [{"type": "websocket.connect"}, *incoming]
        self.sent: list[dict[str, Any]] = []
        self.gone = anyio.Event()
        self.on_send: Callable[[dict[str, Any]], None] | None = None

    async def receive(self) -> dict[str, Any]:
        if self.incoming:
            return self.incoming.pop(0)
        await self.gone.wait()
        return {"type": "websocket.disconnect", "code": 1006}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        if self.on_send is not None:
            self.on_send(message)

    def types(self) -> list[str]:
        return [message["type"] for message in self.sent]


def socket_app(script: Script, *, returns: Iterable[bytes] = ()) -> Any:
    """A WSGI app that serves the WebSocket itself on ``werkzeug.socket`` with wsproto."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        sock = environ["werkzeug.socket"]
        ws = WSConnection(ConnectionType.SERVER)
        ws.initiate_upgrade_connection(handshake_headers(environ), "/")
        next(ws.events())
        script(sock, ws)
        start_response("200 OK", [])
        return returns

    return app


def read_events(sock: socket.socket, ws: WSConnection) -> list[Any]:
    found = list(ws.events())
    while not found:
        data = sock.recv(65536)
        ws.receive_data(data or None)
        found = list(ws.events())
    return found


async def serve(
    app: Any, client: Client, scope: dict[str, Any] | None = None, **options: Any
) -> None:
    with anyio.fail_after(TIMEOUT):
        await bridge.WsgiToAsgi(app, **options)(scope or ws_scope(), client.receive, client.send)  # type: ignore[arg-type]


async def test_messages_and_close_codes_relayed_both_ways() -> None:
    """ASGI ``websocket.receive`` -> frames to the app, the app's frames -> ``websocket.send``,
    the app's close frame -> ``websocket.close`` with its code and reason."""
    got: list[Any] = []

    def script(sock: socket.socket, ws: WSConnection) -> None:
        sock.sendall(ws.send(AcceptConnection(extra_headers=[(b"X-App", b"yes")])))
        while len(got) < 2:
            for event in read_events(sock, ws):
                got.append(event.data)
                sock.sendall(ws.send(type(event)(data=event.data)))
        sock.sendall(ws.send(CloseConnection(4000, "app done")))
        got.append(read_events(sock, ws)[0].code)

    client = Client(
        {"type": "websocket.receive", "text": "hi", "bytes": None},
        {"type": "websocket.receive", "bytes": b"\x00\x01"},
    )
    await serve(socket_app(script), client)
    assert client.sent == [
        {"type": "websocket.accept", "subprotocol": None, "headers": [(b"x-app", b"yes")]},
        {"type": "websocket.send", "bytes": None, "text": "hi"},
        {"type": "websocket.send", "bytes": b"\x00\x01", "text": None},
        {"type": "websocket.close", "code": 4000, "reason": "app done"},
    ]
    assert got == ["hi", b"\x00\x01", 4000]


@pytest.mark.parametrize(("code", "app_sees"), [(4001, 4001), (1006, None)])
async def test_the_clients_disconnect_reaches_the_app(code: int, app_sees: int | None) -> None:
    """ASGI ``websocket.disconnect``: a close code becomes the app's close frame; 1006 (the
    connection dropped) shuts the app's socket down, so it reads EOF."""
    seen: list[Any] = []

    def script(sock: socket.socket, ws: WSConnection) -> None:
        sock.sendall(ws.send(AcceptConnection()))
        event = read_events(sock, ws)[0]
        seen.append(event.code if isinstance(event, CloseConnection) else None)

    client = Client({"type": "websocket.disconnect", "code": code, "reason": "bye"})
    await serve(socket_app(script), client)
    assert seen == [1006 if app_sees is None else app_sees]
    assert client.types() == ["websocket.accept"]


async def test_an_app_that_drops_its_socket_closes_with_1011() -> None:
    """RFC 6455 7.4.1 1011: the app's socket ended without a close frame."""

    def script(sock: socket.socket, ws: WSConnection) -> None:
        sock.sendall(ws.send(AcceptConnection()) + ws.send(TextMessage("last")))

    client = Client()
    await serve(socket_app(script), client)
    assert client.sent[1:] == [
        {"type": "websocket.send", "bytes": None, "text": "last"},
        {"type": "websocket.close", "code": 1011, "reason": ""},
    ]


async def test_the_apps_own_refusal_on_its_socket() -> None:
    """An app that answers the upgrade with an HTTP response on the socket: that response,
    through ``websocket.http.response``."""

    def script(sock: socket.socket, ws: WSConnection) -> None:
        sock.sendall(ws.send(RejectConnection(status_code=401, has_body=True)))
        sock.sendall(ws.send(RejectData(b"go away")))

    client = Client()
    await serve(socket_app(script), client)
    assert client.sent[0]["status"] == 401
    assert client.sent[1] == {
        "type": "websocket.http.response.body",
        "body": b"go away",
        "more_body": False,
    }


async def test_a_plain_wsgi_answer_is_the_refusal() -> None:
    """An app that never touches the socket (a 404 page): its WSGI response is the refusal."""

    def app(environ: Any, start_response: Any) -> Iterable[bytes]:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no such ", b"route"]

    client = Client()
    await serve(app, client)
    assert client.sent[0]["status"] == 404
    assert (b"content-type", b"text/plain") in client.sent[0]["headers"]
    assert client.sent[1]["body"] == b"no such route"


@pytest.mark.parametrize(
    ("write", "error"),
    [
        pytest.param(b"garbage\r\n\r\n", "invalid handshake answer", id="garbage"),
        pytest.param(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n",
                     "wrong Sec-WebSocket-Accept", id="bad-accept"),
    ],
)  # fmt: skip
async def test_a_broken_handshake_answer_is_refused_and_raised(write: bytes, error: str) -> None:
    """The app wrote something that is not a handshake answer: 500 to the client, and the
    error raised to the server (never swallowed)."""
    client = Client()
    with pytest.raises(bridge.ApplicationError, match=error):
        await serve(socket_app(lambda sock, ws: sock.sendall(write)), client)
    assert client.sent[0]["status"] == 500


async def test_an_app_error_before_the_socket_is_refused_and_raised() -> None:
    """PEP 3333 / house rule: answer 500 when nothing was sent, then let the server see it."""

    def app(environ: Any, start_response: Any) -> Iterable[bytes]:
        raise LookupError("no route table")

    client = Client()
    with pytest.raises(LookupError, match="no route table"):
        await serve(app, client)
    assert client.sent[0]["status"] == 500


async def test_stop_iteration_after_the_socket_is_flask_socks_gunicorn_ending() -> None:
    """flask-sock ends a request on Gunicorn by raising ``StopIteration``: not an error."""

    def app(environ: Any, start_response: Any) -> Iterable[bytes]:
        socket_app(lambda sock, ws: sock.sendall(ws.send(AcceptConnection())))(
            environ, start_response
        )
        raise StopIteration

    client = Client()
    await serve(app, client)
    assert client.types() == ["websocket.accept", "websocket.close"]


async def test_a_request_bridge_cannot_translate_is_a_400() -> None:
    """A header repeated past ``duplicate_header_limit`` (as for HTTP): 400, app not called."""
    client = Client()
    scope = ws_scope(*[(b"x-a", b"1")] * 3)
    await serve(socket_app(lambda sock, ws: None), client, scope, duplicate_header_limit=2)
    assert client.sent[0]["status"] == 400


async def test_without_the_denial_extension_a_refusal_is_a_close() -> None:
    """ASGI: a close before accept makes the server answer 403."""
    client = Client()
    await serve(lambda e, s: [], client, ws_scope(denial=False), runner="greenlet")
    assert client.sent == [{"type": "websocket.close", "code": 1000, "reason": ""}]


async def test_a_client_gone_during_the_accept_ends_the_relay() -> None:
    """ASGI 2.4: ``send()`` raising ``OSError`` means the client left; the app reads EOF."""
    seen: list[Any] = []

    def script(sock: socket.socket, ws: WSConnection) -> None:
        sock.sendall(ws.send(AcceptConnection()))
        seen.append(sock.recv(10))

    client = Client()

    def refuse(message: dict[str, Any]) -> None:
        raise ConnectionResetError("client gone")

    client.on_send = refuse
    await serve(socket_app(script), client)
    assert seen == [b""]


async def test_the_app_bytes_message_is_relayed() -> None:
    def script(sock: socket.socket, ws: WSConnection) -> None:
        sock.sendall(ws.send(AcceptConnection()) + ws.send(BytesMessage(b"raw")))
        sock.sendall(ws.send(CloseConnection(1000)))
        read_events(sock, ws)

    client = Client()
    await serve(socket_app(script), client)
    assert client.sent[1] == {"type": "websocket.send", "bytes": b"raw", "text": None}


async def test_a_failing_receive_ends_the_websocket_and_is_raised() -> None:
    """A server whose ``receive()`` fails mid-WebSocket: the app's socket is shut (it reads
    EOF), and the server's error reaches the server, not swallowed in a task group."""
    seen: list[Any] = []

    def script(sock: socket.socket, ws: WSConnection) -> None:
        sock.sendall(ws.send(AcceptConnection()))
        seen.append(sock.recv(10))

    client = Client()

    async def broken() -> dict[str, Any]:
        raise RuntimeError("receive broke")

    client.receive = broken  # type: ignore[method-assign]
    client.incoming = []
    with pytest.raises(RuntimeError, match="receive broke"):
        await bridge.WsgiToAsgi(socket_app(script))(
            ws_scope(),
            _first_connect(broken),
            client.send,  # type: ignore[arg-type]
        )
    assert seen == [b""]


def _first_connect(then: Callable[[], Any]) -> Callable[[], Any]:
    """A ``receive`` that gives ``websocket.connect`` once, then calls ``then``."""
    calls = []

    async def receive() -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 1:
            return {"type": "websocket.connect"}
        return await then()  # type: ignore[no-any-return]

    return receive


async def test_an_unknown_message_from_the_server_is_skipped() -> None:
    """ASGI: a message type the WebSocket spec does not define is ignored (a server extension
    bridge does not know); the messages after it still reach the app."""
    got: list[Any] = []

    def script(sock: socket.socket, ws: WSConnection) -> None:
        sock.sendall(ws.send(AcceptConnection()))
        got.extend(event.data for event in read_events(sock, ws))
        sock.sendall(ws.send(CloseConnection(1000)))
        read_events(sock, ws)

    client = Client(
        {"type": "websocket.extension.unknown"},
        {"type": "websocket.receive", "text": "after", "bytes": None},
    )
    await serve(socket_app(script), client)
    assert got == ["after"]


async def test_a_message_of_the_app_after_the_client_left_is_dropped() -> None:
    """RFC 6455 5.5.1: after the client's close the server sends no more data to it; a message
    the app wrote before it read that close goes nowhere, and is not an error."""

    def script(sock: socket.socket, ws: WSConnection) -> None:
        sock.sendall(ws.send(AcceptConnection()))
        (close,) = read_events(sock, ws)
        assert isinstance(close, CloseConnection)
        sock.sendall(b"\x81\x04late")  # an unmasked text frame, as if written before the close
        sock.sendall(ws.send(close.response()))

    client = Client({"type": "websocket.disconnect", "code": 4001, "reason": "bye"})
    await serve(socket_app(script), client)
    assert client.types() == ["websocket.accept"]


async def test_a_message_for_an_app_that_stopped_reading_ends_the_relay() -> None:
    """The app shut its socket for reading: the client's message cannot be written to it (the
    relay ends quietly, no error raised to the server), and the app's close still goes out."""

    client = Client({"type": "websocket.receive", "text": "unread", "bytes": None})

    def script(sock: socket.socket, ws: WSConnection) -> None:
        sock.shutdown(socket.SHUT_RD)
        sock.sendall(ws.send(AcceptConnection()))
        # The relay took the message: its write to this socket follows in the same loop step.
        deadline = time.monotonic() + TIMEOUT
        while client.incoming and time.monotonic() < deadline:
            time.sleep(0.01)
        sock.sendall(ws.send(CloseConnection(1000, "done")))

    await serve(socket_app(script), client)
    assert client.sent[-1] == {"type": "websocket.close", "code": 1000, "reason": "done"}


async def test_an_invalid_refusal_header_is_a_500_and_raised() -> None:
    """An app that refuses with a header value no HTTP message may carry (a line break, RFC 9110
    5.5): 500 to the client instead, and the error raised to the server."""

    def app(environ: Any, start_response: Any) -> Iterable[bytes]:
        start_response("403 Forbidden", [("X-Reason", "two\r\nlines")])
        return [b"no"]

    client = Client()
    with pytest.raises(bridge.ApplicationError, match="'X-Reason' holds a control character"):
        await serve(app, client)
    assert client.sent[0]["status"] == 500
