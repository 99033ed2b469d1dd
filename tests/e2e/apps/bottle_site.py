"""A Bottle app for the real-application matrix (``wsgi_frameworks``).

Templates, a multipart upload parsed by Bottle, signed cookies, redirects, and ``static_file``
(``wsgi.file_wrapper``, ``Range``) over the files directory that ``wsgi_frameworks`` shares with
Werkzeug's ``SharedDataMiddleware``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import bottle

SECRET = "e2e-only-secret"


def make_app(files: Path) -> bottle.Bottle:
    """Return the Bottle app; ``/static/<name>`` serves the files in ``files``."""
    app = bottle.Bottle()

    @app.get("/hello/<name>")
    def hello(name: str) -> str:
        return bottle.template(
            "<p>hello {{name}} at {{path}}</p>", name=name, path=bottle.request.fullpath
        )

    @app.post("/upload")
    def upload() -> dict[str, Any]:
        upload = bottle.request.files.get("document")
        data = upload.file.read()
        return {
            "filename": upload.raw_filename,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "note": bottle.request.forms.getunicode("note"),
        }

    @app.post("/login")
    def login() -> None:
        user = bottle.request.forms.getunicode("user")
        bottle.response.set_cookie("user", user, secret=SECRET, path="/")
        bottle.redirect(f"{bottle.request.script_name}whoami")

    @app.get("/whoami")
    def whoami() -> dict[str, Any]:
        return {"user": bottle.request.get_cookie("user", secret=SECRET)}

    @app.get("/static/<name>")
    def static(name: str) -> bottle.HTTPResponse:
        return bottle.static_file(name, root=str(files), mimetype="application/octet-stream")

    return app
