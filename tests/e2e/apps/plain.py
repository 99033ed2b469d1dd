"""Native (unbridged) apps: hello apps that check the server harness itself, and a 404 app."""

from __future__ import annotations

from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIEnvironment

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, Scope


def wsgi_hello(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Answer every request with ``hello, wsgi``."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "11")])
    return [b"hello, wsgi"]


def wsgi_not_found(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Answer every request with a plain ``404 Not Found`` (what no mounted app claims)."""
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"not found"]


async def asgi_hello(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    """Answer every HTTP request with ``hello, asgi``; accept lifespan."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": False})
    await send({"type": "http.response.body", "body": b"hello, asgi", "more_body": False})
