"""WebSocket connections that bridge cannot carry, in both directions, under real servers.

Where WebSockets cannot work (``AsgiToWsgi`` on a WSGI server that hands over no socket, such as
Waitress; ``WsgiToAsgi`` with the greenlet runner, or without wsproto) bridge answers the upgrade
with 501 itself (RFC 9110 15.6.2: "the server does not support the functionality required to
fulfill the request"), rather than hand the app an HTTP request for its WebSocket route (a
silent 404) or close without a word, and the developer learns why from the log: one WARNING per
adapter instance, however many connections it refuses. Where they can work, see
``test_websocket_asgi_to_wsgi.py`` and ``test_websocket_wsgi_to_asgi.py``.
"""

from __future__ import annotations

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.e2e import servers

TIMEOUT = 20.0


def refused_status(server: servers.Server, path: str) -> int:
    """Open a WebSocket to ``path``; return the HTTP status the handshake was refused with."""
    url = server.url.replace("http://", "ws://") + path
    with pytest.raises(InvalidStatus) as info:
        connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT)
    return info.value.response.status_code


def websocket_warnings(log: str) -> list[str]:
    """The WARNING lines bridge logged about WebSockets (read once the server has stopped)."""
    return [
        line
        for line in log.splitlines()
        if line.startswith("WARNING bridge") and "websocket" in line.lower()
    ]


def test_wsgi_to_asgi_greenlet_refuses_a_websocket_with_501_and_one_warning_per_adapter() -> None:
    """The greenlet runner cannot carry a WebSocket: each refusal is a 501 (through the
    ``websocket.http.response`` extension Uvicorn offers), and each of the two adapters (``/a``,
    ``/b``) logs one WARNING that says why and what to do."""
    with servers.running(servers.uvicorn("wsgi_edge_apps:two_greenlet_adapters")) as server:
        statuses = [refused_status(server, f"/{name}/ws") for name in ("a", "a", "b", "b")]
    assert statuses == [501] * 4
    assert len(websocket_warnings(server.log())) == 2, server.log()


def test_asgi_to_wsgi_on_waitress_refuses_a_websocket_with_501_and_one_warning_per_adapter() -> (
    None
):
    """RFC 9110 7.8 (a server may ignore ``Upgrade``, but then the app must be able to answer
    the request as HTTP) and 15.6.2 (501: "the server does not support the functionality
    required to fulfill the request"): bridge detects ``Upgrade: websocket`` and answers 501
    itself rather than hand the app an HTTP request for its WebSocket route; each of the two
    adapters logs one WARNING, however many connections it refuses."""
    with servers.running(servers.waitress("asgi_edge_apps:two_socket_adapters")) as server:
        statuses = [refused_status(server, f"/{name}/ws") for name in ("a", "a", "b", "b")]
    assert statuses == [501] * 4
    assert len(websocket_warnings(server.log())) == 2, server.log()
