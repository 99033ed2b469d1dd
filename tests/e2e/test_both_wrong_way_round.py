"""An app given to the adapter for the other interface: refused when the adapter is built.

Without the check, ``AsgiToWsgi(flask_app)`` and ``WsgiToAsgi(fastapi_app)`` would start fine
and fail on every request (``TypeError: Flask.__call__() missing 1 required positional
argument: 'start_response'``). The adapters tell the two interfaces apart as the Router does (a
sync callable taking ``(environ, start_response)``; an async one taking ``(scope, receive,
send)``), name the adapter that fits, and take ``bridge.WsgiApp(...)`` / ``bridge.AsgiApp(...)``
to skip the check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import flask
import pytest
from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from fastapi import FastAPI
from starlette.applications import Starlette

from bridge import AsgiApp, AsgiToWsgi, WsgiApp, WsgiToAsgi
from tests.e2e import servers


def wsgi_function(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


async def asgi_function(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": False})
    await send({"type": "http.response.body", "body": b"ok", "more_body": False})


@pytest.mark.parametrize(
    "app", [flask.Flask("wsgi"), wsgi_function], ids=["flask", "wsgi-function"]
)
def test_asgi_to_wsgi_refuses_a_wsgi_app_and_names_wsgi_to_asgi(app: object) -> None:
    """PEP 3333 app vs ASGI 3 app (ASGI spec "Applications": an async callable taking scope,
    receive, send): a WSGI app given to AsgiToWsgi is a TypeError at construction, and the
    message names the adapter it needs (WsgiToAsgi)."""
    with pytest.raises(TypeError, match="WsgiToAsgi"):
        AsgiToWsgi(app)


@pytest.mark.parametrize(
    "app", [FastAPI(), Starlette(), asgi_function], ids=["fastapi", "starlette", "asgi-function"]
)
def test_wsgi_to_asgi_refuses_an_asgi_app_and_names_asgi_to_wsgi(app: object) -> None:
    """As above, the other way round: an ASGI app given to WsgiToAsgi names AsgiToWsgi."""
    with pytest.raises(TypeError, match="AsgiToWsgi"):
        WsgiToAsgi(app)  # type: ignore[arg-type]


def test_the_markers_skip_the_check() -> None:
    """The explicit way out, for callables detection cannot decide (instrumentation proxies
    with ``__call__(*args, **kwargs)``, say): ``WsgiApp(app)`` and ``AsgiApp(app)``, the
    Router's own markers, are taken as they are, whatever the callable looks like."""

    def proxy(*args: Any) -> Any:
        return asgi_function(*args)

    assert AsgiToWsgi(AsgiApp(proxy)).app is proxy
    assert WsgiToAsgi(WsgiApp(wsgi_function)).app is wsgi_function  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("argv", "right"),
    [
        (
            servers.uvicorn("wrong_way_apps:fastapi_in_wsgi_to_asgi", extra=["--factory"]),
            "AsgiToWsgi",
        ),
        (servers.gunicorn("wrong_way_apps:flask_in_asgi_to_wsgi()"), "WsgiToAsgi"),
    ],
    ids=["uvicorn-fastapi-in-wsgi-to-asgi", "gunicorn-flask-in-asgi-to-wsgi"],
)
def test_the_server_fails_at_startup_naming_the_right_adapter(argv: list[str], right: str) -> None:
    """Where the mistake shows: the server does not start, and its log says which adapter the
    app needs, instead of a server that answers 500 to every request. (Uvicorn exits before it
    listens; Gunicorn's master listens, then exits once its worker failed to boot.)"""
    try:
        with servers.running(argv) as server:
            exited_with = server.process.wait(timeout=servers.READY_TIMEOUT)
            log = server.log()
    except RuntimeError as exc:  # it never accepted a connection
        exited_with, log = 1, str(exc)
    assert exited_with != 0
    assert f"bridge.{right}(app)" in log
