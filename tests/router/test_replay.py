"""Router ``fallback``: a matched app's 404 is held and the request replayed (strangler fig).

The client only ever sees one response (``call_asgi``/``call_wsgi`` assert one start); a
non-404 streams through unbuffered; the body the matched app read is replayed up to
``replay_body_limit``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

import bridge
from bridge._router.replay import ReplayInput
from tests.router.helpers import (
    TIMEOUT,
    AsgiEcho,
    WsgiEcho,
    call_asgi,
    call_wsgi,
    environ_for,
    http_scope,
    payload,
)

# --- ASGI side ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_asgi_404_is_replayed_to_fallback_with_the_original_scope() -> None:
    new, legacy = AsgiEcho("new", status=404), AsgiEcho("legacy")
    router = bridge.Router({"/api": new}, fallback=legacy)
    reply = await call_asgi(router, http_scope("/api/x"))
    assert payload(reply) == {"app": "legacy", "path": "/api/x", "root_path": "", "body": ""}
    assert len(new.scopes) == len(legacy.scopes) == 1


@pytest.mark.anyio
async def test_asgi_unmatched_request_goes_to_fallback_directly() -> None:
    legacy = AsgiEcho("legacy")
    reply = await call_asgi(
        bridge.Router({"/api": AsgiEcho("new")}, fallback=legacy), http_scope("/x")
    )
    assert payload(reply)["app"] == "legacy"


@pytest.mark.anyio
async def test_asgi_fallback_404_reaches_the_client() -> None:
    router = bridge.Router({"/api": AsgiEcho("new", 404)}, fallback=AsgiEcho("legacy", 404))
    reply = await call_asgi(router, http_scope("/api/x"))
    assert (reply.status, payload(reply)["app"]) == (404, "legacy")


@pytest.mark.anyio
async def test_asgi_same_app_as_fallback_is_not_called_twice() -> None:
    legacy = AsgiEcho("legacy", 404)
    reply = await call_asgi(bridge.Router({"/": legacy}, fallback=legacy), http_scope("/x"))
    assert (reply.status, len(legacy.scopes)) == (404, 1)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "chunks", [pytest.param([], id="no-body"), pytest.param([b"ab", b"cd"], id="two-chunks")]
)
async def test_asgi_replay_gives_fallback_the_body_the_matched_app_read(
    chunks: list[bytes],
) -> None:
    new, legacy = AsgiEcho("new", 404, read_body=True), AsgiEcho("legacy", read_body=True)
    reply = await call_asgi(
        bridge.Router({"/api": new}, fallback=legacy), http_scope("/api"), chunks
    )
    assert new.bodies == [b"".join(chunks)]
    assert payload(reply) == {"app": "legacy", "path": "/api", "root_path": "",
                              "body": b"".join(chunks).decode()}  # fmt: skip


@pytest.mark.anyio
async def test_asgi_replay_gives_fallback_the_body_the_matched_app_did_not_read() -> None:
    async def reads_one_message_then_404(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["body"] == b"ab"
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"gone"})

    legacy = AsgiEcho("legacy", read_body=True)
    router = bridge.Router({"/api": reads_one_message_then_404}, fallback=legacy)
    reply = await call_asgi(router, http_scope("/api"), [b"ab", b"cd", b"ef"])
    assert payload(reply)["body"] == "abcdef"


@pytest.mark.anyio
async def test_asgi_body_over_the_limit_disables_fallthrough() -> None:
    """Documented: a matched app that read more than ``replay_body_limit`` bytes keeps its 404."""
    new, legacy = AsgiEcho("new", 404, read_body=True), AsgiEcho("legacy")
    router = bridge.Router({"/api": new}, fallback=legacy, replay_body_limit=3)
    reply = await call_asgi(router, http_scope("/api"), [b"ab", b"cd"])
    assert (reply.status, payload(reply)["app"], legacy.scopes) == (404, "new", [])


@pytest.mark.anyio
async def test_asgi_held_404_body_over_the_limit_is_sent_after_all() -> None:
    async def long_404(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        for part in (b"12", b"34", b"56"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    legacy = AsgiEcho("legacy")
    router = bridge.Router({"/api": long_404}, fallback=legacy, replay_body_limit=3)
    reply = await call_asgi(router, http_scope("/api"))
    assert (reply.status, reply.body, legacy.scopes) == (404, b"123456", [])


@pytest.mark.anyio
async def test_asgi_non_404_streams_through_unbuffered() -> None:
    """The first chunk reaches the client while the matched app is still running."""
    first_chunk_seen = anyio.Event()

    async def streams(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        with anyio.fail_after(TIMEOUT):
            await first_chunk_seen.wait()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def send(message: Any) -> None:
        if message.get("body") == b"first":
            first_chunk_seen.set()

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    router = bridge.Router({"/api": streams}, fallback=AsgiEcho("legacy"))
    await router(http_scope("/api"), receive, send)  # type: ignore[arg-type]
    assert first_chunk_seen.is_set()


@pytest.mark.anyio
async def test_asgi_exception_after_held_404_propagates_and_nothing_is_sent() -> None:
    async def fails(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        raise RuntimeError("boom")

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    router = bridge.Router({"/api": fails}, fallback=AsgiEcho("legacy"))
    with pytest.raises(RuntimeError, match="boom"):
        await router(http_scope("/api"), _receive_nothing, send)  # type: ignore[arg-type]
    assert sent == []


async def _receive_nothing() -> Any:
    return {"type": "http.request", "body": b"", "more_body": False}


@pytest.mark.anyio
async def test_asgi_websocket_is_never_replayed() -> None:
    new, legacy = AsgiEcho("new"), AsgiEcho("legacy")
    router = bridge.Router({"/ws": new}, fallback=legacy)
    sent = await _websocket(router, "/ws/chat")
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.close"]
    assert (len(new.scopes), legacy.scopes) == (1, [])


async def _websocket(app: Any, path: str) -> list[Any]:
    scope = {**http_scope(path), "type": "websocket", "scheme": "ws", "subprotocols": []}
    incoming = [{"type": "websocket.connect"}]
    sent: list[Any] = []

    async def receive() -> Any:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Any) -> None:
        sent.append(message)

    with anyio.fail_after(TIMEOUT):
        await app(scope, receive, send)
    return sent


@pytest.mark.anyio
async def test_websocket_unmatched_without_fallback_is_closed_before_accept() -> None:
    """ASGI spec: ``websocket.close`` before ``websocket.accept`` makes the server answer 403."""
    sent = await _websocket(bridge.Router({"/api": AsgiEcho("api")}), "/other")
    assert [m["type"] for m in sent] == ["websocket.close"]


@pytest.mark.anyio
async def test_websocket_unmatched_goes_to_asgi_fallback() -> None:
    legacy = AsgiEcho("legacy")
    sent = await _websocket(bridge.Router({}, fallback=legacy), "/ws")
    assert sent[0]["type"] == "websocket.accept"


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/old/ws", "/elsewhere"])
async def test_websocket_to_a_wsgi_app_is_refused_before_accept(path: str) -> None:
    """WSGI apps cannot speak WebSocket: close before accept (403), never reaching the app."""
    legacy = WsgiEcho("legacy")
    sent = await _websocket(bridge.Router({"/old": legacy}, fallback=legacy), path)
    assert [m["type"] for m in sent] == ["websocket.close"]
    assert legacy.environs == []


# --- WSGI side ---------------------------------------------------------------------------------


def test_wsgi_404_is_replayed_to_fallback_with_the_original_environ() -> None:
    new, legacy = WsgiEcho("new", "404 Not Found"), WsgiEcho("legacy")
    router = bridge.Router({"/api": new}, fallback=legacy)
    reply = call_wsgi(router.wsgi, environ_for("/api/x", "/mnt"))
    assert payload(reply) == {"app": "legacy", "script_name": "/mnt", "path_info": "/api/x",
                              "body": ""}  # fmt: skip


def test_wsgi_unmatched_request_goes_to_fallback_directly() -> None:
    legacy = WsgiEcho("legacy")
    reply = call_wsgi(
        bridge.Router({"/api": WsgiEcho("new")}, fallback=legacy).wsgi, environ_for("/x")
    )
    assert payload(reply)["app"] == "legacy"


def test_wsgi_same_app_as_fallback_is_not_called_twice() -> None:
    legacy = WsgiEcho("legacy", "404 Not Found")
    reply = call_wsgi(bridge.Router({"/": legacy}, fallback=legacy).wsgi, environ_for("/x"))
    assert (reply.status, len(legacy.environs)) == (404, 1)


def test_wsgi_replay_gives_fallback_the_body_the_matched_app_read() -> None:
    new = WsgiEcho("new", "404 Not Found", read_body=True)
    legacy = WsgiEcho("legacy", read_body=True)
    router = bridge.Router({"/api": new}, fallback=legacy)
    reply = call_wsgi(router.wsgi, environ_for("/api", body=b"name=x"))
    assert (payload(reply)["app"], payload(reply)["body"]) == ("legacy", "name=x")


def test_wsgi_body_over_the_limit_disables_fallthrough() -> None:
    new = WsgiEcho("new", "404 Not Found", read_body=True)
    legacy = WsgiEcho("legacy")
    router = bridge.Router({"/api": new}, fallback=legacy, replay_body_limit=3)
    reply = call_wsgi(router.wsgi, environ_for("/api", body=b"name=x"))
    assert (reply.status, payload(reply)["app"], legacy.environs) == (404, "new", [])


def test_wsgi_non_404_result_is_returned_unchanged() -> None:
    """Zero overhead: the server iterates the app's own object (keeps ``wsgi.file_wrapper``)."""
    body = [b"hello"]

    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    router = bridge.Router({"/api": app}, fallback=WsgiEcho("legacy"))
    assert router.wsgi(environ_for("/api"), lambda *args: None) is body


