"""WsgiToAsgi WebSockets end to end: a flask-sock app on Uvicorn and Hypercorn (asyncio, trio).

The Flask app of ``apps/websocket_apps.py`` serves WebSockets with flask-sock (simple-websocket
underneath), unchanged, through ``bridge.WsgiToAsgi``; the clients are the ``websockets``
package and, for a client that vanishes mid-message, wsproto on a raw socket. Servers are
module-scoped and stopped by PID; every wait is bounded.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e import asgi_servers, servers
from tests.e2e.websocket_clients import (
    TIMEOUT,
    close_code_at_sigterm,
    closed_after,
    connect,
    events,
    received_close,
    vanish,
)

APP = "websocket_apps:wsgi_on_asgi"
MIB = 1024 * 1024
KINDS = ["uvicorn-h11", "hypercorn-asyncio", "hypercorn-trio"]


#: What Uvicorn and Hypercorn log when an ASGI app raises: bridge must never, in these tests.
SERVER_SAW_AN_ERROR = ("Exception in ASGI application", "Error in ASGI Framework")


@pytest.fixture(scope="module", params=KINDS)
def server(request: pytest.FixtureRequest) -> Iterator[servers.Server]:
    """One server per kind for the module; afterwards, bridge raised nothing to the server."""
    with servers.running(asgi_servers.command(request.param, APP)) as running:
        yield running
    assert not any(line in running.log() for line in SERVER_SAW_AN_ERROR), running.log()


@pytest.fixture(scope="module")
def uvicorn() -> Iterator[servers.Server]:
    with servers.running(asgi_servers.command("uvicorn-h11", APP)) as running:
        yield running
    assert not any(line in running.log() for line in SERVER_SAW_AN_ERROR), running.log()


def test_echo_of_text_binary_fragments_and_ping(server: servers.Server) -> None:
    """RFC 6455 5.4 and 5.5.2: the ASGI server reassembles the client's fragments and answers
    its ping; flask-sock chooses the subprotocol (the app's 101) and bridge passes it on."""
    with connect(server, "/echo", subprotocols=["unknown", "chat", "other"]) as ws:
        assert ws.subprotocol == "chat"  # simple-websocket: the first offered that it supports
        ws.send("héllo")
        assert ws.recv(TIMEOUT) == "héllo"
        ws.send(b"\x00\xffbytes")
        assert ws.recv(TIMEOUT) == b"\x00\xffbytes"
        ws.send(iter([b"frag", b"men", b"ted"]))
        assert ws.recv(TIMEOUT) == b"fragmented"
        assert ws.ping(b"are you there").wait(TIMEOUT)


def test_a_10_mib_message_and_one_over_the_servers_limit(server: servers.Server) -> None:
    """Uvicorn's and Hypercorn's 16 MiB message limit closes with 1009 (RFC 6455 7.4.1); the app
    sees the WebSocket end."""
    payload = "é" * (5 * MIB)  # 10 MiB of UTF-8
    assert closed_after(server, payload, b"x" * (16 * MIB + 1), echo=True)[0] == 1009


def test_close_codes_and_reasons_go_both_ways(server: servers.Server) -> None:
    """The app's close frame reaches the client with its code and reason (ASGI 'Close - send
    event'); the client's reaches the app where the server passes it on: Uvicorn does; Hypercorn
    reports a client's close as 1006 ("code = CloseReason.ABNORMAL_CLOSURE"), which bridge
    passes on as a dropped connection (the app reads EOF; simple-websocket says 1005)."""
    assert closed_after(server, "close 4001 app says bye") == (4001, "app says bye")
    before = len(events(server))
    with connect(server, "/echo") as ws:
        ws.close(4002, "client says bye")
    assert servers.wait_for(lambda: len(events(server)) > before)
    on_uvicorn = "uvicorn" in " ".join(map(str, server.process.args))  # type: ignore[arg-type]
    assert ([4002, "client says bye"] in events(server)) is on_uvicorn


def test_refusals_are_the_apps_http_answers(server: servers.Server) -> None:
    """ASGI ``websocket.http.response`` extension: the app's own 401 (Flask's ``abort``) and
    the 404 of a path it does not have reach the client as HTTP answers."""
    with pytest.raises(InvalidStatus) as denied, connect(server, "/deny"):
        pass
    assert denied.value.response.status_code == 401
    assert b"no entry" in denied.value.response.body
    with pytest.raises(InvalidStatus) as denied, connect(server, "/not-there"):
        pass
    assert denied.value.response.status_code == 404


def test_an_app_error_after_accept_closes_with_1011(server: servers.Server) -> None:
    """RFC 6455 7.4.1 1011: the app's socket closed without a close frame (Flask turned the
    route's exception into a 500 after the handshake)."""
    with connect(server, "/boom") as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(TIMEOUT)
    assert received_close(closed.value)[0] == 1011


def test_100_clients_vanishing_mid_message_leak_nothing(uvicorn: servers.Server) -> None:
    """The app sees each disconnect (simple-websocket reads EOF: 1005); after a first round of
    100, a second round leaves the server's file descriptors where the first left them, and its
    threads within a few (the worker pool may grow in a burst; a leak would leave a hundred)."""
    seen = len(events(uvicorn))
    readings = []
    for round_ in (1, 2):
        for _ in range(100):
            vanish(uvicorn)
        expected = seen + 100 * round_
        assert servers.wait_for(
            lambda expected=expected: len(events(uvicorn)) >= expected, timeout=30
        )
        readings.append((servers.thread_count(uvicorn.pid), servers.fd_count(uvicorn.pid)))
    (threads, fds), _ = readings
    assert servers.wait_for(lambda: servers.thread_count(uvicorn.pid) <= threads + 4), readings
    assert servers.wait_for(lambda: servers.fd_count(uvicorn.pid) <= fds), readings


def test_uvicorn_with_its_wsproto_implementation() -> None:
    """Uvicorn's other WebSocket implementation (``--ws wsproto``): the echo, and the close codes
    both ways."""
    with servers.running(servers.uvicorn(APP, extra=["--ws", "wsproto"])) as server:
        with connect(server, "/echo", subprotocols=["chat"]) as ws:
            assert ws.subprotocol == "chat"
            ws.send("over wsproto")
            assert ws.recv(TIMEOUT) == "over wsproto"
            ws.close(4003, "client done")
        assert closed_after(server, "close 4001 app says bye") == (4001, "app says bye")
        assert servers.wait_for(lambda: [4003, "client done"] in events(server))


def test_uvicorn_shutdown_with_an_open_websocket() -> None:
    """Uvicorn closes open WebSockets with 1012 at shutdown and sends the app
    ``websocket.disconnect``; bridge relays it to the app as a close frame, the app's thread
    ends, and Uvicorn exits by itself (no SIGKILL). Hypercorn is left out, as in the HTTP
    shutdown tests: it does not stop cleanly here even with a native ASGI app."""
    with servers.running(asgi_servers.command("uvicorn-h11", APP)) as server:
        assert close_code_at_sigterm(server) == 1012
        assert server.process.wait(timeout=TIMEOUT) in (0, -signal.SIGTERM)


@pytest.mark.parametrize(
    ("app", "reason"),
    [
        pytest.param(
            "websocket_apps:wsgi_on_asgi_greenlet", "the greenlet runner cannot", id="greenlet"
        ),
        pytest.param(
            "websocket_no_wsproto:wsgi_on_asgi", "wsgi-asgi-bridge[websockets]", id="no-wsproto"
        ),
    ],
)
def test_refused_with_501_and_one_warning(app: str, reason: str) -> None:
    """The greenlet runner and a process without wsproto refuse: 501 (``websocket.http.response``)
    and one WARNING per adapter saying why, never a hang."""
    with servers.running(servers.uvicorn(app, extra=["--ws", "websockets"])) as server:
        for _ in range(2):
            with pytest.raises(InvalidStatus) as refused, connect(server, "/echo"):
                pass
            assert refused.value.response.status_code == 501
        assert servers.wait_for(lambda: reason in server.log())
        log = server.log()
    assert len(re.findall(r"refused a WebSocket request to /echo \(answered 501", log)) == 1
