"""The example's pages: home, a visit counter (session), a file upload form, a streaming page,
a page that reads the new API through ``bridge.await_``, and an old ``/api/v2`` page."""

from __future__ import annotations

import hashlib
import importlib.metadata
import sys
import time
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_template,
    url_for,
)

import bridge

pages = Blueprint("pages", __name__)

READ_SIZE = 64 * 1024
ASGI_SERVERS = ("uvicorn", "hypercorn", "granian", "daphne")


@pages.app_context_processor
def serving() -> dict[str, str]:
    """Every page names the server and the way the request reached Flask."""
    return {"served_by": served_by(request.environ)}


def served_by(environ: dict[str, Any]) -> str:
    """Name the server, and whether Flask runs through ``bridge.WsgiToAsgi`` or natively."""
    if "asgi.scope" in environ:  # WsgiToAsgi puts the ASGI scope in the environ
        return f"{asgi_server()}, through bridge.WsgiToAsgi"
    return f"{environ.get('SERVER_SOFTWARE', 'a WSGI server')}, natively (WSGI)"


def asgi_server() -> str:
    """Name the ASGI server that runs this process (e.g. ``uvicorn/0.34.0``): ASGI scopes carry
    no ``SERVER_SOFTWARE``, but the server's package is imported."""
    for name in ASGI_SERVERS:
        if name in sys.modules:
            return f"{name}/{importlib.metadata.version(name)}"
    return "an ASGI server"


@pages.get("/")
def home() -> str:
    return render_template("home.html")


@pages.get("/visits")
def visits() -> str:
    session["visits"] = session.get("visits", 0) + 1
    return render_template("visits.html", visits=session["visits"])


@pages.post("/visits/reset")
def reset_visits() -> Response:
    session.pop("visits", None)
    flash("The counter starts again.")
    return redirect(url_for("pages.visits"))


@pages.route("/upload", methods=["GET", "POST"])
def upload() -> str:
    """Report an uploaded file's name, size and SHA-256; the file itself is not saved."""
    result = None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("Choose a file first.")
        else:
            digest = hashlib.sha256()
            size = 0
            while chunk := upload.stream.read(READ_SIZE):
                digest.update(chunk)
                size += len(chunk)
            result = {
                "filename": upload.filename,
                "size": size,
                "sha256": digest.hexdigest(),
                "comment": request.form.get("comment", ""),
            }
    return render_template("upload.html", result=result)


@pages.get("/stream")
def stream() -> Response:
    """Render a template as a stream: each line reaches the browser as soon as it is made."""
    count = min(request.args.get("lines", 20, type=int), 1000)
    delay = float(current_app.config["STREAM_DELAY"])

    def lines() -> Iterator[str]:
        for number in range(1, count + 1):
            if delay and number > 1:
                time.sleep(delay)
            yield f"line {number} of {count}, made at {time.strftime('%H:%M:%S')}"

    return Response(stream_template("stream.html", lines=lines(), count=count))


@pages.get("/items")
def items() -> str:
    """List the API's items: a sync view awaits the shared async client on the server's loop."""
    from flask_app.api import shared_client

    response = bridge.await_(shared_client().get("/items"))
    response.raise_for_status()
    return render_template("items.html", items=response.json())


@pages.get("/api/v2/about")
def legacy_about() -> str:
    """An old page under the new API's prefix: FastAPI answers 404, the Router replays here."""
    return render_template("about.html")


@pages.get("/api/v2/items/<int:item_id>")
def legacy_item(item_id: int) -> str:
    """Reached only for items the API does not know (its 404 falls through to Flask)."""
    abort(404, description=f"neither the API nor the old app knows item {item_id}")
