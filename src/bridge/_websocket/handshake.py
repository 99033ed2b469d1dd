"""The opening handshake of a WebSocket, both roles bridge plays, sans-IO (wsproto and h11).

* :class:`ClientHandshake` is bridge as the **server** of a real client (AsgiToWsgi): the WSGI
  server already parsed the upgrade request, so wsproto's ``initiate_upgrade_connection`` checks
  it ("This should be used if the request has already be received and parsed"), and
  :meth:`~ClientHandshake.accept` writes the ``101 Switching Protocols`` answer (RFC 6455 4.2.2),
  with permessage-deflate when the client offered it (RFC 7692).
* :class:`AppAnswer` is bridge as the **client** of a WSGI app that answers the handshake on the
  socket it was given (WsgiToAsgi): it parses what the app writes with h11, as the response to
  the request the environ described, and checks a ``101`` the way RFC 6455 4.1 asks a client to
  ("If the response lacks an |Upgrade| header field or the |Upgrade| header field contains a
  value that is not an ASCII case-insensitive match for the value "websocket", the client MUST
  _Fail the WebSocket Connection_", and likewise ``Connection`` and ``Sec-WebSocket-Accept``).
"""

from __future__ import annotations

from typing import NamedTuple

import h11
from wsproto.connection import Connection, ConnectionType
from wsproto.events import AcceptConnection, RejectConnection, Request
from wsproto.extensions import Extension, PerMessageDeflate
from wsproto.handshake import H11Handshake
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from .._errors import ApplicationError, ClientError
from .._translate.websocket import accept_token, split_tokens

__all__ = ["AppAnswer", "AppDenied", "ClientHandshake", "HandshakeRefused"]

#: The largest HTTP answer (headers and body) bridge reads from an app that refuses a WebSocket.
MAX_DENIAL = 1024 * 1024
#: Answer headers that belong to the handshake itself, not to the app's extra headers.
_HANDSHAKE_HEADERS = frozenset(
    (b"connection", b"upgrade", b"sec-websocket-accept", b"sec-websocket-protocol",
     b"sec-websocket-extensions", b"keep-alive", b"transfer-encoding", b"content-length")
)  # fmt: skip


