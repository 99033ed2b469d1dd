"""A FastAPI app that reports where ``AsgiToWsgi``'s private loop runs, for end-to-end tests.

Its lifespan starts a ticker task (one tick every :data:`TICK` seconds) as a periodic clean-up
would. ``/where`` answers which thread ran the request and which threads the process has;
``/ticks`` answers how far the ticker has got. ``app`` keeps the default (``loop_thread="auto"``),
``app_loop_thread`` asks for a loop thread (``"always"``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI

from bridge import AsgiToWsgi

TICK = 0.01


class Ticker:
    """Counts the ticks of the lifespan's periodic task."""

    ticks = 0


ticker = Ticker()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async def tick() -> None:
        while True:
            await anyio.sleep(TICK)
            ticker.ticks += 1

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(tick)
        yield
        tasks.cancel_scope.cancel()


api = FastAPI(lifespan=lifespan)


@api.get("/where")
async def where() -> dict[str, Any]:
    current = threading.current_thread()
    return {
        "pid": os.getpid(),
        "thread": current.name,
        "main": current is threading.main_thread(),
        "threads": sorted(thread.name for thread in threading.enumerate()),
    }


@api.get("/ticks")
async def ticks() -> dict[str, int]:
    return {"ticks": ticker.ticks, "pid": os.getpid()}


app = AsgiToWsgi(api)
app_loop_thread = AsgiToWsgi(api, loop_thread="always")
