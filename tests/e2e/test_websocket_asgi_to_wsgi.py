"""AsgiToWsgi WebSockets end to end: a FastAPI WebSocket route on Gunicorn and Werkzeug.

The FastAPI app of ``apps/websocket_apps.py`` runs under Gunicorn's sync and gthread workers and
Werkzeug's development server (all three hand the connection's socket to the app), with the
``websockets`` client and, for a client that vanishes mid-message, wsproto on a raw socket.
Servers are module-scoped and stopped by PID; every wait is bounded.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e import servers
from tests.e2e.websocket_clients import (
    TIMEOUT,
    close_code_at_sigterm,
    closed_after,
    connect,
    events,
    received_close,
    refusal,
    vanish,
)

APP = "websocket_apps:asgi_on_wsgi"
MIB = 1024 * 1024
#: The SIGTERM hook the WebSockets page shows, as the page shows it.
CONF = str(servers.REPO_ROOT / "docs" / "snippets" / "websocket_gunicorn.conf.py")


def command(kind: str, app: str = APP) -> list[str]:
    if kind == "gunicorn-sync":
        return servers.gunicorn(app, worker_class="sync")
    if kind == "gunicorn-gthread":
        return servers.gunicorn(app, worker_class="gthread", extra=["--threads", "64"])
    if kind == "werkzeug":
        return [sys.executable, str(Path(__file__).parent / "serve_werkzeug.py"), app, "{port}"]
    raise ValueError(kind)


@pytest.fixture(scope="module", params=["gunicorn-sync", "gunicorn-gthread", "werkzeug"])
def server(request: pytest.FixtureRequest) -> Iterator[servers.Server]:
    """One server per kind for the module; afterwards, no bridge task failed unnoticed."""
    with servers.running(command(request.param)) as running:
        yield running
    assert "unexpected error in a bridge task" not in running.log()


@pytest.fixture(scope="module")
def gthread() -> Iterator[servers.Server]:
    with servers.running(command("gunicorn-gthread")) as running:
        yield running
    assert "unexpected error in a bridge task" not in running.log()


def test_echo_of_text_binary_fragments_and_ping(server: servers.Server) -> None:
    """RFC 6455 5.4 (fragments), 5.5.2/5.5.3 (a Ping is answered by a Pong); ASGI: the app sees
    whole messages ("servers should handle message fragmentation themselves")."""
    with connect(server, "/echo", subprotocols=["chat", "other"]) as ws:
        assert ws.subprotocol == "chat"
        assert ws.response is not None
        assert ws.response.headers["x-echo"] == "yes"
        ws.send("héllo")
        assert ws.recv(TIMEOUT) == "héllo"
        ws.send(b"\x00\xffbytes")
        assert ws.recv(TIMEOUT) == b"\x00\xffbytes"
        ws.send(iter(["frag", "men", "ted"]))
        assert ws.recv(TIMEOUT) == "fragmented"
        assert ws.ping(b"are you there").wait(TIMEOUT)


def test_a_10_mib_message_and_one_over_the_limit(server: servers.Server) -> None:
    """RFC 6455 7.4.1: 1009 "a message that is too big for it to process" (16 MiB, as Uvicorn)."""
    payload = bytes(range(256)) * (10 * MIB // 256)
    assert closed_after(server, payload, b"x" * (16 * MIB + 1), echo=True)[0] == 1009
    assert [1009, "message over 16777216 bytes"] in events(server)


def test_close_codes_and_reasons_go_both_ways(server: servers.Server) -> None:
    """ASGI 'Close - send event' (the app's code and reason reach the client) and 'Disconnect -
    receive event' (the client's code and reason reach the app)."""
    assert closed_after(server, "close 4001 app says bye") == (4001, "app says bye")
    with connect(server, "/echo") as ws:
        ws.close(4002, "client says bye")
    assert [4002, "client says bye"] in events(server)


def test_refusals_before_accept_are_http_answers(server: servers.Server) -> None:
    """ASGI: a close before accept "must close the connection with a HTTP 403"; the
    ``websocket.http.response`` extension sends the app's own response instead."""
    with pytest.raises(InvalidStatus) as denied, connect(server, "/deny"):
        pass
    assert denied.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as denied, connect(server, "/deny-http"):
        pass
    assert (denied.value.response.status_code, denied.value.response.body) == (401, b"no entry")


