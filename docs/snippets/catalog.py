# catalog.py: serve it with  uvicorn catalog:router  or  gunicorn -c catalog_conf.py
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from flask import Flask

import bridge


@asynccontextmanager
async def lifespan(app):
    # One client for the process, opened on the event loop that runs its requests. Here it
    # calls this very API in-process; in your project, another service or a database pool.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        app.state.client = client
        yield


api = FastAPI(lifespan=lifespan)


@api.get("/items")
async def list_items():
    return [{"id": 1, "name": "bridge"}]


flask_app = Flask(__name__)


@flask_app.get("/items")
def items():
    # A sync view: the request runs on the server's loop, where the client lives.
    response = bridge.await_(api.state.client.get("/items"))
    response.raise_for_status()
    return {"items": response.json()}


@flask_app.get("/items/async")
async def items_async():
    # An async view: Flask runs it with asgiref's async_to_sync, which bridge points at that
    # same loop, so the view awaits the client directly.
    response = await api.state.client.get("/items")
    response.raise_for_status()
    return {"items": response.json()}


router = bridge.Router({"/api/v2": api}, fallback=flask_app)
application = router.wsgi