class _Lazy:
    """A generator-style iterable that calls start_response on its first ``next()``."""

    def __init__(self, status: str, chunks: list[bytes]) -> None:
        self.status, self.chunks, self.closed = status, chunks, False

    def __call__(self, environ: Any, start_response: Any) -> _Lazy:
        self._start_response = start_response
        return self

    def __iter__(self) -> Iterator[bytes]:
        self._start_response(self.status, [("Content-Type", "text/plain")])
        yield from self.chunks

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("status", "chunks", "limit", "expected"),
    [
        pytest.param("200 OK", [b"a", b"b"], 10, (200, b"ab"), id="lazy-200-streams"),
        pytest.param("404 Not Found", [b"a", b"b"], 10, (200, b"legacy"), id="lazy-404-replays"),
        pytest.param("404 Not Found", [b"123", b"456"], 4, (404, b"123456"), id="long-404-sent"),
    ],
)
def test_wsgi_generator_app_status_is_known_after_first_next(
    status: str, chunks: list[bytes], limit: int, expected: tuple[int, bytes]
) -> None:
    """PEP 3333 lets start_response wait for the first ``next()``; the iterable is still closed."""
    app = _Lazy(status, chunks)
    router = bridge.Router({"/api": app}, fallback=_plain("legacy"), replay_body_limit=limit)
    reply = call_wsgi(router.wsgi, environ_for("/api"))
    assert (reply.status, reply.body) == expected
    assert app.closed


