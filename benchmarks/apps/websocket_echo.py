"""The WebSocket echo apps of ``benchmarks/websocket_echo.py``: each echoes every message back.

``fastapi_native`` (ASGI, for Uvicorn) and ``fastapi_bridged`` (the same app in AsgiToWsgi, for
Gunicorn); ``flask_native`` (flask-sock, for Gunicorn) and ``flask_bridged`` (the same app in
WsgiToAsgi, for Uvicorn). ``/hello`` answers plain HTTP, for the readiness probe.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import PlainTextResponse
from flask import Flask
from flask_sock import Sock

from bridge import AsgiToWsgi, WsgiToAsgi

fastapi_native = FastAPI()


@fastapi_native.get("/hello")
async def hello() -> PlainTextResponse:
    return PlainTextResponse("Hello, world!")


@fastapi_native.websocket("/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        return


flask_native = Flask(__name__)
sock = Sock(flask_native)


@flask_native.route("/hello")
def flask_hello() -> str:
    return "Hello, world!"


@sock.route("/echo")
def flask_echo(ws: Any) -> None:
    while True:
        ws.send(ws.receive())


fastapi_bridged = AsgiToWsgi(fastapi_native)
flask_bridged = WsgiToAsgi(flask_native)
