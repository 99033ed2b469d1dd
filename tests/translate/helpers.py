"""Shared data for the translation tests: minimal valid scopes and environs, and RFC sets.

Every environ that ``build_environ`` returns, and every environ a test hands to ``build_scope``
as a valid one, goes through :func:`checked`, which runs ``wsgiref.validate.check_environ`` (its
warnings are errors under ``filterwarnings = error``).
"""

from __future__ import annotations

import io
import string
from typing import Any
from wsgiref.types import WSGIEnvironment
from wsgiref.validate import check_environ

from asgiref.typing import HTTPScope
from hypothesis import settings

from bridge._translate import (
    build_environ,
)

PROPERTY = settings(max_examples=200, deadline=None)
TOKEN_CHARS = string.ascii_letters + string.digits + "!#$%&'*+-.^`|~"  # RFC 9110 5.6.2
PCHAR = "/:@!$&'()*+,;=-._~"  # RFC 3986 pchar delimiters, kept unquoted in request targets
VALIDATE_METHODS = ["GET", "HEAD", "POST", "OPTIONS", "PATCH", "PUT", "DELETE", "TRACE"]
HOP_BY_HOP = [
    "Connection",
    "Keep-Alive",
    "TE",
    "Trailer",
    "Trailers",
    "Transfer-Encoding",
    "Upgrade",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Proxy-Connection",
]


def checked(environ: WSGIEnvironment) -> WSGIEnvironment:
    """Return ``environ`` once ``wsgiref.validate`` accepts it (PEP 3333 "environ Variables")."""
    check_environ(environ)
    return environ


def make_scope(**overrides: Any) -> HTTPScope:
    """Return a minimal valid ASGI HTTP scope with ``overrides`` applied (``None`` removes)."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": None,
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "extensions": {},
    }
    scope.update(overrides)
    return {key: value for key, value in scope.items() if value is not None}  # type: ignore[return-value]


def environ_of(scope: HTTPScope, **options: Any) -> WSGIEnvironment:
    """Build and validate the environ of ``scope``."""
    return checked(
        build_environ(scope, wsgi_input=io.BytesIO(), wsgi_errors=io.StringIO(), **options)
    )


def make_environ(**overrides: Any) -> WSGIEnvironment:
    """Return a valid PEP 3333 environ with ``overrides`` applied (``None`` removes a key)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "example.com",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    environ.update(overrides)
    return {key: value for key, value in environ.items() if value is not None}
