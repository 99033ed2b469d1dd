"""AsgiToWsgi WebSockets in process: a socketpair stands in for the socket a WSGI server hands
over (``gunicorn.socket``), the adapter runs in a thread as a server's worker would, and the
test is the client on the other end (wsproto). The protocol errors and endings that real
servers seldom reach are checked here; ``tests/e2e/test_websocket_asgi_to_wsgi.py`` has the rest.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from wsproto.connection import Connection, ConnectionType
from wsproto.events import CloseConnection, TextMessage

import bridge
from bridge._asgi_to_wsgi.websocket_handoff import WebSocketHandoff
from bridge._private_loop import REGISTRY
from tests.translate.helpers import make_environ

TIMEOUT = 10.0
# After each test: no loop thread, app task or request thread of AsgiToWsgi left behind.
pytestmark = pytest.mark.usefixtures("no_asgi_to_wsgi_leaks")
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
UPGRADE = {
    "HTTP_HOST": "example.com",
    "HTTP_UPGRADE": "websocket",
    "HTTP_CONNECTION": "Upgrade",
    "HTTP_SEC_WEBSOCKET_KEY": KEY,
    "HTTP_SEC_WEBSOCKET_VERSION": "13",
}
App = Callable[[Any, Any, Any], Any]


class Session:
    """One upgrade request served by ``adapter`` in a thread; the test holds the client socket."""

    def __init__(self, adapter: bridge.AsgiToWsgi, **environ: Any) -> None:
        self.client, server = socket.socketpair()
        self.client.settimeout(TIMEOUT)
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.body = b""
        self.frames = Connection(ConnectionType.CLIENT)
        env = make_environ(**{**UPGRADE, **environ})
        if "gunicorn.socket" not in environ:
            env["gunicorn.socket"] = server

        def serve() -> None:
            self.body = b"".join(adapter(env, self._start_response))
            server.close()

        self.thread = threading.Thread(target=serve)
        self.thread.start()

    def _start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Any:
        self.status, self.headers = status, headers
        return None

    def answer(self) -> str:
        """Wait for the adapter to return; give the status it answered with."""
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive()
        self.client.close()
        assert self.status is not None
        return self.status

    def accepted(self) -> bytes:
        """Read the 101 answer; keep what follows it for :meth:`events`."""
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.client.recv(65536)
        head, _, rest = head.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101 ")
        self.frames.receive_data(rest)
        return head

    def events(self) -> list[Any]:
        """Read until the server's frames give at least one event (or EOF)."""
        found = list(self.frames.events())
        while not found:
            data = self.client.recv(65536)
            self.frames.receive_data(data or None)
            found = list(self.frames.events())
        return found

    def send(self, event: Any) -> None:
        self.client.sendall(self.frames.send(event))


@pytest.fixture
def adapter_of(backend: str) -> Iterator[Callable[..., bridge.AsgiToWsgi]]:
    """Adapters on each private-loop backend (asyncio, uvloop, trio), closed after the test."""
    made: list[bridge.AsgiToWsgi] = []

    def make(app: App, **options: Any) -> bridge.AsgiToWsgi:
        made.append(bridge.AsgiToWsgi(app, lifespan="off", backend=backend, **options))
        return made[-1]

    yield make
    for adapter in made:
        adapter.close()


