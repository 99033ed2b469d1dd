"""Requests WsgiToAsgi must refuse from their head alone, under real ASGI servers, on raw sockets.

An upload over ``max_request_body_size`` announced with ``Expect: 100-continue``, a request that
carries both ``Transfer-Encoding`` and ``Content-Length``, and an invalid ``Host``: each must be
answered from the headers, before the app runs and before any body is asked for. Uvicorn sends
``100 Continue`` when the app first calls ``receive()`` (``uvicorn/protocols/http/h11_impl.py``,
``receive``: ``if self.waiting_for_100_continue and not self.transport.is_closing(): ...
InformationalResponse(status_code=100 ...)``, 0.55); Hypercorn sends it as soon as the head is
parsed (``hypercorn/protocol/h11.py``, ``_handle_events``: ``if
self.connection.they_are_waiting_for_100_continue: await self._send_h11_event(
h11.InformationalResponse(status_code=100 ...))``, 0.18), whatever the app does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import h11
import pytest

from tests.e2e import asgi_servers, servers
from tests.e2e.apps.edge_facts import BODY_LIMIT
from tests.e2e.rawhttp import RawConnection

UPLOAD = 30 * 1024 * 1024  # what curl announced in the report that found this


@pytest.fixture(scope="module", params=["uvicorn-h11", "uvicorn-httptools", "hypercorn-trio"])
def server(request: pytest.FixtureRequest) -> Iterator[servers.Server]:
    with servers.running(asgi_servers.command(request.param, "wsgi_edge_apps:app")) as running:
        yield running


def is_hypercorn(server: servers.Server) -> bool:
    return "hypercorn" in server.process.args


def is_httptools(server: servers.Server) -> bool:
    return "httptools" in server.process.args


def test_an_upload_over_the_limit_is_refused_before_100_continue(server: servers.Server) -> None:
    """RFC 9110 10.1.1: on a ``100-continue`` expectation "an origin server MUST send either: an
    immediate response with a final status code, if that status can be determined by examining
    just the method, target URI, and header fields, or an immediate 100 (Continue) response".
    A declared Content-Length over ``max_request_body_size`` decides the 413 from the headers,
    so the client must get it instead of ``100 Continue`` (and never start its upload)."""
    if is_hypercorn(server):
        pytest.skip("Hypercorn sends 100 Continue itself, before the app is called")
    with RawConnection(server.port, timeout=10) as connection:
        headers = [("Content-Length", str(UPLOAD)), ("Expect", "100-continue")]
        connection.send_head("POST", "/echo", headers)
        first = connection.next_event()
    assert UPLOAD > BODY_LIMIT
    assert isinstance(first, h11.Response), f"expected the 413 at once, got {first!r}"
    assert first.status_code == 413


def test_transfer_encoding_with_content_length_is_refused(
    server: servers.Server,
) -> None:
    """RFC 9112 6.1: "A server MAY reject a request that contains both Content-Length and
    Transfer-Encoding or process such a request in accordance with the Transfer-Encoding alone.
    Regardless, the server MUST close the connection after responding to such a request", and
    6.3: Transfer-Encoding overrides Content-Length (the pair may be request smuggling).
    h11 (Uvicorn ``--http h11``, Hypercorn) frames such a body as chunked and passes both
    headers on; bridge must not let ``CONTENT_LENGTH`` cut the body short: 400, as httptools
    and Gunicorn answer themselves, and the connection closed."""
    with RawConnection(server.port, timeout=10) as connection:
        headers = [("Content-Length", "3"), ("Transfer-Encoding", "chunked")]
        connection.send_whole("POST", "/echo", headers, b"hello")
        response = connection.read_head()
        body = connection.read_body()
        assert response.status == 400, body
        assert connection.closed_by_server(), "the connection stayed open after the 400"


def test_an_invalid_host_is_refused(server: servers.Server) -> None:
    """RFC 9112 3.2: "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1
    request message that lacks a Host header field and to any request message that contains
    more than one Host header field line or a Host header field with an invalid field value";
    RFC 9110 7.2 / RFC 3986 3.2: Host is ``uri-host [ ":" port ]``. ``docs/wsgi-to-asgi.md``
    promises the 400 for an invalid Host; the servers pass ``a b/c@x`` on as it is."""
    with RawConnection(server.port, timeout=10) as connection:
        request = h11.Request(method="GET", target="/flags", headers=[("Host", "a b/c@x")])
        connection.sock.sendall(connection.h11.send(request) or b"")
        connection.sock.sendall(connection.h11.send(h11.EndOfMessage()) or b"")
        response = connection.read_head()
        body = connection.read_body()
    assert response.status == 400, json.loads(body) if response.status == 200 else body
