"""A raw-socket HTTP/1.1 client for tests that must control the connection byte by byte.

:class:`RawConnection` writes requests and parses responses with h11 on a plain socket, so a test
can stop sending half-way through a body, stop reading for a while, reuse one connection for many
requests (keep-alive), or abort at any point. Every socket operation has a timeout.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass

import h11

TIMEOUT = 20.0
RECV_SIZE = 64 * 1024


@dataclass
class Response:
    """A parsed response: status, headers (lowercased names) and the body read so far."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""

    def header(self, name: bytes) -> bytes | None:
        """Return the first value of header ``name`` (lowercase), or None."""
        return next((value for key, value in self.headers if key == name), None)


class RawConnection:
    """One HTTP/1.1 client connection to 127.0.0.1:``port`` on a plain socket."""

    def __init__(self, port: int, *, timeout: float = TIMEOUT) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.h11 = h11.Connection(h11.CLIENT)

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.sock.close()

    def send_head(self, method: str, target: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        """Send the request line and headers (``Host`` is added)."""
        all_headers = [("Host", "127.0.0.1"), *headers]
        self._send(h11.Request(method=method, target=target, headers=all_headers))

    def send_body(self, data: bytes) -> None:
        """Send a piece of the request body (framed as the headers said)."""
        self._send(h11.Data(data=data))

    def send_end(self) -> None:
        """End the request body."""
        self._send(h11.EndOfMessage())

    def send_whole(
        self, method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes
    ) -> None:
        """Send a whole request (framed as ``headers`` say) in one write, ``Host`` added.

        For a request the server may refuse from its head and close on: one write leaves no
        second write to fail with a broken pipe before the answer is read.
        """
        all_headers = [("Host", "127.0.0.1"), *headers]
        data = self.h11.send(h11.Request(method=method, target=target, headers=all_headers))
        data = (data or b"") + (self.h11.send(h11.Data(data=body)) or b"")
        self.sock.sendall(data + (self.h11.send(h11.EndOfMessage()) or b""))

    def request(
        self,
        method: str,
        target: str,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> Response:
        """Send a whole request and read the whole response; leave the connection reusable."""
        if self.h11.our_state is h11.DONE:
            self.h11.start_next_cycle()
        framing = [("Content-Length", str(len(body)))] if body or method == "POST" else []
        self.send_head(method, target, [*headers, *framing])
        if body:
            self.send_body(body)
        self.send_end()
        response = self.read_head()
        response.body = self.read_body()
        return response

    def read_head(self) -> Response:
        """Read until the response head (skipping 1xx responses) and return it."""
        while True:
            event = self.next_event()
            if isinstance(event, h11.Response):
                return Response(event.status_code, list(event.headers))

    def read_body(self, limit: int | None = None) -> bytes:
        """Read the body to its end, or only until at least ``limit`` more bytes came."""
        parts: list[bytes] = []
        received = 0
        while limit is None or received < limit:
            event = self.next_event()
            if isinstance(event, h11.EndOfMessage):
                break
            if isinstance(event, h11.Data):
                parts.append(bytes(event.data))
                received += len(event.data)
        return b"".join(parts)

    def body_chunks(self) -> Iterable[bytes]:
        """Yield the rest of the body as it arrives."""
        while not isinstance(event := self.next_event(), h11.EndOfMessage):
            if isinstance(event, h11.Data):
                yield bytes(event.data)

    def closed_by_server(self) -> bool:
        """Wait (bounded by the socket timeout) for the server to end the connection; ``False``
        if more bytes came instead. A reset counts as closed."""
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def abort(self, *, reset: bool = False) -> None:
        """Close the socket now (FIN, or RST when ``reset``), whatever the exchange's state."""
        if reset:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def _send(self, event: h11.Event) -> None:
        data = self.h11.send(event)
        if data:
            self.sock.sendall(data)

    def next_event(self) -> h11.Event | type[h11.PAUSED]:
        """Return the server's next h11 event (e.g. a ``100 Continue``), reading as needed."""
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = self.sock.recv(RECV_SIZE)
            if not data:
                raise ConnectionError("the server closed the connection mid-response")
            self.h11.receive_data(data)
