"""A stand-in for the legacy WSGI app that serves every URL today."""

from flask import Flask

flask_app = Flask(__name__)


@flask_app.get("/")
def home() -> str:
    return "the legacy home page\n"


@flask_app.get("/api/v2/stats")
def stats() -> dict[str, str]:
    return {"served_by": "legacy"}
