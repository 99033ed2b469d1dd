"""``bridge._websocket.frames``: whole messages out of frames, pings and closes answered (sans-IO).

A wsproto client is the other end: what it sends is fed to a server-side :class:`Peer`, and what
the peer queues is read back by the client.
"""

from __future__ import annotations

import pytest
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage

from bridge._websocket.frames import Closed, Peer


def pair(max_size: int | None = None) -> tuple[Connection, Peer]:
    return Connection(ConnectionType.CLIENT), Peer(
        Connection(ConnectionType.SERVER), max_size=max_size
    )


def test_fragments_become_one_message() -> None:
    """RFC 6455 5.4: a message may come in many fragments; the ASGI app gets it whole."""
    client, peer = pair()
    data = client.send(TextMessage("frag", message_finished=False))
    data += client.send(Ping(b"x"))  # a control frame between fragments (5.4)
    data += client.send(TextMessage("mént", message_finished=True))
    data += client.send(BytesMessage(b"\x00\x01"))
    assert peer.feed(data) == ["fragmént", b"\x00\x01"]
    client.receive_data(peer.take_outgoing())
    assert [type(event) for event in client.events()] == [Pong]


def test_bytes_fragments_and_leftover_bytes() -> None:
    """Binary fragments join as bytes; ``feed(b"")`` reads what came with the handshake."""
    client = Connection(ConnectionType.CLIENT)
    data = client.send(BytesMessage(b"ab", message_finished=False))
    data += client.send(BytesMessage(b"cd"))
    peer = Peer(Connection(ConnectionType.SERVER, None, data))
    assert peer.feed(b"") == [b"abcd"]


def test_a_close_is_answered_and_ends_the_stream() -> None:
    """RFC 6455 5.5.1: an endpoint that receives a Close frame answers with a Close frame."""
    client, peer = pair()
    found = peer.feed(client.send(CloseConnection(4000, "bye")) + b"\x81\x81\0\0\0\0x")
    assert found == [Closed(4000, "bye")]
    assert peer.feed(b"more") == []
    client.receive_data(peer.take_outgoing())
    (event,) = client.events()
    assert isinstance(event, CloseConnection)
    assert event.code == 4000
    assert peer.message("late") == b""
    assert peer.close(1000) == b""


def test_our_close_first_then_the_answer() -> None:
    """RFC 6455 7.1.2: we start the closing handshake; the peer's answer ends it."""
    client, peer = pair()
    client.receive_data(peer.close(1001, "going away"))
    (event,) = client.events()
    assert (event.code, event.reason) == (1001, "going away")
    assert peer.close_sent
    assert peer.feed(client.send(event.response())) == [Closed(1001, "going away")]
    assert peer.take_outgoing() == b""


@pytest.mark.parametrize("code", [1005, 1006])
def test_codes_never_sent_on_the_wire_become_1000(code: int) -> None:
    """RFC 6455 7.4.1: 1005 and 1006 "MUST NOT be set as a status code in a Close control frame"."""
    client, peer = pair()
    client.receive_data(peer.close(code, "ignored"))
    (event,) = client.events()
    assert event.code == 1000


def test_eof_is_1006_and_nothing_is_answered() -> None:
    """RFC 6455 7.1.5: a connection closed without a Close frame is 1006."""
    _, peer = pair()
    assert peer.feed(None) == [Closed(1006, "")]
    assert peer.take_outgoing() == b""


def test_a_message_over_the_limit_closes_with_1009() -> None:
    """RFC 6455 7.4.1: 1009, a message too big to process (counted as it arrives)."""
    client, peer = pair(max_size=10)
    data = client.send(TextMessage("é" * 5, message_finished=False))  # 10 UTF-8 bytes: fits
    assert peer.feed(data) == []
    found = peer.feed(client.send(TextMessage("x")))
    assert found == [Closed(1009, "message over 10 bytes")]
    client.receive_data(peer.take_outgoing())
    (event,) = client.events()
    assert event.code == 1009


def test_a_protocol_error_closes_with_its_code() -> None:
    """RFC 6455 5.2/7.4.1: an unmasked client frame is a protocol error (1002)."""
    _, peer = pair()
    (closed,) = peer.feed(b"\x81\x01x")
    assert isinstance(closed, Closed)
    assert closed.code == 1002