class HandshakeRefused(ClientError):
    """The client's upgrade request is not a valid WebSocket handshake (400, or 426)."""

    def __init__(self, message: str, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        super().__init__(message)
        self.status_code = status
        self.headers = headers


class ClientHandshake:
    """The handshake with a real client whose upgrade request the WSGI server parsed.

    :param headers: the request headers (lower-case names).
    :param target: the request target (path and query).
    :raises HandshakeRefused: the request is not a valid RFC 6455 opening handshake.
    """

    __slots__ = ("_handshake", "request")

    def __init__(self, headers: list[tuple[bytes, bytes]], target: str) -> None:
        self._handshake = H11Handshake(ConnectionType.SERVER)
        try:
            self._handshake.initiate_upgrade_connection(headers, target)
            request = next(self._handshake.events())
        except RemoteProtocolError as exc:
            hint = exc.event_hint
            status = hint.status_code if isinstance(hint, RejectConnection) else 400
            extra = list(hint.headers) if isinstance(hint, RejectConnection) else []
            raise HandshakeRefused(f"invalid WebSocket handshake: {exc}", status, extra) from exc
        assert isinstance(request, Request)  # the one event a parsed upgrade request gives
        self.request = request

    def accept(
        self, subprotocol: str | None, headers: list[tuple[bytes, bytes]]
    ) -> tuple[bytes, Connection]:
        """Return the ``101`` answer and the open connection's frame layer.

        :raises ApplicationError: the app chose a subprotocol the client did not offer, or sent
            headers that are not valid HTTP.
        """
        offered = any(
            token.split(";")[0].strip() == PerMessageDeflate.name
            for offer in self.request.extensions
            for token in split_tokens(offer)
        )
        extensions: list[Extension] = [PerMessageDeflate()] if offered else []
        event = AcceptConnection(
            subprotocol=subprotocol, extensions=extensions, extra_headers=headers
        )
        try:
            data = self._handshake.send(event)
        except (LocalProtocolError, h11.LocalProtocolError) as exc:
            raise ApplicationError(f"cannot accept the WebSocket: {exc}") from exc
        connection = self._handshake.connection
        assert connection is not None  # set by a successful accept
        return data, connection


class AppAccepted(NamedTuple):
    """The app accepted: its subprotocol and extra headers, and the frame layer after them."""

    subprotocol: str | None
    headers: list[tuple[bytes, bytes]]
    connection: Connection


class AppDenied(NamedTuple):
    """The app answered the upgrade request with an HTTP response of its own."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class AppAnswer:
    """Read a WSGI app's answer to the handshake from the bytes it writes to its socket.

    :param key: the ``Sec-WebSocket-Key`` the app was given.
    :param subprotocols: the subprotocols the client offered.
    """

    __slots__ = ("_body", "_conn", "_denied", "_key", "_subprotocols")

    def __init__(self, key: str, subprotocols: list[str]) -> None:
        self._key = key
        self._subprotocols = subprotocols
        self._conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_DENIAL)
        headers = [("host", "app"), ("connection", "Upgrade"), ("upgrade", "websocket")]
        self._conn.send(h11.Request(method="GET", target="/", headers=headers))
        self._conn.send(h11.EndOfMessage())
        self._denied: AppDenied | None = None
        self._body = bytearray()

    def feed(self, data: bytes) -> AppAccepted | AppDenied | None:
        """Take the app's bytes (``b""`` at EOF); return its answer once it is complete.

        :raises ApplicationError: the app wrote something that is not a valid answer.
        """
        self._conn.receive_data(data)
        try:
            while True:
                event = self._conn.next_event()
                if event is h11.NEED_DATA:
                    return None
                found = self._take(event)
                if found is not None:
                    return found
        except h11.RemoteProtocolError as exc:
            message = f"the WSGI app wrote an invalid handshake answer: {exc}"
            raise ApplicationError(message) from exc

    def _take(self, event: object) -> AppAccepted | AppDenied | None:
        if isinstance(event, h11.InformationalResponse) and event.status_code == 101:
            return self._accepted(list(event.headers))
        if isinstance(event, h11.Response):
            self._denied = AppDenied(event.status_code, _extra_headers(event.headers), b"")
        elif isinstance(event, h11.Data):
            self._body += event.data
            if len(self._body) > MAX_DENIAL:
                raise ApplicationError(f"the WSGI app's refusal is over {MAX_DENIAL} bytes")
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed) and self._denied:
            return self._denied._replace(body=bytes(self._body))
        elif isinstance(event, h11.ConnectionClosed | h11.InformationalResponse):
            raise ApplicationError(f"the WSGI app ended its handshake answer early ({event!r})")
        return None

    def _accepted(self, headers: list[tuple[bytes, bytes]]) -> AppAccepted:
        fields = {name.lower(): value for name, value in headers}
        upgrade = fields.get(b"upgrade", b"").decode("latin-1").lower()
        connection = [t.lower() for t in split_tokens(fields.get(b"connection", b"").decode())]
        if upgrade != "websocket" or "upgrade" not in connection:
            raise ApplicationError("the WSGI app's 101 answer lacks 'Upgrade: websocket'")
        if fields.get(b"sec-websocket-accept", b"").decode("latin-1") != accept_token(self._key):
            raise ApplicationError("the WSGI app's 101 answer has a wrong Sec-WebSocket-Accept")
        if b"sec-websocket-extensions" in fields:
            raise ApplicationError("the WSGI app accepted an extension nobody offered it")
        protocol = fields.get(b"sec-websocket-protocol")
        subprotocol = protocol.decode("latin-1") if protocol is not None else None
        if subprotocol is not None and subprotocol not in self._subprotocols:
            raise ApplicationError(f"the WSGI app chose a subprotocol not offered: {subprotocol!r}")
        trailing, _ = self._conn.trailing_data
        connection_ = Connection(ConnectionType.CLIENT, None, bytes(trailing))
        return AppAccepted(subprotocol, _extra_headers(headers), connection_)


def _extra_headers(headers: object) -> list[tuple[bytes, bytes]]:
    """The app's answer headers an ASGI server may pass on (lower-case, handshake ones removed)."""
    pairs: list[tuple[bytes, bytes]] = list(headers)  # type: ignore[call-overload]
    return [
        (name.lower(), value) for name, value in pairs if name.lower() not in _HANDSHAKE_HEADERS
    ]
