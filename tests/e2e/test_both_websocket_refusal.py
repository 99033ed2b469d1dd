"""WebSocket connections that bridge cannot carry yet, in both directions, under real servers.

WsgiToAsgi gets a ``websocket`` scope (a flask-sock route, say) and closes it before accepting,
which the ASGI server answers with 403 (ASGI WebSocket spec: ``websocket.close`` before accept
"the server must send an HTTP 403"). AsgiToWsgi gets the upgrade as a plain HTTP request from
the WSGI server (``Upgrade: websocket``), which a FastAPI WebSocket route answers 404. Either
way the developer must learn why from the log: one WARNING per adapter instance. The ASGI
servers' own refusal of an upgrade they cannot handle is a warning too (Uvicorn without a
WebSocket library: ``uvicorn/protocols/http/h11_impl.py``, ``_unsupported_upgrade_warning``:
``"Unsupported upgrade request."``, 0.55).
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


@pytest.mark.xfail(strict=True, reason="WsgiToAsgi closes the websocket without a word")
def test_wsgi_to_asgi_refuses_a_websocket_with_403_and_one_warning_per_adapter() -> None:
    """ASGI WebSocket spec (close before accept: 403): each refusal is a 403, and each of the
    two adapters (``/a``, ``/b``) logs one WARNING that says WebSockets are not carried to WSGI
    apps and what to do, however many connections it refuses."""
    with servers.running(servers.uvicorn("wsgi_edge_apps:two_adapters")) as server:
        statuses = [refused_status(server, f"/{name}/ws") for name in ("a", "a", "b", "b")]
    assert statuses == [403] * 4
    assert len(websocket_warnings(server.log())) == 2, server.log()


@pytest.mark.xfail(strict=True, reason="the upgrade reaches the app as plain HTTP: a silent 404")
def test_asgi_to_wsgi_refuses_a_websocket_upgrade_with_501_and_one_warning_per_adapter() -> None:
    """RFC 9110 7.8 (a server may ignore ``Upgrade``, but then the app must be able to answer
    the request as HTTP) and 15.6.2 (501: "the server does not support the functionality
    required to fulfill the request"): bridge detects ``Upgrade: websocket`` and answers 501
    itself rather than hand the app an HTTP request for its WebSocket route; each of the two
    adapters logs one WARNING, however many connections it refuses."""
    with servers.running(servers.gunicorn("asgi_edge_apps:two_socket_adapters")) as server:
        statuses = [refused_status(server, f"/{name}/ws") for name in ("a", "a", "b", "b")]
    assert statuses == [501] * 4
    assert len(websocket_warnings(server.log())) == 2, server.log()
