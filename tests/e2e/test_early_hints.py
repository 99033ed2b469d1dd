"""103 Early Hints through bridge, both directions, seen by a raw-socket client.

RFC 8297 2: "a server can send a 103 (Early Hints) response before a final response"; RFC 9110
15.2: "A client MUST be able to parse one or more 1xx responses received prior to a final
response". The apps (``apps/early_hints_apps.py``) send a hint, then wait for the rest of the
request body, which the client sends only once it has read the 103: the final response proves
the hint left first.

* ASGI app on Gunicorn 27 (``AsgiToWsgi``): Gunicorn gives ``environ["wsgi.early_hints"]``, so
  the scope advertises ``http.response.early_hint`` (ASGI extensions, "Early Hints").
* WSGI app on Hypercorn (``WsgiToAsgi``): Hypercorn advertises the extension on HTTP/2 (h2c
  with prior knowledge here), so the environ offers ``wsgi.early_hints``; on HTTP/1.1 it does
  not, and neither does bridge. Uvicorn sends 103 only on HTTP/2, which needs a protocol
  package not installed here.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import h2.config
import h2.connection
import h2.events
import h11
import pytest

from tests.e2e import servers
from tests.e2e.rawhttp import RawConnection

TIMEOUT = 20.0
LINK = b"</style.css>; rel=preload; as=style"
ASGI_ON_WSGI = {
    "gunicorn-sync": servers.gunicorn("early_hints_apps:asgi_hints"),
    "gunicorn-gthread": servers.gunicorn("early_hints_apps:asgi_hints", worker_class="gthread"),
}
WSGI_ON_ASGI = {
    "hypercorn-asyncio": servers.hypercorn("early_hints_apps:wsgi_hints"),
    "hypercorn-trio": servers.hypercorn("early_hints_apps:wsgi_hints", worker_class="trio"),
}


@pytest.fixture(scope="module", params=sorted(ASGI_ON_WSGI))
def wsgi_server(request: pytest.FixtureRequest) -> Iterator[servers.Server]:
    with servers.running(ASGI_ON_WSGI[request.param]) as running:
        yield running


@pytest.fixture(scope="module", params=sorted(WSGI_ON_ASGI))
def asgi_server(request: pytest.FixtureRequest) -> Iterator[servers.Server]:
    with servers.running(WSGI_ON_ASGI[request.param]) as running:
        yield running


def test_asgi_app_hint_reaches_the_client_before_the_response(
    wsgi_server: servers.Server,
) -> None:
    with RawConnection(wsgi_server.port) as raw:
        raw.send_head("POST", "/", [("Content-Length", "4")])
        raw.send_body(b"pi")
        hint = raw.next_event()
        assert isinstance(hint, h11.InformationalResponse), hint
        assert (hint.status_code, list(hint.headers)) == (103, [(b"link", LINK)])
        raw.send_body(b"ng")
        raw.send_end()
        final = raw.read_head()
        assert (final.status, raw.read_body()) == (200, b"hints offered: yes; body: ping")


def test_wsgi_app_hint_reaches_an_http2_client_before_the_response(
    asgi_server: servers.Server,
) -> None:
    sock = socket.create_connection(("127.0.0.1", asgi_server.port), timeout=TIMEOUT)
    with sock:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        events = _events(sock, conn)
        conn.initiate_connection()
        request = [(":method", "POST"), (":scheme", "http"), (":authority", "127.0.0.1"),
                   (":path", "/"), ("content-length", "4")]  # fmt: skip
        conn.send_headers(1, request)
        conn.send_data(1, b"pi")
        sock.sendall(conn.data_to_send())
        hint = _next_response(events)
        assert isinstance(hint, h2.events.InformationalResponseReceived), hint
        headers = dict(hint.headers)  # Hypercorn adds date and server
        assert (headers[b":status"], headers[b"link"]) == (b"103", LINK)
        conn.send_data(1, b"ng", end_stream=True)
        sock.sendall(conn.data_to_send())
        final = _next_response(events)
        assert isinstance(final, h2.events.ResponseReceived), final
        assert dict(final.headers)[b":status"] == b"200"
        assert _body(events, conn) == b"hints offered: yes; body: ping"


def test_wsgi_app_gets_no_hints_over_http1(asgi_server: servers.Server) -> None:
    """Hypercorn does not advertise the extension on HTTP/1.1: the environ has no key."""
    with RawConnection(asgi_server.port) as raw:
        response = raw.request("POST", "/", body=b"ping")
    assert (response.status, response.body) == (200, b"hints offered: no; body: ping")


def _events(sock: socket.socket, conn: h2.connection.H2Connection) -> Iterator[h2.events.Event]:
    """The server's HTTP/2 events, as they arrive (bounded by the socket timeout)."""
    while data := sock.recv(65536):
        events = conn.receive_data(data)
        sock.sendall(conn.data_to_send())
        yield from events
    raise ConnectionError("the server closed the connection")


def _next_response(events: Iterator[h2.events.Event]) -> h2.events.Event:
    for event in events:
        if isinstance(event, h2.events.InformationalResponseReceived | h2.events.ResponseReceived):
            return event
    raise AssertionError("unreachable")


def _body(events: Iterator[h2.events.Event], conn: h2.connection.H2Connection) -> bytes:
    body = b""
    for event in events:
        if isinstance(event, h2.events.DataReceived):
            body += event.data
            conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            return body
    raise AssertionError("unreachable")
