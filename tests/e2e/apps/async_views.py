"""Async code inside WSGI apps: Flask ``async def`` views and Django's ``async_to_sync``.

One Router: ``/asgi`` is a Starlette app whose lifespan opens a client bound to its loop (as an
async HTTP client or database pool is); ``/flask`` a Flask app with ``async def`` views (Flask
runs them with asgiref's ``async_to_sync``); ``/django`` Django with a sync view that calls
``async_to_sync``; ``/recipe`` a Flask app that runs its ``async def`` views through
``bridge.await_`` instead (the migration guide's recipe, ``docs/snippets/awaiting_flask.py``).
``/greenlet`` mounts the two Flask apps again through the greenlet runner.

``app`` (the router, under an ASGI middleware that sets :data:`TRACE`) is for ASGI servers;
``application`` (``router.wsgi``, under a WSGI middleware that does the same) for WSGI servers.
"""

from __future__ import annotations

import asyncio
import contextvars
import runpy
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import django
import sniffio
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, JsonResponse
from django.urls import path
from flask import Flask, request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import bridge

#: Set by the server-side middleware before the WSGI app runs: must reach the coroutines.
TRACE: contextvars.ContextVar[str] = contextvars.ContextVar("trace", default="unset")
#: Set inside a coroutine: must reach the sync view after ``async_to_sync`` returns.
OUT: contextvars.ContextVar[str] = contextvars.ContextVar("out", default="unset")


def where() -> dict[str, Any]:
    """The async library running the caller, and its asyncio loop's id (``None`` on trio)."""
    library = sniffio.current_async_library()
    loop = id(asyncio.get_running_loop()) if library == "asyncio" else None
    return {"library": library, "loop": loop}


class LoopBoundClient:
    """Stands for an async client or pool opened in lifespan: usable on its own loop only."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()

    async def get(self) -> str:
        if asyncio.get_running_loop() is not self.loop:
            raise RuntimeError("the client was used from another event loop")
        await asyncio.sleep(0)
        return "fetched"


class Shared:
    client: LoopBoundClient | None = None
    slow = "idle"  # the slow view's coroutine: idle, started, cancelled or finished


shared = Shared()


async def probe() -> dict[str, Any]:
    """What every async view answers: where it ran, the lifespan client's answer, TRACE."""
    client = shared.client
    fetched = await client.get() if client is not None else None
    return {**where(), "client": fetched, "trace": TRACE.get()}


# --- /asgi: the ASGI app that owns the client ---------------------------------------------------


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    if sniffio.current_async_library() == "asyncio":
        shared.client = LoopBoundClient()
    yield
    shared.client = None


async def asgi_where(request: Request) -> JSONResponse:
    return JSONResponse(where())


async def asgi_slow(request: Request) -> JSONResponse:
    return JSONResponse({"slow": shared.slow})


api = Starlette(routes=[Route("/where", asgi_where), Route("/slow", asgi_slow)], lifespan=lifespan)


# --- /flask: async def views, run by Flask through asgiref's async_to_sync ----------------------

flask_app = Flask("async_views")


@flask_app.get("/where")
async def flask_where() -> dict[str, Any]:
    return {**await probe(), "path": request.path}  # Flask's request context reached it


@flask_app.get("/slow")
async def flask_slow() -> str:
    shared.slow = "started"
    try:
        await asyncio.sleep(30)  # the client leaves long before
    except asyncio.CancelledError:
        shared.slow = "cancelled"
        raise
    shared.slow = "finished"
    return "finished\n"


# --- /recipe: async def views through bridge.await_ (every runner, trio too) --------------------

# The migration guide's recipe, run from the page's own file.
RECIPE = Path(__file__).resolve().parents[3] / "docs" / "snippets" / "awaiting_flask.py"
AwaitingFlask: type[Flask] = runpy.run_path(str(RECIPE))["AwaitingFlask"]
recipe_app = AwaitingFlask("async_views_recipe")


@recipe_app.get("/where")
async def recipe_where() -> dict[str, Any]:
    return await probe()


# --- /django: a sync view that calls async_to_sync ----------------------------------------------

settings.configure(
    DEBUG=False,
    SECRET_KEY="e2e-only-secret",
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)
django.setup()


async def django_probe() -> dict[str, Any]:
    OUT.set("set in the coroutine")
    return await probe()


def django_where(request: HttpRequest) -> JsonResponse:
    answer = async_to_sync(django_probe)()
    return JsonResponse({**answer, "out": OUT.get()})


urlpatterns = [path("where", django_where)]
django_app = WSGIHandler()


# --- the router, both ways ----------------------------------------------------------------------

greenlet = bridge.Router(
    {"/flask": flask_app, "/recipe": recipe_app}, wsgi_to_asgi={"runner": "greenlet"}
)
router = bridge.Router(
    {
        "/asgi": api,
        "/flask": flask_app,
        "/recipe": recipe_app,
        "/django": django_app,
        "/greenlet": greenlet,
    },
    # asgiref's async_to_sync in a WSGI view schedules onto a loop that runs meanwhile: a loop
    # thread. On a sync worker the private loop would run inline, only in the WSGI thread's turns.
    asgi_to_wsgi={"loop_thread": "always"},
)


async def app(scope: Any, receive: Any, send: Any) -> None:
    """The router on an ASGI server, with :data:`TRACE` set in the request task."""
    TRACE.set("traced")
    await router(scope, receive, send)


def application(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """``router.wsgi`` on a WSGI server, with :data:`TRACE` set in the WSGI thread."""
    TRACE.set("traced")
    return router.wsgi(environ, start_response)