def test_an_app_error_after_accept_closes_with_1011(server: servers.Server) -> None:
    """RFC 6455 7.4.1: 1011 "an unexpected condition that prevented it from fulfilling the
    request"; the app's traceback is logged once."""
    with connect(server, "/boom") as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(TIMEOUT)
    assert received_close(closed.value)[0] == 1011
    assert servers.wait_for(lambda: "RuntimeError: boom after accept" in server.log())
    assert server.log().count("RuntimeError: boom after accept") == 1


def test_100_clients_vanishing_mid_message_leak_nothing(gthread: servers.Server) -> None:
    """The app sees each disconnect (1006, ASGI 'Disconnect'); after a first round of 100, a
    second round of 100 leaves the worker's file descriptors where the first left them, and its
    threads within a few (gthread's pool may grow by one or two in a burst; a leak would leave
    a hundred)."""
    (worker,) = servers.children(gthread.pid)
    seen = events(gthread).count([1006, ""])
    readings = []
    for round_ in (1, 2):
        for _ in range(100):
            vanish(gthread)
        expected = seen + 100 * round_
        assert servers.wait_for(
            lambda expected=expected: events(gthread).count([1006, ""]) >= expected, timeout=30
        )
        readings.append((servers.thread_count(worker), servers.fd_count(worker)))
    (threads, fds), _ = readings
    assert servers.wait_for(lambda: servers.thread_count(worker) <= threads + 4), readings
    assert servers.wait_for(lambda: servers.fd_count(worker) <= fds), readings


def test_50_concurrent_websockets_on_gthread(gthread: servers.Server) -> None:
    """Each WebSocket holds a gthread worker thread for its life: 50 at once with --threads 64."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(connect(gthread, "/echo")) for _ in range(50)]

        def talk(number: int) -> str:
            sockets[number].send(f"hello {number}")
            return str(sockets[number].recv(TIMEOUT))

        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            answers = list(pool.map(talk, range(50), timeout=60))
    assert answers == [f"hello {number}" for number in range(50)]


@pytest.mark.parametrize("worker_class", ["sync", "gthread"])
def test_server_shutdown_closes_open_websockets_with_1001(worker_class: str) -> None:
    """RFC 6455 7.4.1: 1001 "an endpoint is going away, such as a server going down": with the
    documented ``post_worker_init`` hook, SIGTERM closes the adapter, which closes each open
    WebSocket at once; the worker then exits."""
    argv = servers.gunicorn(APP, worker_class=worker_class, extra=["--config", CONF])
    with servers.running(argv) as server:
        assert close_code_at_sigterm(server) == 1001
        assert server.process.wait(timeout=TIMEOUT) == 0


def test_waitress_refuses_with_501_and_one_warning() -> None:
    """Waitress hands no socket to the app: 501, one WARNING per adapter, the app never called."""
    with servers.running(servers.waitress(APP)) as server:
        assert refusal(server, "/echo").status_code == 501
        assert refusal(server, "/echo").status_code == 501
        assert servers.wait_for(lambda: "refused a WebSocket request" in server.log())
        log = server.log()
    assert len(re.findall(r"refused a WebSocket request to /echo \(answered 501", log)) == 1
    assert "gunicorn.socket or werkzeug.socket" in log


def test_without_wsproto_gunicorn_refuses_with_501_and_one_warning() -> None:
    """Without the extra (wsproto made unimportable): 501 and one WARNING naming the extra."""
    argv = servers.gunicorn("websocket_no_wsproto:asgi_on_wsgi", worker_class="gthread")
    with servers.running(argv) as server:
        with pytest.raises(InvalidStatus) as refused, connect(server, "/echo"):
            pass
        assert refused.value.response.status_code == 501
        assert refusal(server, "/echo").status_code == 501
        assert servers.wait_for(lambda: "wsgi-asgi-bridge[websockets]" in server.log())
        log = server.log()
    assert len(re.findall(r"refused a WebSocket request to /echo \(answered 501", log)) == 1
