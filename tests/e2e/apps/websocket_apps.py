"""WebSocket apps for the end-to-end tests, one per direction, with the same routes.

* ``asgi_on_wsgi``: a FastAPI app served by WSGI servers through ``bridge.AsgiToWsgi``
  (``asgi_on_wsgi_trio``: the same on the trio private loop).
* ``wsgi_on_asgi``: a Flask app whose WebSocket routes are flask-sock's, served by ASGI servers
  through ``bridge.WsgiToAsgi`` (``wsgi_on_asgi_greenlet``: the greenlet runner, which refuses).

Routes (both apps):

``/echo``       accepts (choosing the first subprotocol offered; adds ``x-echo: yes`` on
                A->W), then echoes each message. A text message ``close <code> <reason>`` makes
                the app close with that code and reason. When the client goes away the app
                records how (``GET /events``).
``/deny``       refuses: 403 (close before accept) on A->W, 401 with a body on W->A (Flask's
                ``abort``) and A->W ``/deny-http``.
``/boom``       accepts, then raises.
``/events``     a plain HTTP route: the disconnects the app saw, as JSON ``[[code, reason]]``.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import FastAPI, WebSocket
from fastapi.responses import PlainTextResponse
from flask import Flask, abort
from flask_sock import ConnectionClosed, Sock

from bridge import AsgiToWsgi, WsgiToAsgi

_events: list[list[Any]] = []
_lock = threading.Lock()


def _record(code: object, reason: object) -> None:
    with _lock:
        _events.append([code, reason])


def _events_so_far() -> list[list[Any]]:
    with _lock:
        return list(_events)


# --- A->W: FastAPI ---------------------------------------------------------------------------

fastapi_app = FastAPI()


@fastapi_app.websocket("/echo")
async def echo(websocket: WebSocket) -> None:
    offered = websocket.scope.get("subprotocols") or []
    await websocket.accept(
        subprotocol=offered[0] if offered else None, headers=[(b"x-echo", b"yes")]
    )
    while True:
        try:
            message = await websocket.receive()
        except RuntimeError:  # receive() after the disconnect
            return
        if message["type"] == "websocket.disconnect":
            _record(message.get("code"), message.get("reason") or "")
            return
        text = message.get("text")
        if text is not None and text.startswith("close "):
            _, code, reason = text.split(" ", 2)
            await websocket.close(int(code), reason)
            return
        if text is not None:
            await websocket.send_text(text)
        else:
            await websocket.send_bytes(message.get("bytes") or b"")


@fastapi_app.websocket("/deny")
async def deny(websocket: WebSocket) -> None:
    await websocket.close()


@fastapi_app.websocket("/deny-http")
async def deny_http(websocket: WebSocket) -> None:
    await websocket.send_denial_response(PlainTextResponse("no entry", status_code=401))


@fastapi_app.websocket("/boom")
async def boom(websocket: WebSocket) -> None:
    await websocket.accept()
    raise RuntimeError("boom after accept")


@fastapi_app.get("/events")
async def events() -> list[list[Any]]:
    return _events_so_far()


asgi_on_wsgi = AsgiToWsgi(fastapi_app, backend="asyncio")
asgi_on_wsgi_trio = AsgiToWsgi(fastapi_app, backend="trio")


# --- W->A: Flask with flask-sock ---------------------------------------------------------------

flask_app = Flask(__name__)
flask_app.config["SOCK_SERVER_OPTIONS"] = {"subprotocols": ["chat", "other"]}
sock = Sock(flask_app)


@sock.route("/echo")
def flask_echo(ws: Any) -> None:
    try:
        while True:
            message = ws.receive()
            if isinstance(message, str) and message.startswith("close "):
                _, code, reason = message.split(" ", 2)
                ws.close(reason=int(code), message=reason)
                return
            ws.send(message)
    except ConnectionClosed as exc:
        _record(exc.reason, exc.message or "")
        raise


@flask_app.route("/deny", websocket=True)
def flask_deny() -> None:
    abort(401, "no entry")


@sock.route("/boom")
def flask_boom(ws: Any) -> None:
    raise RuntimeError("boom after accept")


@flask_app.route("/events")
def flask_events() -> list[list[Any]]:
    return _events_so_far()


wsgi_on_asgi = WsgiToAsgi(flask_app)
wsgi_on_asgi_greenlet = WsgiToAsgi(flask_app, runner="greenlet")
