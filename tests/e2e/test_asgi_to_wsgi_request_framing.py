"""Request bodies whose framing the WSGI server left to the app, through AsgiToWsgi.

wsgiref neither decodes ``Transfer-Encoding: chunked`` nor says the input is terminated: it
hands over the socket's raw bytes (``wsgiref/simple_server.py`` gives ``self.rfile`` as
``wsgi.input``, ``wsgiref/handlers.py`` sets no ``wsgi.input_terminated``), so "the body" of a
chunked request is the chunk framing, ending only when the client closes. Gunicorn decodes it
and sets ``wsgi.input_terminated`` (``gunicorn/http/wsgi.py``: ``"wsgi.input_terminated":
True``), and refuses ``Transfer-Encoding`` with ``Content-Length`` itself (400); Waitress
decodes it and drops the header. bridge must never read framing bytes as the body, nor wait for
an end that only a closing client brings.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from tests.e2e import servers
from tests.e2e.rawhttp import RawConnection, Response

TIMEOUT = 5.0
SETUPS = {
    "wsgiref": servers.wsgiref("asgi_edge_apps:echo"),
    "gunicorn-sync": servers.gunicorn("asgi_edge_apps:echo"),
}


@pytest.fixture(scope="module", params=sorted(SETUPS))
def server(request: pytest.FixtureRequest) -> Iterator[servers.Server]:
    with servers.running(SETUPS[request.param]) as running:
        yield running


def on_wsgiref(server: servers.Server) -> bool:
    """Whether ``server`` is wsgiref's, which hands bridge the request's raw framing."""
    return "serve_wsgiref.py" in " ".join(server.process.args)


def post_chunked(server: servers.Server, *, half_close: bool) -> Response:
    """POST ``hello`` as one chunk to ``/echo``; with ``half_close``, then shut down writing."""
    with RawConnection(server.port, timeout=TIMEOUT) as connection:
        # One write: bridge may answer 411 on wsgiref from the head alone and the server close,
        # so a second write could fail with a broken pipe before the answer is read.
        connection.send_whole("POST", "/echo", [("Transfer-Encoding", "chunked")], b"hello")
        if half_close:
            connection.sock.shutdown(socket.SHUT_WR)
        response = connection.read_head()
        response.body = connection.read_body()
    return response


@pytest.mark.parametrize("half_close", [False, True], ids=["client-waits", "client-half-closes"])
def test_a_chunked_upload_gets_its_body_or_411(server: servers.Server, half_close: bool) -> None:
    """RFC 9112 6.3: a request body's length is known from Transfer-Encoding or Content-Length
    only ("the server MAY reject the request with a 411 (Length Required)" when it needs one);
    PEP 3333 ``wsgi.input``: without ``wsgi.input_terminated`` an app must not read past
    CONTENT_LENGTH. Where the server decoded the chunks (Gunicorn) the app gets ``hello``; where
    it did not (wsgiref), bridge answers 411 at once, says so in its log, and never hands the app
    the chunk framing or waits for the client to close."""
    wsgiref = on_wsgiref(server)
    response = post_chunked(server, half_close=half_close)
    if wsgiref:
        assert response.status == 411, response.body
        said = [line for line in server.log().splitlines() if " bridge" in line and "411" in line]
        assert any("chunked" in line.lower() for line in said), server.log()
    else:
        assert response.status == 200
        assert json.loads(response.body) == {"length": 5, "body": "hello"}


def test_transfer_encoding_with_content_length_is_refused(
    server: servers.Server,
) -> None:
    """RFC 9112 6.1 and 6.3: Transfer-Encoding overrides Content-Length and such a request may
    be request smuggling ("A server MAY reject a request that contains both"): 400, as Gunicorn
    answers itself; never the first Content-Length bytes of the chunk framing as the body."""
    with RawConnection(server.port, timeout=TIMEOUT) as connection:
        headers = [("Content-Length", "3"), ("Transfer-Encoding", "chunked")]
        connection.send_whole("POST", "/echo", headers, b"hello")
        response = connection.read_head()
        body = connection.read_body()
    assert response.status == 400, body
