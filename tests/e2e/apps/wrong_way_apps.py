"""Adapters built the wrong way round, each in a factory (``uvicorn --factory``, Gunicorn's
``module:factory()``), so that each server meets exactly one of them."""

from __future__ import annotations

import flask
from fastapi import FastAPI

from bridge import AsgiToWsgi, WsgiToAsgi

fastapi_app = FastAPI()
flask_app = flask.Flask("wrong_way")


def fastapi_in_wsgi_to_asgi() -> WsgiToAsgi:
    """An ASGI app (FastAPI) given to the adapter for WSGI apps."""
    return WsgiToAsgi(fastapi_app)  # type: ignore[arg-type]


def flask_in_asgi_to_wsgi() -> AsgiToWsgi:
    """A WSGI app (Flask) given to the adapter for ASGI apps."""
    return AsgiToWsgi(flask_app)