def _plain(text: str, status: str = "200 OK") -> Any:
    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response(status, [("Content-Type", "text/plain")])
        return [text.encode()]

    return app


def test_wsgi_404_written_with_write_over_the_limit_is_sent_after_all() -> None:
    def legacy_write(environ: Any, start_response: Any) -> list[bytes]:
        write = start_response("404 Not Found", [("Content-Type", "text/plain")])
        for part in (b"12", b"34", b"56"):
            write(part)
        return []

    router = bridge.Router({"/api": legacy_write}, fallback=_plain("legacy"), replay_body_limit=3)
    reply = call_wsgi(router.wsgi, environ_for("/api"))
    assert (reply.status, reply.body) == (404, b"123456")


def test_wsgi_held_404_replaced_via_exc_info_is_sent() -> None:
    """PEP 3333: start_response may be called again with exc_info before headers are sent."""

    def fails_late(environ: Any, start_response: Any) -> list[bytes]:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        try:
            raise ValueError("late")
        except ValueError:
            import sys

            start_response("500 Internal Server Error", [("Content-Type", "text/plain")],
                           sys.exc_info())  # fmt: skip
        return [b"error"]

    router = bridge.Router({"/api": fails_late}, fallback=_plain("legacy"))
    reply = call_wsgi(router.wsgi, environ_for("/api"))
    assert (reply.status, reply.body) == (500, b"error")


def test_wsgi_exception_while_draining_a_held_404_closes_the_iterable() -> None:
    app = _Lazy("404 Not Found", [])

    def broken() -> Iterator[bytes]:
        raise RuntimeError("boom")
        yield b""  # pragma: no cover

    app.chunks = broken()  # type: ignore[assignment]
    router = bridge.Router({"/api": app}, fallback=_plain("legacy"))
    with pytest.raises(RuntimeError, match="boom"):
        router.wsgi(environ_for("/api"), lambda *args: None)
    assert app.closed


