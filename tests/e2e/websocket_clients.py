"""WebSocket clients for the end-to-end tests: the ``websockets`` package, wsproto on a raw socket.

:func:`connect` opens a real client (``websockets.sync``) with bounded timeouts; :func:`vanish`
starts a WebSocket with wsproto on a plain socket, sends half of a large message and drops the
connection, as a client that loses its network mid-message; :func:`refusal` reads the HTTP answer
to an upgrade request. Every socket operation has a timeout.
"""

from __future__ import annotations

import os
import signal
import socket
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request

from tests.e2e import servers

TIMEOUT = 20.0


def connect(server: servers.Server, path: str, **options: Any) -> ClientConnection:
    """Open a WebSocket to ``server`` (no message size limit unless given)."""
    options.setdefault("max_size", None)
    return ws_connect(
        f"ws://127.0.0.1:{server.port}{path}",
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
        **options,
    )


def received_close(closed: ConnectionClosed) -> tuple[int, str]:
    """Return the code and reason of the close frame the client received (it must have one)."""
    assert closed.rcvd is not None, f"no close frame received: {closed!r}"
    return closed.rcvd.code, closed.rcvd.reason


def closed_after(
    server: servers.Server, *messages: str | bytes, echo: bool = False
) -> tuple[int, str]:
    """Send ``messages`` on a new WebSocket (checking each echo if ``echo``), then wait for the
    server's close frame; return its code and reason."""
    with connect(server, "/echo") as ws:
        for number, message in enumerate(messages):
            ws.send(message)
            if echo and number < len(messages) - 1:
                assert ws.recv(TIMEOUT) == message
        try:
            ws.recv(TIMEOUT)
        except ConnectionClosed as closed:
            return received_close(closed)
    raise AssertionError("the server did not close the WebSocket")


def close_code_at_sigterm(server: servers.Server, path: str = "/echo") -> int:
    """Open a WebSocket, echo once, SIGTERM the server; return the close code the client got."""
    with connect(server, path) as ws:
        ws.send("before")
        assert ws.recv(TIMEOUT) == "before"
        os.kill(server.pid, signal.SIGTERM)
        try:
            ws.recv(TIMEOUT)
        except ConnectionClosed as closed:
            return received_close(closed)[0]
    raise AssertionError("the WebSocket stayed open after SIGTERM")


def events(server: servers.Server) -> list[list[Any]]:
    """Return the disconnects the app recorded (``GET /events``)."""
    response = httpx.get(f"{server.url}/events", timeout=TIMEOUT)
    response.raise_for_status()
    result: list[list[Any]] = response.json()
    return result


def vanish(server: servers.Server, path: str = "/echo", *, declared: int = 1024 * 1024) -> None:
    """Open a WebSocket, send part of a ``declared``-byte binary frame, and drop the connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        client = WSConnection(ConnectionType.CLIENT)
        sock.sendall(client.send(Request(host="127.0.0.1", target=path)))
        accepted = False
        while not accepted:
            data = sock.recv(65536)
            assert data, "the server closed the connection during the handshake"
            client.receive_data(data)
            accepted = any(isinstance(event, AcceptConnection) for event in client.events())
        # A masked binary frame header that announces ``declared`` bytes (RFC 6455 5.2), then
        # a tenth of them: the message is cut mid-frame.
        header = bytes([0x82, 0x80 | 127]) + declared.to_bytes(8, "big") + b"\0\0\0\0"
        sock.sendall(header + b"\0" * (declared // 10))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")  # RST


def refusal(server: servers.Server, path: str) -> httpx.Response:
    """Send a WebSocket upgrade request as plain HTTP and return the answer (not a 101)."""
    headers = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    return httpx.get(f"{server.url}{path}", headers=headers, timeout=TIMEOUT)
