"""The WebSocket apps of both directions in a process where wsproto cannot be imported.

Setting ``sys.modules["wsproto"] = None`` makes every ``import wsproto`` raise ImportError, as
if the ``websockets`` extra were not installed (a fault injected for the refusal tests). The apps
use no package that needs wsproto: a FastAPI echo route, and a bare WSGI app.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIEnvironment

sys.modules["wsproto"] = None  # type: ignore[assignment]

from fastapi import FastAPI, WebSocket  # noqa: E402

from bridge import AsgiToWsgi, WsgiToAsgi  # noqa: E402

fastapi_app = FastAPI()


@fastapi_app.websocket("/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())


def wsgi_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"plain HTTP only"]


asgi_on_wsgi = AsgiToWsgi(fastapi_app)
wsgi_on_asgi = WsgiToAsgi(wsgi_app)