def scripted(*messages: dict[str, Any], then: Callable[..., Any] | None = None) -> App:
    """An app that sends ``messages`` after ``websocket.connect``, then awaits ``then``."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        assert (await receive())["type"] == "websocket.connect"
        for message in messages:
            await send(message)
        if then is not None:
            await then(receive, send)

    return app


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        pytest.param([{"type": "websocket.send", "text": "x"}], "unexpected ASGI message type",
                     id="send-before-accept"),
        pytest.param([], "returned before it answered", id="no-answer"),
        pytest.param([{"type": "websocket.http.response.start", "status": 401, "headers": []}],
                     "did not finish", id="unfinished-denial"),
        pytest.param([{"type": "websocket.http.response.start", "status": "401"}], "status",
                     id="denial-status-type"),
        pytest.param([{"type": "websocket.http.response.start", "status": 401, "headers": []},
                      {"type": "websocket.http.response.body", "body": "text"}], "body",
                     id="denial-body-type"),
        pytest.param([{"type": "websocket.close", "code": "1000"}], "code must be an int",
                     id="close-code-type"),
        pytest.param([{"type": "websocket.accept", "subprotocol": b"chat"}], "subprotocol",
                     id="subprotocol-type"),
    ],
)  # fmt: skip
def test_protocol_errors_before_accept_answer_500(
    adapter_of: Callable[..., bridge.AsgiToWsgi],
    caplog: pytest.LogCaptureFixture,
    messages: list[dict[str, Any]],
    error: str,
) -> None:
    """The app broke the ASGI WebSocket protocol before answering the handshake: 500 through
    ``start_response`` (nothing was written to the socket), the error logged once."""
    session = Session(adapter_of(scripted(*messages)))
    assert session.answer() == "500 Internal Server Error"
    (record,) = [r for r in caplog.records if r.name == "bridge.asgi"]
    assert error in str(record.exc_info[1] if record.exc_info else record.getMessage())


def test_a_denial_response_and_a_close_before_accept(
    adapter_of: Callable[..., bridge.AsgiToWsgi],
) -> None:
    """ASGI: ``websocket.close`` before accept is 403; the ``websocket.http.response``
    extension sends the app's response, in as many body messages as it likes."""
    assert Session(adapter_of(scripted({"type": "websocket.close"}))).answer() == "403 Forbidden"
    denial = scripted(
        {"type": "websocket.http.response.start", "status": 418, "headers": [(b"x-a", b"1")]},
        {"type": "websocket.http.response.body", "body": b"I'm a ", "more_body": True},
        {"type": "websocket.http.response.body", "body": b"teapot"},
    )
    session = Session(adapter_of(denial))
    assert session.answer() == "418 I'm a Teapot"
    assert ("x-a", "1") in session.headers
    assert session.body == b"I'm a teapot"


@pytest.mark.parametrize(
    ("environ", "status"),
    [
        pytest.param({"HTTP_SEC_WEBSOCKET_KEY": None}, "400 Bad Request", id="no-key"),
        pytest.param({"HTTP_SEC_WEBSOCKET_VERSION": "8"}, "426 Upgrade Required", id="version"),
        pytest.param({"SERVER_PROTOCOL": "HTTP/1.0"}, "501 Not Implemented", id="http-1.0"),
        pytest.param({"gunicorn.socket": object()}, "501 Not Implemented", id="not-a-socket"),
    ],
)
def test_requests_that_cannot_become_websockets(
    adapter_of: Callable[..., bridge.AsgiToWsgi], environ: dict[str, Any], status: str
) -> None:
    """RFC 6455 4.2.2: an invalid handshake is a 400 (426 with the supported version for an
    unknown one); a request bridge cannot upgrade here is a 501; the app is never called."""
    called: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(scope)

    session = Session(adapter_of(app), **environ)
    assert session.answer() == status
    if status.startswith("426"):
        assert ("Sec-WebSocket-Version", "13") in session.headers
    assert called == []


def test_request_timeout_bounds_the_handshake_only(
    adapter_of: Callable[..., bridge.AsgiToWsgi],
) -> None:
    """``request_timeout``: an app that never answers the handshake gets a 504."""

    async def never(receive: Any, send: Any) -> None:
        await anyio.sleep_forever()

    session = Session(adapter_of(scripted(then=never), request_timeout=0.2))
    assert session.answer() == "504 Gateway Timeout"


def test_protocol_errors_after_accept_close_with_1011(
    adapter_of: Callable[..., bridge.AsgiToWsgi], caplog: pytest.LogCaptureFixture
) -> None:
    """After the 101 an app error closes the WebSocket with 1011 and is logged once."""
    bad = scripted(
        {"type": "websocket.accept"},
        {"type": "websocket.send", "text": "a", "bytes": b"b"},
    )
    session = Session(adapter_of(bad))
    session.accepted()
    (event,) = session.events()
    assert isinstance(event, CloseConnection)
    assert event.code == 1011
    session.send(event.response())
    assert session.answer() == "101 Switching Protocols"
    messages = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert [str(m) for m in messages] == ["'websocket.send' needs exactly one of bytes and text"]


def test_close_then_send_and_an_unknown_message(
    adapter_of: Callable[..., bridge.AsgiToWsgi],
) -> None:
    """After its close the app's ``send`` raises ``ClientDisconnected`` (an ``OSError``, ASGI
    2.4), and ``receive`` gives the client's answer as ``websocket.disconnect``."""
    seen: list[Any] = []

    async def after(receive: Any, send: Any) -> None:
        with pytest.raises(bridge.ApplicationError, match="unexpected ASGI message type"):
            await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 4000, "reason": "done"})
        with pytest.raises(bridge.ClientDisconnected):
            await send({"type": "websocket.send", "text": "late"})
        seen.append(await receive())
        seen.append(await receive())

    session = Session(adapter_of(scripted({"type": "websocket.accept"}, then=after)))
    session.accepted()
    (event,) = session.events()
    assert (event.code, event.reason) == (4000, "done")
    session.send(event.response())
    assert session.answer() == "101 Switching Protocols"
    assert seen == [{"type": "websocket.disconnect", "code": 4000, "reason": "done"}] * 2


