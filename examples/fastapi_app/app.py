"""A small FastAPI notes service, written as for any ASGI server; ``wsgi.py`` serves it from WSGI.

What it uses, so the demo shows each working in Gunicorn sync workers through ``AsgiToWsgi``:

- a lifespan that opens the shared resource (a SQLite notes store, one connection per worker
  process) before the first request, and closes it when the worker stops;
- JSON routes with path parameters and a request body;
- a ``BackgroundTask`` that indexes a new note after its response has gone out;
- a server-sent events stream (``/events``);
- a home page for browsers (``home.py``), and the interactive docs at ``/docs`` with Swagger UI's
  files served by the app itself (``fastapi-offline``), so every page works offline.
- a WebSocket (``/ws/notes``): each text message becomes a note, answered with the stored note
  (through ``AsgiToWsgi`` on Gunicorn this needs ``pip install 'wsgi-asgi-bridge[websockets]'``,
  and each open WebSocket holds a worker: see the WebSockets page of the docs).

The store's file is ``$NOTES_DB`` (default: ``notes.sqlite3`` in the system's temporary directory),
so every worker process sees the same notes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import anyio.to_thread
from fastapi import (
    BackgroundTasks,
    FastAPI,
    HTTPException,
    Query,
    Request,
    WebSocket,
    WebSocketDisconnect,
)
from fastapi.responses import HTMLResponse, StreamingResponse
from fastapi_offline import FastAPIOffline
from home import render_home
from pydantic import BaseModel, Field

logger = logging.getLogger("notes")


@dataclass(frozen=True)
class Note:
    id: int
    text: str
    words: int | None  # None until the background task indexed the note


class NoteStore:
    """Notes in a SQLite file; thread-safe, since FastAPI runs each query in a worker thread."""

    def __init__(self, path: str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT, words INTEGER)"
        )

    def add(self, text: str) -> Note:
        with self._lock:
            cursor = self._db.execute("INSERT INTO notes (text) VALUES (?)", (text,))
        return Note(int(cursor.lastrowid or 0), text, None)

    def get(self, note_id: int) -> Note | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM notes WHERE id = ?", (note_id,)).fetchone()
        return Note(*row) if row else None

    def latest(self, limit: int) -> list[Note]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM notes ORDER BY id DESC LIMIT ?", (limit,))
            return [Note(*row) for row in rows.fetchall()]

    def index(self, note_id: int, words: int) -> None:
        with self._lock:
            self._db.execute("UPDATE notes SET words = ? WHERE id = ?", (words, note_id))

    def close(self) -> None:
        with self._lock:
            self._db.close()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    """Open the store once per worker process, before its first request; close it at exit."""
    path = os.environ.get("NOTES_DB", os.path.join(tempfile.gettempdir(), "notes.sqlite3"))
    store = await anyio.to_thread.run_sync(NoteStore, path)
    logger.info("worker %d opened %s", os.getpid(), path)
    yield {"store": store, "started_at": time.time()}
    await anyio.to_thread.run_sync(store.close)
    logger.info("worker %d closed the store", os.getpid())


app = FastAPIOffline(title="notes", lifespan=lifespan)  # a FastAPI app, its docs served locally


class NewNote(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


@app.get("/", response_model=None)
async def about(request: Request) -> dict[str, Any] | HTMLResponse:
    """Which worker answered, through what, since when, and where to look next; a browser (which
    asks for ``text/html``) gets the home page."""
    about = {
        "service": "notes",
        "served_by": served_by(request.scope),
        "worker_pid": os.getpid(),
        "worker_started_at": request.state.started_at,
        "try": ["/docs", "/notes", "/events?count=5"],
    }
    if "text/html" not in request.headers.get("accept", ""):
        return about
    notes = await anyio.to_thread.run_sync(request.state.store.latest, 10)
    return HTMLResponse(render_home(about, notes, request.scope.get("root_path", "")))


def served_by(scope: Any) -> str:
    """Name the server, and whether the app runs through ``bridge.AsgiToWsgi`` or natively."""
    environ = (scope.get("extensions") or {}).get("wsgi.environ")  # AsgiToWsgi's extension
    if environ is None:
        return "an ASGI server, natively"
    return f"{environ.get('SERVER_SOFTWARE', 'a WSGI server')}, through bridge.AsgiToWsgi"


@app.post("/notes", status_code=201)
async def create_note(note: NewNote, request: Request, tasks: BackgroundTasks) -> Note:
    """Store a note; count its words in the background, after the response was sent."""
    store: NoteStore = request.state.store
    created = await anyio.to_thread.run_sync(store.add, note.text)
    tasks.add_task(index_note, store, created)
    return created


async def index_note(store: NoteStore, note: Note) -> None:
    """The background task: pretend indexing is slow, then record the note's word count."""
    await asyncio.sleep(0.2)
    await anyio.to_thread.run_sync(store.index, note.id, len(note.text.split()))


@app.get("/notes")
async def latest_notes(
    request: Request, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> list[Note]:
    return await anyio.to_thread.run_sync(request.state.store.latest, limit)


@app.get("/notes/{note_id}")
async def read_note(note_id: int, request: Request) -> Note:
    note = await anyio.to_thread.run_sync(request.state.store.get, note_id)
    if note is None:
        raise HTTPException(status_code=404, detail=f"no note {note_id}")
    return note


@app.get("/events")
async def events(
    request: Request,
    count: Annotated[int, Query(ge=1, le=60)] = 10,
    interval: Annotated[float, Query(ge=0.0, le=1.0)] = 1.0,
) -> StreamingResponse:
    """Server-sent events: the latest note, ``count`` times, every ``interval`` seconds.

    A sync worker is busy for the whole stream, hence the bounds (and Gunicorn's ``timeout``).
    """
    store: NoteStore = request.state.store

    async def stream() -> AsyncIterator[str]:
        for tick in range(count):
            latest = await anyio.to_thread.run_sync(store.latest, 1)
            data = {"tick": tick, "latest": asdict(latest[0]) if latest else None}
            yield f"id: {tick}\nevent: latest\ndata: {json.dumps(data)}\n\n"
            if tick + 1 < count:
                await asyncio.sleep(interval)

    return StreamingResponse(stream(), media_type="text/event-stream")


@app.websocket("/ws/notes")
async def notes_socket(websocket: WebSocket) -> None:
    """Each text message becomes a note; the answer is the stored note, as JSON."""
    store: NoteStore = websocket.state.store
    await websocket.accept()
    try:
        while True:
            text = await websocket.receive_text()
            note = await anyio.to_thread.run_sync(store.add, text)
            await websocket.send_json(asdict(note))
    except WebSocketDisconnect:
        return
