"""A Quart app for the real-application matrix (``asgi_frameworks``).

Lifespan (``before_serving`` / ``after_serving``), JSON, a form with a file upload, a signed
session cookie, ``url_for`` under a ``root_path``, and a response streamed from an async
generator.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from typing import Any

from quart import Quart, request, session, url_for

app = Quart(__name__)
app.secret_key = "e2e-only-secret"
#: Filled by ``before_serving``: the process that ran startup.
STARTED: dict[str, int] = {}


@app.before_serving
async def started() -> None:
    STARTED["pid"] = os.getpid()


@app.get("/items/<name>")
async def item(name: str) -> dict[str, Any]:
    """Echo the route, query and root path, the URL ``url_for`` builds, and startup's pid."""
    return {
        "name": name,
        "q": request.args.get("q"),
        "root_path": request.root_path,
        "url": url_for("item", name=name),
        "started_pid": STARTED.get("pid"),
        "pid": os.getpid(),
    }


@app.post("/upload")
async def upload() -> dict[str, Any]:
    """Hash a multipart upload that Quart parsed (``request.files`` and ``request.form``)."""
    files = await request.files
    form = await request.form
    document = files["document"]
    data = document.read()
    return {
        "filename": document.filename,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "note": form.get("note"),
    }


@app.post("/visit")
async def visit() -> dict[str, int]:
    """Count this client's visits in Quart's signed session cookie."""
    session["visits"] = session.get("visits", 0) + 1
    return {"visits": session["visits"]}


@app.get("/stream")
async def stream() -> Any:
    """Stream ``n`` lines from an async generator."""
    count = int(request.args.get("n", "50"))

    async def lines() -> AsyncIterator[bytes]:
        for number in range(count):
            yield f"line {number}\n".encode()

    return lines(), 200, {"Content-Type": "text/plain"}
