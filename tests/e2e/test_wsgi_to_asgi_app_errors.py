"""A WSGI app's exception under real ASGI servers: the 500, the connection it came on, the log.

bridge answers 500 when the app raises before its response started, then re-raises so that the
server logs the traceback and outer middleware (an error reporter) sees the exception. Uvicorn
answers an exception raised after a complete response by closing the transport
(``uvicorn/protocols/http/httptools_impl.py`` and ``h11_impl.py``, ``run_asgi``: ``if not
self.response_started: await self.send_500_response() else: self.transport.close()``, 0.55), so a
500 that does not say ``connection: close`` leaves a keep-alive client to send its next request
into a closing socket. Uvicorn's own 500 carries ``connection: close``; Hypercorn keeps the
connection. A native Starlette app on Uvicorn loses the next request the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.e2e import asgi_servers, servers
from tests.e2e.apps.edge_facts import WSGI_FAILURE as FAILURE
from tests.e2e.rawhttp import RawConnection, Response

#: How Uvicorn and Hypercorn start the log record of an app's exception.
SERVER_PREAMBLES = ("Exception in ASGI application", "Error in ASGI Framework")


@pytest.fixture(scope="module", params=["uvicorn-h11", "uvicorn-httptools", "hypercorn-trio"])
def server(request: pytest.FixtureRequest) -> Iterator[servers.Server]:
    with servers.running(asgi_servers.command(request.param, "wsgi_edge_apps:app")) as running:
        yield running


def test_a_500_does_not_lose_the_next_request_on_the_connection(
    server: servers.Server,
) -> None:
    """RFC 9112 9.3/9.6: HTTP/1.1 connections persist unless a response says ``close``, and "a
    server that sends a close connection option MUST initiate closure of the connection after
    it sends the response". So a keep-alive client's next request is answered, either on the
    same connection or, when the 500 said ``connection: close``, on a new one it knew to open.

    Assumes bridge marks its 500 ``connection: close`` (HTTP/1.x only; HTTP/2 forbids the
    header) and keeps re-raising; a 500 without it must keep the connection usable."""
    with RawConnection(server.port, timeout=10) as connection:
        failed = connection.request("GET", "/raise")
        assert failed.status == 500
        if failed.header(b"connection") == b"close":
            assert connection.closed_by_server(), "announced close, but the connection stayed"
            with RawConnection(server.port, timeout=10) as fresh:
                following = fresh.request("GET", "/ok")
        else:
            following = connection.request("GET", "/ok")
    assert following.status == 200


def test_the_exception_is_logged_once_and_reaches_outer_middleware(
    server: servers.Server,
) -> None:
    """Style rule 14 and ASGI (an app's exception is the server's to log): whatever bridge does
    to keep the connection sound, the app's exception still reaches the outer ASGI middleware
    (error reporters wrap the adapter) and the server, and its traceback is logged exactly once,
    not by bridge and the server both."""
    token = uuid.uuid4().hex
    start = len(server.log())
    with RawConnection(server.port, timeout=10) as connection:
        failed: Response = connection.request("GET", f"/raise?{token}")
    assert failed.status == 500
    assert b"Internal Server Error" in failed.body
    assert token.encode() not in failed.body  # no details to the client
    traceback_line = f"RuntimeError: {FAILURE} {token}"
    logged = servers.wait_for(lambda: _server_logged(server.log()[start:], traceback_line))
    assert logged, server.log()[-3000:]
    assert f"error reporter saw RuntimeError('{FAILURE} {token}')" in server.log()
    assert server.log()[start:].count(traceback_line) == 1, server.log()[-3000:]


def _server_logged(log: str, traceback_line: str) -> bool:
    """Whether the server has logged the exception: it does so last, after bridge and any
    middleware, so every earlier record of it is in ``log`` by then."""
    for preamble in SERVER_PREAMBLES:
        found = log.find(preamble)
        if found >= 0 and traceback_line in log[found:]:
            return True
    return False