@pytest.mark.parametrize(
    ("kept", "rest", "calls", "expected"),
    [
        pytest.param(b"ab", b"cd", [("read", -1)], [b"abcd"], id="read-all"),
        pytest.param(b"ab", b"cd", [("read", 1), ("read", 3)], [b"a", b"bcd"], id="read-across"),
        pytest.param(b"ab", b"cd", [("read", 2), ("read", 2)], [b"ab", b"cd"], id="read-exact"),
        pytest.param(b"a\nb", b"c\n", [("readline", -1)] * 2, [b"a\n", b"bc\n"], id="readline"),
        pytest.param(b"ab", b"c\n", [("readline", 3)], [b"abc"], id="readline-size"),
        pytest.param(b"ab", b"c\n", [("readline", 2)], [b"ab"], id="readline-in-kept"),
        pytest.param(
            b"a\n", b"b\nc\n", [("readlines", 3)], [[b"a\n", b"b\n"]], id="readlines-hint"
        ),
        pytest.param(b"a\n", b"b\n", [("readlines", -1)], [[b"a\n", b"b\n"]], id="readlines"),
    ],
)
def test_replay_input_reads_kept_bytes_then_the_server_stream(
    kept: bytes, rest: bytes, calls: list[tuple[str, int]], expected: list[Any]
) -> None:
    """PEP 3333 ``wsgi.input`` methods for the fallback: the kept bytes, then the rest."""
    stream = ReplayInput(kept, io.BytesIO(rest))
    assert [getattr(stream, name)(size) for name, size in calls] == expected


def test_replay_input_iterates_lines() -> None:
    assert list(ReplayInput(b"a\nb", io.BytesIO(b"\n"))) == [b"a\n", b"b\n"]


def test_keeping_input_records_every_read_method() -> None:
    new = _reads_all_ways
    legacy = WsgiEcho("legacy", read_body=True)
    router = bridge.Router({"/api": new}, fallback=legacy)
    reply = call_wsgi(router.wsgi, environ_for("/api", body=b"a\nb\nc\nd\ne"))
    assert payload(reply)["body"] == "a\nb\nc\nd\ne"


def _reads_all_ways(environ: Any, start_response: Any) -> list[bytes]:
    stream = environ["wsgi.input"]
    assert stream.readline(10) == b"a\n"
    assert stream.readline() == b"b\n"
    assert stream.readlines(1) == [b"c\n"]
    assert next(iter(stream)) == b"d\n"
    assert stream.read(5) == b"e"  # wsgiref.validate insists on a size
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"no"]


def test_wsgi_body_read_after_a_held_404_over_the_limit_sends_the_404() -> None:
    """The app may read the body after start_response: past the limit its 404 is final."""

    def late_reader(environ: Any, start_response: Any) -> list[bytes]:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        stream = environ["wsgi.input"]
        assert [stream.read(2) for _ in range(3)] == [b"ab", b"cd", b"ef"]
        return [b"no"]

    legacy = WsgiEcho("legacy")
    router = bridge.Router({"/api": late_reader}, fallback=legacy, replay_body_limit=3)
    reply = call_wsgi(router.wsgi, environ_for("/api", body=b"abcdef"))
    assert (reply.status, reply.body, legacy.environs) == (404, b"no", [])


def test_wsgi_generator_may_yield_empty_chunks_before_start_response() -> None:
    """PEP 3333: start_response must come before the first *non-empty* chunk."""

    def app(environ: Any, start_response: Any) -> Iterator[bytes]:
        yield b""
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"x"

    router = bridge.Router({"/api": app}, fallback=_plain("legacy"))
    reply = call_wsgi(router.wsgi, environ_for("/api"))
    assert (reply.status, reply.body) == (200, b"x")


def test_wsgi_app_that_never_starts_a_response_is_left_to_the_server() -> None:
    def silent(environ: Any, start_response: Any) -> Iterator[bytes]:
        yield from ()

    calls: list[Any] = []
    router = bridge.Router({"/api": silent}, fallback=_plain("legacy"))
    result = router.wsgi(environ_for("/api"), lambda *args: calls.append(args))
    assert (list(result), calls) == ([], [])
