"""A FastAPI app whose work goes on after the response, for the real-application matrix.

Lifespan state, a plain dependency and a yield dependency whose cleanup runs after the endpoint
(also when it raises), ``BackgroundTasks`` (a sync task, run in a thread, and an async one), and
the cleanup idiom ``FileResponse(path, background=BackgroundTask(os.unlink, path))``.

What happens after a response is recorded per ``token`` in :data:`EVENTS` and read back with
``GET /events/<token>``; the servers run one worker process, so every request sees the same
record.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

#: What each token's requests did after (or around) their response, in order.
EVENTS: defaultdict[str, list[str]] = defaultdict(list)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    yield {"prices": {"apple": 3, "pear": 5}, "started_pid": os.getpid()}


app = FastAPI(lifespan=lifespan)


@dataclass(frozen=True)
class Settings:
    currency: str = "EUR"


def get_settings() -> Settings:
    return Settings()


async def unit_of_work(token: str) -> AsyncIterator[list[str]]:
    """A yield dependency: "begin" before the endpoint, "rollback" if it raised, then "end"."""
    events = EVENTS[token]
    events.append("begin")
    try:
        yield events
    except HTTPException:
        events.append("rollback")
        raise
    finally:
        events.append("end")


@app.get("/orders/{token}")
async def order(
    token: str,
    request: Request,
    work: Annotated[list[str], Depends(unit_of_work)],
    settings: Annotated[Settings, Depends(get_settings)],
    item: str = "apple",
    quantity: int = 1,
) -> dict[str, Any]:
    """Price an order from the lifespan's price list; an unknown item is a 409 (rolled back)."""
    work.append("work")
    prices: dict[str, int] = request.state.prices
    if item not in prices:
        raise HTTPException(status_code=409, detail=f"no price for {item}")
    return {
        "total": prices[item] * quantity,
        "currency": settings.currency,
        "started_pid": request.state.started_pid,
        "pid": os.getpid(),
    }


def record(token: str, event: str) -> None:
    EVENTS[token].append(event)


async def record_async(token: str, event: str) -> None:
    EVENTS[token].append(event)


@app.post("/jobs/{token}")
async def job(token: str, tasks: BackgroundTasks) -> dict[str, str]:
    """Answer at once; two background tasks then record themselves."""
    tasks.add_task(record, token, "sync task")
    tasks.add_task(record_async, token, "async task")
    return {"scheduled": token}


@app.get("/events/{token}")
async def events(token: str) -> list[str]:
    return EVENTS.get(token, [])


def export_body(token: str) -> bytes:
    """The body of ``/export/<token>``: the token repeated, about 32 KiB."""
    return token.encode() * 1000


@app.get("/export/{token}")
async def export(token: str) -> FileResponse:
    """Write a temporary file and send it; a background task deletes it once it was sent."""
    fd, path = tempfile.mkstemp(prefix="bridge-e2e-export-", suffix=".txt")
    with os.fdopen(fd, "wb") as out:
        out.write(export_body(token))
    return FileResponse(
        path,
        filename="export.txt",
        headers={"X-Export-Path": path},
        background=BackgroundTask(os.unlink, path),
    )
