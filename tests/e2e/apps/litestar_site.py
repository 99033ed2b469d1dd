"""A Litestar app for the real-application matrix (``asgi_frameworks``).

Lifespan (``on_startup`` fills ``app.state``), path and query parameters, a dataclass request
body validated by Litestar (400 on a bad one), dependency injection (``Provide``) and a ``Stream``
response.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from litestar import Litestar, Request, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.response import Stream


@dataclass
class Order:
    item: str
    quantity: int


async def open_pricing() -> dict[str, int]:
    """A dependency: the price list an order is computed with."""
    return {"apple": 3, "pear": 5}


def started(app: Litestar) -> None:
    app.state.started_pid = os.getpid()


@get("/items/{item_id:int}")
async def item(
    item_id: int, request: Request[Any, Any, State], q: str | None = None, limit: int = 10
) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "q": q,
        "limit": limit,
        "root_path": request.scope.get("root_path"),
        "started_pid": request.app.state.get("started_pid"),
        "pid": os.getpid(),
    }


@post("/orders", dependencies={"pricing": Provide(open_pricing)})
async def order(data: Order, pricing: dict[str, int]) -> dict[str, Any]:
    return {
        "item": data.item,
        "quantity": data.quantity,
        "total": pricing[data.item] * data.quantity,
    }


@get("/stream")
async def stream(n: int = 50) -> Stream:
    async def lines() -> AsyncIterator[bytes]:
        for number in range(n):
            yield f"line {number}\n".encode()

    return Stream(lines(), media_type="text/plain")


app = Litestar(route_handlers=[item, order, stream], on_startup=[started])