def test_close_of_the_adapter_says_going_away(
    adapter_of: Callable[..., bridge.AsgiToWsgi], caplog: pytest.LogCaptureFixture
) -> None:
    """RFC 6455 7.4.1 1001 "going away": ``close()`` closes each open WebSocket at once and
    the app sees ``websocket.disconnect`` with 1001."""
    seen: list[Any] = []
    accepted = threading.Event()

    async def after(receive: Any, send: Any) -> None:
        accepted.set()
        seen.append(await receive())

    adapter = adapter_of(scripted({"type": "websocket.accept"}, then=after))
    session = Session(adapter)
    session.accepted()
    assert accepted.wait(TIMEOUT)
    closer = threading.Thread(target=adapter.close)
    closer.start()
    (event,) = session.events()
    assert event.code == 1001
    # A message the client sent before it saw the close (a masked "hello", written raw: wsproto
    # knows the close came first), then its answer.
    session.client.sendall(b"\x81\x85\0\0\0\0hello")
    session.send(event.response())
    assert session.answer() == "101 Switching Protocols"
    closer.join(TIMEOUT)
    assert seen[0]["code"] == 1001
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_an_echo_with_a_message_before_the_app_reads(
    adapter_of: Callable[..., bridge.AsgiToWsgi],
) -> None:
    """Messages wait for ``receive()``; an app that returns without closing closes with 1000."""

    async def echo_once(receive: Any, send: Any) -> None:
        message = await receive()
        await send({"type": "websocket.send", "text": message["text"] + "!"})

    session = Session(adapter_of(scripted({"type": "websocket.accept"}, then=echo_once)))
    session.accepted()
    session.send(TextMessage("hi"))
    events = session.events()
    assert events[0].data == "hi!"
    while not any(isinstance(e, CloseConnection) for e in events):
        events = session.events()
    close = next(e for e in events if isinstance(e, CloseConnection))
    assert close.code == 1000
    session.send(close.response())
    assert session.answer() == "101 Switching Protocols"


def test_refusal_warns_once_per_adapter(
    adapter_of: Callable[..., bridge.AsgiToWsgi], caplog: pytest.LogCaptureFixture
) -> None:
    """A WebSocket never fails silently: one WARNING per adapter instance says why."""
    caplog.set_level(logging.DEBUG, logger="bridge.asgi")
    adapter = adapter_of(scripted())
    for _ in range(2):
        assert Session(adapter, **{"gunicorn.socket": None}).answer() == "501 Not Implemented"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "does not hand the connection's socket to the app" in warnings[0].getMessage()


def test_a_loop_that_stops_under_an_open_websocket_ends_the_connection(
    adapter_of: Callable[..., bridge.AsgiToWsgi],
) -> None:
    """After the 101 nothing but the connection's end can answer: a private loop that stops
    under an open WebSocket cancels its task, which hands the socket back, and the WSGI request
    ends with the connection (the client reads EOF)."""
    accepted = threading.Event()

    async def after(receive: Any, send: Any) -> None:
        accepted.set()
        await anyio.sleep_forever()

    session = Session(adapter_of(scripted({"type": "websocket.accept"}, then=after)))
    session.accepted()
    assert accepted.wait(TIMEOUT)
    (loop,) = REGISTRY.running()
    loop.stop()
    assert session.answer() == "101 Switching Protocols"


def lifespan_app(*, fail: bool, seen: list[Any]) -> App:
    """An app whose lifespan startup sets ``state["db"]`` (or fails); its WebSocket route
    records the scope's state in ``seen`` and closes before accept."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            if fail:
                await send({"type": "lifespan.startup.failed", "message": "no database"})
                return
            scope["state"]["db"] = "ready"
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        seen.append(scope.get("state"))
        await receive()
        await send({"type": "websocket.close"})

    return app


def test_a_websocket_scope_carries_the_lifespan_state(backend: str) -> None:
    """ASGI lifespan spec, "Lifespan State": what the app put in ``state`` at startup is given
    to every connection's scope, a WebSocket's included (a shallow copy per connection)."""
    seen: list[Any] = []
    adapter = bridge.AsgiToWsgi(lifespan_app(fail=False, seen=seen), backend=backend)
    try:
        assert Session(adapter).answer() == "403 Forbidden"
    finally:
        adapter.close()
    assert seen == [{"db": "ready"}]


def test_a_failed_lifespan_startup_refuses_the_websocket(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """ASGI lifespan spec: after ``lifespan.startup.failed`` the app must not serve; the upgrade
    request is answered 500 through ``start_response`` and the app's WebSocket route never runs."""
    seen: list[Any] = []
    adapter = bridge.AsgiToWsgi(lifespan_app(fail=True, seen=seen), lifespan="on", backend=backend)
    try:
        assert Session(adapter).answer() == "500 Internal Server Error"
    finally:
        adapter.close()
    assert seen == []
    assert any("no database" in r.getMessage() or "no database" in str(r.exc_info) for r in
               caplog.records)  # fmt: skip


