"""The raw PEP 3333 benchmark app: the routes of :mod:`benchmarks.apps`, no framework.

``/sleep-await`` calls ``await_`` from the package named by ``BENCH_BRIDGE_PACKAGE`` (default
``bridge``), so that the baseline's adapter (``bridge_base``, see benchmarks/baseline.py) serves
it with its own ``await_``.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from benchmarks.apps import (
    CHUNK_SIZE,
    HELLO,
    SLEEP_SECONDS,
    SSE_EVENTS,
    STREAM_CHUNKS,
    STREAM_SIZE,
    sse_event,
)

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

_CHUNK = b"x" * CHUNK_SIZE
_await = importlib.import_module(os.environ.get("BENCH_BRIDGE_PACKAGE", "bridge")).await_


def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Answer one benchmark route."""
    path = environ.get("PATH_INFO", "")
    if path == "/hello":
        return _fixed(start_response, HELLO)
    if path == "/stream":
        start_response(
            "200 OK",
            [("Content-Type", "application/octet-stream"), ("Content-Length", str(STREAM_SIZE))],
        )
        return _stream()
    if path == "/upload":
        return _fixed(start_response, b"%d" % _read_body(environ))
    if path == "/sleep":
        time.sleep(SLEEP_SECONDS)
        return _fixed(start_response, HELLO)
    if path == "/sleep-await":
        _await(asyncio.sleep(SLEEP_SECONDS))
        return _fixed(start_response, HELLO)
    if path == "/sse":
        start_response(
            "200 OK", [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]
        )
        return (sse_event(index) for index in range(SSE_EVENTS))
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")])
    return []


def _fixed(start_response: StartResponse, body: bytes) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _stream() -> Iterator[bytes]:
    for _ in range(STREAM_CHUNKS):
        yield _CHUNK


def _read_body(environ: WSGIEnvironment) -> int:
    """Read the body in 64 KiB pieces, never past Content-Length (or to EOF if it is chunked)."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH") or ""
    remaining = int(length) if length else None
    total = 0
    while remaining is None or remaining > 0:
        piece = stream.read(CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining))
        if not piece:
            break
        total += len(piece)
        if remaining is not None:
            remaining -= len(piece)
    return total
