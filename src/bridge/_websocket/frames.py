"""One end of an open WebSocket, sans-IO: :class:`Peer` (bytes in, whole messages out).

A :class:`Peer` wraps wsproto's ``Connection`` (the frame layer after the handshake) for the way
bridge uses it in both directions: the ASGI spec wants whole messages ("servers should handle
message fragmentation themselves, and deliver complete messages") and PING/PONG handled below
the app, so :meth:`Peer.feed` assembles fragments (up to ``max_size``), answers pings and the
peer's close frame on its own, and returns only messages and the close.

RFC 6455 clauses it relies on:

* 5.4: a message may come in any number of fragments; control frames may interleave.
* 5.5.2/5.5.3: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response".
* 5.5.1/7.1.2: an endpoint that receives a Close frame and has not sent one "MUST send a Close
  frame in response"; the answers are collected in :attr:`Peer.outgoing` for the caller to send.
* 7.4.1: 1009 "a message that is too big for it to process"; 1005 and 1006 are never sent
  (wsproto sends a Close without a code, or 1000, for them).
"""

from __future__ import annotations

from typing import NamedTuple, cast

from wsproto.connection import Connection, ConnectionState
from wsproto.events import (
    BytesMessage,
    CloseConnection,
    Ping,
    TextMessage,
)

__all__ = ["Closed", "Peer"]

#: RFC 6455 7.4.1 close codes bridge uses by name.
NORMAL = 1000
GOING_AWAY = 1001
NO_STATUS = 1005
ABNORMAL = 1006
TOO_BIG = 1009
INTERNAL_ERROR = 1011


class Closed(NamedTuple):
    """The peer closed the WebSocket (or the connection dropped: code 1006)."""

    code: int
    reason: str


class Peer:
    """The frame layer of one open WebSocket (see the module docstring).

    :param connection: wsproto's frame layer, as the handshake left it (extensions agreed, any
        bytes that came right after the handshake already given to it).
    :param max_size: the largest message accepted, in bytes (UTF-8 bytes for text), or ``None``.
    """

    __slots__ = ("_conn", "_max_size", "_parts", "_size", "_text", "closed", "outgoing")

    def __init__(self, connection: Connection, *, max_size: int | None = None) -> None:
        self._conn = connection
        self._max_size = max_size
        self._parts: list[str | bytes] = []
        self._size = 0
        self._text = False
        #: How the WebSocket ended, once it did.
        self.closed: Closed | None = None
        #: Bytes that must go to the peer (pongs, the answer to its close frame).
        self.outgoing = bytearray()

    def feed(self, data: bytes | None) -> list[str | bytes | Closed]:
        """Take bytes from the peer (``None``: the connection ended); return its messages and close.

        ``b""`` returns what earlier bytes (such as the ``trailing`` ones) hold. After a
        :class:`Closed`, nothing more is returned.
        """
        if self.closed is not None:
            return []
        if data != b"":
            self._conn.receive_data(data)
        found: list[str | bytes | Closed] = []
        for event in self._conn.events():
            if isinstance(event, TextMessage | BytesMessage):
                message = self._add_part(event)
                if message is not None:
                    found.append(message)
            elif isinstance(event, Ping):
                if self._conn.state is ConnectionState.OPEN:
                    self.outgoing += self._conn.send(event.response())
            elif isinstance(event, CloseConnection):
                found.append(self._remote_closed(event))
            if self.closed is not None:
                break
        return found

    def _add_part(self, event: TextMessage | BytesMessage) -> str | bytes | Closed | None:
        data = event.data
        self._text = isinstance(event, TextMessage)
        self._size += len(data.encode("utf-8")) if isinstance(data, str) else len(data)
        if self._max_size is not None and self._size > self._max_size:
            reason = f"message over {self._max_size} bytes"
            self.outgoing += self.close(TOO_BIG, reason)
            self.closed = Closed(TOO_BIG, reason)
            return self.closed
        if not event.message_finished:
            self._parts.append(bytes(data) if isinstance(data, bytearray) else data)
            return None
        part = bytes(data) if isinstance(data, bytearray) else data
        parts, self._parts, self._size = self._parts, [], 0
        if not parts:
            return part
        parts.append(part)
        if self._text:
            return "".join(cast("list[str]", parts))
        return b"".join(cast("list[bytes]", parts))

    def _remote_closed(self, event: CloseConnection) -> Closed:
        code = event.code if event.code is not None else NO_STATUS
        if self._conn.state is not ConnectionState.CLOSED and code != ABNORMAL:
            self.outgoing += self.close(int(code), event.reason or "")
        self.closed = Closed(int(code), event.reason or "")
        return self.closed

    def message(self, data: str | bytes) -> bytes:
        """Return the frame of one whole message (text for ``str``), or ``b""`` once closing."""
        if self._conn.state is not ConnectionState.OPEN:
            return b""
        event = TextMessage(data=data) if isinstance(data, str) else BytesMessage(data=data)
        return bytes(self._conn.send(event))

    def close(self, code: int, reason: str = "") -> bytes:
        """Return our close frame (``b""`` if one was sent already or the connection ended)."""
        if self._conn.state not in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
            return b""
        if code in (NO_STATUS, ABNORMAL):
            code, reason = NORMAL, ""
        return bytes(self._conn.send(CloseConnection(code=code, reason=reason or None)))

    @property
    def close_sent(self) -> bool:
        """Whether our close frame went out (the closing handshake began or ended)."""
        return self._conn.state in (ConnectionState.LOCAL_CLOSING, ConnectionState.CLOSED)

    def take_outgoing(self) -> bytes:
        """Return and forget the bytes :meth:`feed` queued for the peer."""
        data = bytes(self.outgoing)
        self.outgoing.clear()
        return data