def test_a_worker_told_to_exit_during_the_handshake_cancels_the_app(
    adapter_of: Callable[..., bridge.AsgiToWsgi], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Gunicorn sync worker told to quit raises ``SystemExit`` in the thread that waits (its
    signal handler): the app's task is cancelled and the exception goes on, nothing answered."""
    started, cancelled = threading.Event(), threading.Event()

    async def never(receive: Any, send: Any) -> None:
        started.set()
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.set()

    def told_to_exit(self: WebSocketHandoff, timeout: float | None = None) -> Any:
        assert started.wait(TIMEOUT)
        raise SystemExit(0)

    monkeypatch.setattr(WebSocketHandoff, "get", told_to_exit)  # the fault: a signal's SystemExit
    adapter = adapter_of(scripted(then=never))
    client, server = socket.socketpair()
    environ = {**make_environ(**UPGRADE), "gunicorn.socket": server}
    answered: list[str] = []
    try:
        with pytest.raises(SystemExit):
            adapter(environ, lambda status, headers, exc_info=None: answered.append(status))
        assert cancelled.wait(TIMEOUT)
    finally:
        client.close()
        server.close()
    assert answered == []


def test_a_client_gone_before_the_accept(adapter_of: Callable[..., bridge.AsgiToWsgi]) -> None:
    """The client left before the app accepted: the 101 cannot be written, so the app's next
    ``receive()`` is ``websocket.disconnect`` with 1006 (RFC 6455 7.1.5, "abnormal closure": no
    close frame) and its ``send()`` raises ``ClientDisconnected`` (ASGI 2.4: an ``OSError``)."""
    seen: list[Any] = []

    async def accept(receive: Any, send: Any) -> None:
        await send({"type": "websocket.accept"})
        seen.append(await receive())
        with pytest.raises(bridge.ClientDisconnected):
            await send({"type": "websocket.send", "text": "late"})
        seen.append("refused")

    client, server = socket.socketpair()
    client.close()
    try:
        session = Session(adapter_of(scripted(then=accept)), **{"gunicorn.socket": server})
        assert session.answer() == "101 Switching Protocols"
    finally:
        server.close()
    assert seen == [{"type": "websocket.disconnect", "code": 1006, "reason": ""}, "refused"]


def test_a_client_gone_while_the_app_sends(adapter_of: Callable[..., bridge.AsgiToWsgi]) -> None:
    """The client stops reading and leaves while the app's send waits for room on the socket:
    that ``send()`` raises ``ClientDisconnected`` (ASGI 2.4) and the request ends."""
    outcome: list[Any] = []

    async def flood(receive: Any, send: Any) -> None:
        for sent in range(10_000):  # bounded: a full socket buffer holds far fewer
            try:
                await send({"type": "websocket.send", "bytes": bytes(64 * 1024)})
            except bridge.ClientDisconnected:
                outcome.append(sent > 0)
                return
        outcome.append("never refused")

    session = Session(adapter_of(scripted({"type": "websocket.accept"}, then=flood)))
    session.accepted()
    assert session.events()  # the first message is arriving; the client reads no more
    session.client.close()
    assert session.answer() == "101 Switching Protocols"
    assert outcome == [True]


def test_a_websocket_request_after_the_loop_stopped(
    adapter_of: Callable[..., bridge.AsgiToWsgi], caplog: pytest.LogCaptureFixture
) -> None:
    """A private loop that stopped under the adapter (its thread gone) cannot take a WebSocket:
    the upgrade request gets a 500 at once, never a wait, and the log says why."""
    adapter = adapter_of(scripted({"type": "websocket.close"}))
    assert Session(adapter).answer() == "403 Forbidden"
    (loop,) = REGISTRY.running()
    loop.stop()
    assert Session(adapter).answer() == "500 Internal Server Error"
    (record,) = [r for r in caplog.records if r.exc_info]
    assert "event loop has stopped" in str(record.exc_info[1])
