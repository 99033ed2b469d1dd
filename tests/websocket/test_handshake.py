"""``bridge._websocket.handshake``: the opening handshake as the server of a client, and as the
client of a WSGI app (sans-IO, RFC 6455 4)."""

from __future__ import annotations

import h11
import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request

from bridge import ApplicationError
from bridge._translate.websocket import accept_token
from bridge._websocket.handshake import AppAnswer, AppDenied, ClientHandshake, HandshakeRefused

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
REQUEST = [
    (b"host", b"example.com"),
    (b"upgrade", b"websocket"),
    (b"connection", b"Upgrade"),
    (b"sec-websocket-key", KEY.encode()),
    (b"sec-websocket-version", b"13"),
]


def test_accept_answers_101_with_the_subprotocol_and_deflate() -> None:
    """RFC 6455 4.2.2 and RFC 7692: the 101 carries the accept token, the chosen subprotocol,
    the app's headers, and permessage-deflate when the client offered it."""
    offers = [
        (b"sec-websocket-protocol", b"chat, v2"),
        (b"sec-websocket-extensions", b"permessage-deflate"),
    ]
    handshake = ClientHandshake([*REQUEST, *offers], "/")
    answer, _ = handshake.accept("v2", [(b"set-cookie", b"a=1")])
    head = answer.decode("latin-1").lower()
    assert head.startswith("http/1.1 101 ")
    assert accept_token(KEY).lower() in head
    assert "sec-websocket-protocol: v2" in head
    assert "permessage-deflate" in head
    assert "set-cookie: a=1" in head


def test_a_subprotocol_not_offered_is_the_apps_fault() -> None:
    """ASGI ``websocket.accept``: the subprotocol must be one the client offered."""
    with pytest.raises(ApplicationError, match="cannot accept the WebSocket"):
        ClientHandshake(REQUEST, "/").accept("nope", [])


@pytest.mark.parametrize(
    ("drop", "version", "status"),
    [
        pytest.param(b"sec-websocket-key", b"13", 400, id="no-key"),
        pytest.param(b"", b"8", 426, id="old-version"),
    ],
)
def test_an_invalid_request_is_refused(drop: bytes, version: bytes, status: int) -> None:
    """RFC 6455 4.2.2: "If the server doesn't support the requested version, it MUST respond
    with a |Sec-WebSocket-Version| header field" (426 Upgrade Required); a missing key is 400."""
    headers = [
        (k, version if k == b"sec-websocket-version" else v) for k, v in REQUEST if k != drop
    ]
    with pytest.raises(HandshakeRefused) as refused:
        ClientHandshake(headers, "/")
    assert refused.value.status_code == status


def app_answer(data: bytes, subprotocols: list[str] | None = None) -> object:
    return AppAnswer(KEY, subprotocols or []).feed(data)


def server_101(**options: object) -> bytes:
    """What a wsproto server (as simple-websocket's) writes to accept the request."""
    server = WSConnection(ConnectionType.SERVER)
    server.initiate_upgrade_connection([*REQUEST, (b"sec-websocket-protocol", b"chat")], "/")
    next(server.events())
    return server.send(AcceptConnection(**options))  # type: ignore[arg-type]


def test_the_apps_101_is_accepted_with_its_subprotocol_and_trailing_frames() -> None:
    """RFC 6455 4.1: the client checks Upgrade, Connection and Sec-WebSocket-Accept; frames
    right after the 101 belong to the connection."""
    client = WSConnection(ConnectionType.CLIENT)
    client.send(Request(host="x", target="/"))
    answer = AppAnswer(KEY, ["chat"])
    frame = b"\x81\x02hi"  # an unmasked text frame from the server
    result = answer.feed(server_101(subprotocol="chat", extra_headers=[(b"X-A", b"1")]) + frame)
    assert result is not None
    assert not isinstance(result, AppDenied)
    assert result.subprotocol == "chat"
    assert result.headers == [(b"x-a", b"1")]
    assert next(iter(result.connection.events())).data == "hi"  # type: ignore[attr-defined]


def test_the_apps_refusal_is_read_whole() -> None:
    """An HTTP response instead of the 101 (a 401 from a WebSocket route) is the refusal."""
    data = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 8\r\nX-Why: no\r\n\r\nno entry"
    answer = AppAnswer(KEY, [])
    assert answer.feed(data[:40]) is None
    assert answer.feed(data[40:]) == AppDenied(401, [(b"x-why", b"no")], b"no entry")


def test_a_refusal_without_length_ends_at_eof() -> None:
    answer = AppAnswer(KEY, [])
    assert answer.feed(b"HTTP/1.1 403 Forbidden\r\n\r\nnope") is None
    assert answer.feed(b"") == AppDenied(403, [], b"nope")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"garbage\r\n\r\n", "invalid handshake answer", id="garbage"),
        pytest.param(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: wrong\r\n\r\n", "wrong Sec-WebSocket-Accept", id="bad-accept"),
        pytest.param(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
            "lacks 'Upgrade: websocket'", id="not-websocket"),
        pytest.param(b"HTTP/1.1 100 Continue\r\n\r\n", "ended its handshake answer early",
                     id="informational"),
    ],
)  # fmt: skip
def test_a_broken_answer_is_the_apps_fault(data: bytes, message: str) -> None:
    with pytest.raises(ApplicationError, match=message):
        app_answer(data)


def test_an_extension_or_subprotocol_nobody_offered_is_the_apps_fault() -> None:
    head = (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept_token(KEY)}\r\n"
    )
    with pytest.raises(ApplicationError, match="extension nobody offered"):
        app_answer((head + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n").encode())
    with pytest.raises(ApplicationError, match="subprotocol not offered"):
        app_answer((head + "Sec-WebSocket-Protocol: chat\r\n\r\n").encode(), ["v2"])


def test_a_refusal_body_over_the_limit_is_the_apps_fault() -> None:
    answer = AppAnswer(KEY, [])
    answer.feed(b"HTTP/1.1 500 Oops\r\n\r\n")
    with pytest.raises(ApplicationError, match="refusal is over"):
        answer.feed(b"x" * (2 * 1024 * 1024))


def test_h11_is_what_parses_the_answer() -> None:
    """The parser is h11, wsproto's own dependency (no third HTTP parser)."""
    assert AppAnswer(KEY, [])._conn.our_role is h11.CLIENT
