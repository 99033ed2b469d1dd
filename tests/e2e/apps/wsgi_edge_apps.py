"""WSGI apps behind ``bridge.WsgiToAsgi`` for the edge-case end-to-end tests.

``app`` routes by ``PATH_INFO`` to small PEP 3333 handlers, each one a pattern real apps use:
an exception that escapes, ``start_response(..., exc_info=...)`` by keyword, a body echo, the
``wsgi.*`` flags, a call that blocks until the test releases it. It is wrapped in an outer ASGI
middleware that records the exceptions it sees (as an error reporter would), and the adapter
refuses bodies over ``edge_facts.BODY_LIMIT``. ``files`` is a Flask app that sends a temporary file.

bridge's own log records go to stderr (``bridge_log``), so the tests can count them.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable
from urllib.parse import parse_qs
from wsgiref.types import StartResponse, WSGIEnvironment

import flask
from asgiref.typing import ASGI3Application, ASGIReceiveCallable, ASGISendCallable, Scope
from bridge_log import log_bridge_to_stderr
from edge_facts import BODY_LIMIT, WSGI_FAILURE, WSGI_REPORT

import bridge
from bridge import WsgiToAsgi

log_bridge_to_stderr()

#: How long ``/block`` waits for the release file at most (seconds).
BLOCK_LIMIT = 50.0


def _answer(start_response: StartResponse, body: bytes, status: str = "200 OK") -> list[bytes]:
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [body]


def _keyword_exc_info(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    """An app's own error page, passed with ``exc_info`` by keyword (Werkzeug, Gunicorn...)."""
    try:
        raise ValueError("a handled failure")
    except ValueError:
        body = b"the app's own error page"
        headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
        start_response("500 Internal Server Error", headers, exc_info=sys.exc_info())
        return [body]


def _echo(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    """Read the whole body as PEP 3333 allows (to EOF when the input is terminated)."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    body = stream.read(int(length)) if length else stream.read()
    answer = {"length": len(body), "body": body.decode("latin-1")}
    return _answer(start_response, json.dumps(answer).encode())


def _flags(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    keys = ("wsgi.multiprocess", "wsgi.multithread", "wsgi.run_once")
    return _answer(start_response, json.dumps({key: environ[key] for key in keys}).encode())


def _block(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    """Block until the file named by ``BRIDGE_E2E_RELEASE`` exists (bounded): a slow call."""
    token = parse_qs(environ.get("QUERY_STRING", ""))["token"][0]
    release = os.environ["BRIDGE_E2E_RELEASE"]
    print(f"entered {token}", file=sys.stderr, flush=True)
    deadline = time.monotonic() + BLOCK_LIMIT
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.05)
    print(f"returned {token}", file=sys.stderr, flush=True)
    return _answer(start_response, b'"released"')


def _plain(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Route by ``PATH_INFO``; anything unknown answers ``"ok"``."""
    path = environ["PATH_INFO"]
    if path == "/raise":
        raise RuntimeError(f"{WSGI_FAILURE} {environ.get('QUERY_STRING', '')}")
    handler = {
        "/keyword-exc-info": _keyword_exc_info,
        "/echo": _echo,
        "/flags": _flags,
        "/block": _block,
    }.get(path)
    if handler is not None:
        return handler(environ, start_response)
    return _answer(start_response, b'"ok"')


class ErrorReporter:
    """An outer ASGI middleware that prints each exception it sees, then re-raises it."""

    def __init__(self, app: ASGI3Application) -> None:
        self.app = app

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            print(f"error reporter saw {exc!r}", file=sys.stderr, flush=True)
            raise


class PathDispatch:
    """A minimal ASGI dispatcher: the first path segment picks the app; lifespan goes to all."""

    def __init__(self, apps: dict[str, ASGI3Application]) -> None:
        self.apps = apps

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await self.apps[scope["path"].split("/")[1]](scope, receive, send)


app = ErrorReporter(WsgiToAsgi(_plain, max_request_body_size=BODY_LIMIT))
#: The same WSGI app behind a bridge.Router, which reaches it through a WsgiToAsgi of its own.
routed = bridge.Router({"/": _plain}, wsgi_to_asgi={"shutdown_timeout": 5.0})

#: Two adapters side by side (``/a/...`` and ``/b/...``): per-instance behaviour.
two_adapters = PathDispatch({"a": WsgiToAsgi(_plain), "b": WsgiToAsgi(_plain)})
#: The same with the greenlet runner, which cannot carry WebSockets (each adapter refuses them).
two_greenlet_adapters = PathDispatch(
    {"a": WsgiToAsgi(_plain, runner="greenlet"), "b": WsgiToAsgi(_plain, runner="greenlet")}
)


def single_process() -> WsgiToAsgi:
    """Factory (``uvicorn --factory``): an adapter that declares a single-process deployment."""
    return WsgiToAsgi(_plain, multiprocess=False)  # type: ignore[call-arg]


report_site = flask.Flask("report_site")


@report_site.get("/report")
def report() -> flask.Response:
    """Flask ``send_file`` of a temporary file: deleted when the response closes it."""
    temporary = tempfile.NamedTemporaryFile()  # noqa: SIM115 (send_file closes it)
    temporary.write(WSGI_REPORT)
    temporary.flush()
    temporary.seek(0)
    return flask.send_file(temporary, mimetype="text/plain", download_name="report.txt")


files = WsgiToAsgi(report_site)
