"""In-process drivers for WsgiToAsgi tests: a scripted ASGI server side and recording WSGI parts."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment
from wsgiref.validate import validator

import anyio

import bridge
import bridge._runners
import bridge._wsgi_to_asgi
from bridge._runners.thread_pool import ThreadPool

TIMEOUT = 10.0
#: Where WsgiToAsgi's code lives: its own package and the runners', by directory, not by name.
BRIDGE_DIRS = tuple(
    os.path.dirname(package.__file__ or "") + os.sep
    for package in (bridge._wsgi_to_asgi, bridge._runners)
)
#: The code a pool thread runs between jobs, and the pool's spawner: no request runs there.
POOL_LOOP = frozenset(
    {ThreadPool._serve.__code__, ThreadPool._next_job.__code__, ThreadPool._spawn_when_due.__code__}
)

Message = dict[str, Any]


def http_scope(
    method: str = "GET",
    path: str = "/",
    headers: Iterable[tuple[bytes, bytes]] = (),
    **extra: Any,
) -> dict[str, Any]:
    """An ASGI 3 ``http`` scope with every key a server gives."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8"),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "extensions": {},
        "state": {},
    }
    scope.update(extra)
    return scope


def body_messages(*chunks: bytes) -> list[Message]:
    """The ``http.request`` messages of a body sent in ``chunks`` (one empty chunk if none)."""
    parts = list(chunks) or [b""]
    return [
        {"type": "http.request", "body": chunk, "more_body": index < len(parts) - 1}
        for index, chunk in enumerate(parts)
    ]


@dataclass
class Exchange:
    """A scripted server side of one connection.

    ``receive()`` replays ``incoming`` and then waits until :meth:`disconnect` (as servers do once
    the body is complete); ``send()`` records each message, then awaits ``on_send(message)``.
    """

    incoming: list[Message] = field(default_factory=lambda: body_messages(b""))
    on_send: Callable[[Message], Awaitable[None]] | None = None
    sent: list[Message] = field(default_factory=list)
    receive_calls: int = 0
    _gone: anyio.Event | None = None

    def disconnect(self) -> None:
        """Make the waiting (or next) ``receive()`` return ``http.disconnect``."""
        self._gone_event().set()

    def _gone_event(self) -> anyio.Event:
        if self._gone is None:
            self._gone = anyio.Event()
        return self._gone

    async def receive(self) -> Message:
        self.receive_calls += 1
        if self.incoming:
            return self.incoming.pop(0)
        await self._gone_event().wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)
        if self.on_send is not None:
            await self.on_send(message)

    @property
    def start(self) -> Message:
        """The one ``http.response.start`` message."""
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        assert len(starts) == 1, self.sent
        return starts[0]

    @property
    def status(self) -> int:
        return int(self.start["status"])

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        return list(self.start["headers"])

    @property
    def bodies(self) -> list[Message]:
        return [m for m in self.sent if m["type"] == "http.response.body"]

    @property
    def body(self) -> bytes:
        return b"".join(m["body"] for m in self.bodies)

    @property
    def complete(self) -> bool:
        """Whether the response ended with ``more_body`` False (servers then finish it)."""
        return bool(self.bodies) and not self.bodies[-1]["more_body"]


async def serve(
    app: Any, scope: dict[str, Any] | None = None, exchange: Exchange | None = None
) -> Exchange:
    """Run the ASGI ``app`` for one connection (bounded by :data:`TIMEOUT`); return the exchange."""
    exchange = exchange if exchange is not None else Exchange()
    with anyio.fail_after(TIMEOUT):
        await app(scope if scope is not None else http_scope(), exchange.receive, exchange.send)
    return exchange


class Body:
    """A response iterable that records the thread of each ``next()`` and ``close()`` call.

    :param chunks: what to yield.
    :param before: called with the chunk's index before each one is produced.
    """

    def __init__(self, chunks: Iterable[bytes], before: Callable[[int], None] | None = None):
        self._chunks: Iterator[bytes] = iter(chunks)
        self._before = before
        self.pulled = 0
        self.closed = 0
        self.threads: list[int] = []

    def __iter__(self) -> Body:
        return self

    def __next__(self) -> bytes:
        self.threads.append(threading.get_ident())
        if self._before is not None:
            self._before(self.pulled)
        chunk = next(self._chunks)
        self.pulled += 1
        return chunk

    def close(self) -> None:
        self.threads.append(threading.get_ident())
        self.closed += 1


def simple_app(
    body: Iterable[bytes] | Callable[[], Iterable[bytes]],
    status: str = "200 OK",
    headers: list[tuple[str, str]] | None = None,
    *,
    validate: bool = True,
) -> WSGIApplication:
    """A WSGI app that calls ``start_response(status, headers)`` and returns ``body``.

    A ``Content-Type: text/plain`` header is added when ``headers`` has none and the status
    allows a body, as ``wsgiref.validate`` requires.
    """

    given = list(headers if headers is not None else [])
    if status[:3] not in ("204", "304") and not any(n.lower() == "content-type" for n, _ in given):
        given.insert(0, ("Content-Type", "text/plain"))  # the validator insists on one

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response(status, given)
        return body() if callable(body) else body

    return validator(app) if validate else app


def wsgi(app: WSGIApplication, **options: Any) -> bridge.WsgiToAsgi:
    """``WsgiToAsgi`` around ``app`` checked by ``wsgiref.validate``."""
    return bridge.WsgiToAsgi(validator(app), **options)


def threads_in_bridge() -> list[str]:
    """Idents of threads (other than this one) still running bridge's code, once settled.

    A worker that has just woken the loop may still be on its way back to the pool: this polls,
    bounded by :data:`TIMEOUT`, until no thread runs bridge's code. An idle pool thread (waiting
    for its next job, and exiting on its own when idle long enough) runs no request.
    """
    deadline = time.monotonic() + TIMEOUT
    while (busy := _busy_threads()) and time.monotonic() < deadline:
        time.sleep(0.001)
    return busy


def _busy_threads() -> list[str]:
    busy = []
    me = threading.get_ident()
    for ident, frame in sys._current_frames().items():
        current = frame
        while current is not None and ident != me:
            code = current.f_code
            if code in POOL_LOOP:
                break  # between jobs: the innermost bridge frame is the pool's own loop
            if code.co_filename.startswith(BRIDGE_DIRS):
                busy.append(str(ident))
                break
            current = current.f_back
    return busy


async def eventually(predicate: Callable[[], bool]) -> None:
    """Wait until ``predicate()`` holds, failing after :data:`TIMEOUT` (a bounded wait).

    It polls because the condition is often another thread's state, which no event signals.
    """
    with anyio.fail_after(TIMEOUT):
        while not predicate():  # noqa: ASYNC110
            await anyio.sleep(0.002)
