"""The new API, written for ASGI with FastAPI, that takes over ``/api/v2`` from the Flask app.

``asgi.py`` mounts :data:`api` at :data:`PREFIX` with ``bridge.Router``; a request it answers
with 404 is replayed to the Flask app (the strangler fig). Its lifespan opens one shared
``httpx.AsyncClient`` (:func:`shared_client`) that Flask views use through ``bridge.await_``;
here it calls this very API in-process (``httpx.ASGITransport``), where a real project would
call another service or hold a database pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException
from fastapi_offline import FastAPIOffline

#: Where ``asgi.py`` mounts the API.
PREFIX = "/api/v2"

ITEMS = {1: "bridge", 2: "router", 3: "await_"}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the shared async client for the server's life, on the server's loop."""
    transport = httpx.ASGITransport(app=app, root_path=PREFIX)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://api{PREFIX}") as client:
        app.state.client = client
        yield


# A FastAPI app whose /docs page loads Swagger UI from the app itself, not from a CDN: it works
# offline.
api = FastAPIOffline(title="bridge example API", lifespan=lifespan)


def shared_client() -> httpx.AsyncClient:
    """The client the lifespan opened (use it on the server's loop, e.g. through await_)."""
    client: httpx.AsyncClient = api.state.client
    return client


@api.get("/items")
async def list_items() -> list[dict[str, object]]:
    return [{"id": key, "name": name} for key, name in ITEMS.items()]


@api.get("/items/{item_id}")
async def get_item(item_id: int) -> dict[str, object]:
    if item_id not in ITEMS:
        raise HTTPException(status_code=404, detail="no such item")
    return {"id": item_id, "name": ITEMS[item_id]}
