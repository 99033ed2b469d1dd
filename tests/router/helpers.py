"""In-process drivers for Router tests: call an ASGI or WSGI app and record what each app saw."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import anyio
from asgiref.typing import ASGIReceiveEvent, ASGISendEvent

TIMEOUT = 5.0


@dataclass
class Reply:
    """What a client got: status, headers, body, and every message in order."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    messages: list[Any] = field(default_factory=list)


def http_scope(path: str = "/", root_path: str = "", **extra: Any) -> dict[str, Any]:
    """An ASGI 3 ``http`` scope with every key a server gives."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8"),
        "query_string": b"",
        "root_path": root_path,
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    scope.update(extra)
    return scope


async def call_asgi(app: Any, scope: dict[str, Any], chunks: Iterable[bytes] = ()) -> Reply:
    """Call ``app`` with ``scope``, feeding ``chunks`` as the body; return the reply (bounded)."""
    incoming: list[ASGIReceiveEvent] = [
        {"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks
    ]
    incoming.append({"type": "http.request", "body": b"", "more_body": False})
    sent: list[Any] = []
    response_complete = anyio.Event()

    async def receive() -> ASGIReceiveEvent:
        if incoming:
            return incoming.pop(0)
        await response_complete.wait()  # as a server: the client stays until it has the response
        return {"type": "http.disconnect"}

    async def send(message: ASGISendEvent) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            response_complete.set()

    with anyio.fail_after(TIMEOUT):
        await app(scope, receive, send)
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1, sent
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Reply(starts[0]["status"], list(starts[0]["headers"]), body, sent)


def environ_for(
    path: str = "/", script_name: str = "", body: bytes = b"", **extra: Any
) -> dict[str, Any]:
    """A PEP 3333 environ as a server gives it (``wsgiref.util.setup_testing_defaults``)."""
    environ: dict[str, Any] = {
        "PATH_INFO": path,
        "SCRIPT_NAME": script_name,
        "QUERY_STRING": "",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
    }
    environ.update(extra)
    setup_testing_defaults(environ)
    return environ


def call_wsgi(app: Any, environ: dict[str, Any], *, validate: bool = True) -> Reply:
    """Call ``app`` as a server would (through ``wsgiref.validate``); return the reply."""
    calls: list[tuple[str, list[tuple[str, str]]]] = []
    written: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        calls.append((status, headers))
        return written.append

    result = (validator(app) if validate else app)(environ, start_response)
    try:
        chunks = list(result)
    finally:
        result.close()  # type: ignore[attr-defined]
    assert len(calls) == 1, calls
    status, headers = calls[0]
    wire = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers]
    return Reply(int(status[:3]), wire, b"".join(written + chunks), calls)


class AsgiEcho:
    """An ASGI app that records each scope and answers ``status`` with its name and paths."""

    def __init__(self, name: str, status: int = 200, read_body: bool = False) -> None:
        self.name = name
        self.status = status
        self.read_body = read_body
        self.scopes: list[dict[str, Any]] = []
        self.bodies: list[bytes] = []

    def __repr__(self) -> str:
        return f"<AsgiEcho {self.name}>"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] in ("http", "websocket"), scope["type"]
        self.scopes.append(scope)
        if scope["type"] == "websocket":
            assert (await receive())["type"] == "websocket.connect"
            await send({"type": "websocket.accept", "subprotocol": None, "headers": []})
            await send({"type": "websocket.close", "code": 1000, "reason": ""})
            return
        body = b""
        while self.read_body:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.bodies.append(body)
        payload = {"app": self.name, "path": scope["path"], "root_path": scope["root_path"],
                   "body": body.decode("latin-1")}  # fmt: skip
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": self.status, "headers": headers,
                    "trailers": False})  # fmt: skip
        await send({"type": "http.response.body", "body": json.dumps(payload).encode(),
                    "more_body": False})  # fmt: skip


class WsgiEcho:
    """A WSGI app (checked by ``wsgiref.validate``) that records each environ it is called with."""

    def __init__(self, name: str, status: str = "200 OK", read_body: bool = False) -> None:
        self.name = name
        self.status = status
        self.read_body = read_body
        self.environs: list[WSGIEnvironment] = []
        self._validated = validator(self._app)

    def __repr__(self) -> str:
        return f"<WsgiEcho {self.name}>"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        self.environs.append(dict(environ))  # before wsgiref.validate wraps wsgi.input
        return self._validated(environ, start_response)

    def _app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if self.read_body else b""
        payload = {"app": self.name, "script_name": environ["SCRIPT_NAME"],
                   "path_info": environ["PATH_INFO"], "body": body.decode("latin-1")}  # fmt: skip
        start_response(self.status, [("Content-Type", "application/json")])
        return [json.dumps(payload).encode()]


def payload(reply: Reply) -> dict[str, Any]:
    """The JSON an echo app answered with."""
    return dict(json.loads(reply.body))


async def asgi_never_called(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app for routes that must be validated but never served."""
    raise AssertionError("not called")


def wsgi_never_called(environ: Any, start_response: Any) -> list[bytes]:
    """A WSGI app for routes that must be validated but never served."""
    raise AssertionError("not called")
