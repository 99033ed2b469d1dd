"""ASGI apps behind ``bridge.AsgiToWsgi`` (and ``Router.wsgi``) for the edge-case e2e tests.

Each app is a pattern real code has: a naive app that treats every scope as ``http`` (and so
breaks on the lifespan scope), a bare Starlette ``StreamingResponse`` used as the app, an app
that neither answers nor refuses lifespan, a FastAPI lifespan whose resource a Flask view uses
(the migration guide's pattern), ``FileResponse`` with a background task that deletes the file,
a body echo, an app that raises, and a FastAPI WebSocket route.

bridge's own log records go to stderr (``bridge_log``), so the tests can count them.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import flask
from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from bridge_log import log_bridge_to_stderr
from edge_facts import ASGI_FAILURE, ASGI_REPORT
from fastapi import FastAPI, WebSocket
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, StreamingResponse

import bridge
from bridge import AsgiToWsgi, Router

log_bridge_to_stderr()


async def _answer(send: ASGISendCallable, body: bytes, status: int = 200) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers,
                "trailers": False})  # fmt: skip
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _lifespan(receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})


def legacy_ok(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """A WSGI fallback that answers ``legacy ok``."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"legacy ok"]


# --- lifespan: apps that do not speak it -------------------------------------------------------


async def naive_http_app(
    scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
) -> None:
    """Treats every scope as ``http``: reads ``message["body"]`` (a KeyError on lifespan)."""
    message = await receive()
    body = message["body"]  # type: ignore[typeddict-item]
    await _answer(send, b"naive ok" + body)


class _Chunks:
    """An async iterable that starts over for each response."""

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        yield b"chunk-1 "
        yield b"chunk-2"


#: A bare ``StreamingResponse`` used as the whole app (it is an ASGI app).
streaming_response = StreamingResponse(_Chunks(), media_type="text/plain")


async def never_answers_lifespan(
    scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
) -> None:
    """Waits for a second message before answering: on lifespan it neither answers nor raises."""
    await receive()
    if scope["type"] == "lifespan":
        await receive()  # lifespan.shutdown, at the very end
        return
    await _answer(send, b"answered")


def by_first_segment(apps: dict[str, WSGIApplication]) -> WSGIApplication:
    """A WSGI dispatcher: the first segment of ``PATH_INFO`` picks the app (path unchanged)."""

    def dispatch(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return apps[environ["PATH_INFO"].split("/")[1]](environ, start_response)

    return dispatch


#: Two AsgiToWsgi, each with its own lifespan: ``/naive/...`` and ``/stream/...``.
naive_apps = by_first_segment(
    {"naive": AsgiToWsgi(naive_http_app), "stream": AsgiToWsgi(streaming_response)}
)
silent = AsgiToWsgi(never_answers_lifespan)
naive_router = Router({"/naive": naive_http_app, "/stream": streaming_response}, fallback=legacy_ok)
naive_router_wsgi = naive_router.wsgi


# --- lifespan: a resource a WSGI view uses (router.wsgi) ---------------------------------------


class Pool:
    """Stands for a database pool or an HTTP client made in the lifespan, on the loop."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()

    async def fetch(self) -> str:
        assert asyncio.get_running_loop() is self.loop, "used from another loop"
        await asyncio.sleep(0)
        return "pooled"


class Shared:
    pool: Pool | None = None


shared = Shared()


@asynccontextmanager
async def _open_pool(app: FastAPI) -> AsyncIterator[None]:
    shared.pool = Pool()
    yield
    shared.pool = None


pool_api = FastAPI(lifespan=_open_pool)


@pool_api.get("/status")
async def pool_status() -> dict[str, bool]:
    return {"pool": shared.pool is not None}


legacy_site = flask.Flask("legacy_site")


@legacy_site.get("/")
def legacy_index() -> dict[str, str]:
    """A legacy view that uses the pool the new app's lifespan opened."""
    assert shared.pool is not None, "the ASGI apps' lifespan has not started"
    return {"fetched": bridge.await_(shared.pool.fetch())}


migration_wsgi = Router({"/api": pool_api}, fallback=legacy_site).wsgi


# --- a file sent by path and deleted by a background task -------------------------------------

files_api = FastAPI()


@files_api.get("/report")
def report() -> FileResponse:
    """``FileResponse`` of a temporary file that a background task deletes (a common idiom)."""
    handle, path = tempfile.mkstemp(prefix="bridge-e2e-report-")
    with os.fdopen(handle, "wb") as file:
        file.write(ASGI_REPORT)
    return FileResponse(path, media_type="text/plain", background=BackgroundTask(os.unlink, path))


files = AsgiToWsgi(files_api)


# --- request bodies, failures ------------------------------------------------------------------


async def echo_app(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """Answer with the request body's length and bytes (latin-1), as JSON."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    await _answer(send, json.dumps({"length": len(body), "body": body.decode("latin-1")}).encode())


async def failing_app(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """Raise on every request (lifespan works)."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    raise RuntimeError(ASGI_FAILURE)


echo = AsgiToWsgi(echo_app)
failing = AsgiToWsgi(failing_app)


# --- WebSocket routes --------------------------------------------------------------------------

sockets_api = FastAPI()


@sockets_api.websocket("/{adapter}/ws")
async def echo_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())
    await websocket.close()


#: Two AsgiToWsgi of the same app side by side: ``/a/...`` and ``/b/...``.
two_socket_adapters = by_first_segment({"a": AsgiToWsgi(sockets_api), "b": AsgiToWsgi(sockets_api)})
