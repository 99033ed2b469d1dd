"""Translate a WebSocket's opening handshake between environ and ASGI ``websocket`` scope (sans-IO).

A WebSocket starts as an HTTP/1.1 ``GET`` that asks to upgrade the connection (RFC 6455 4.1:
"The method of the request MUST be GET", with ``Upgrade: websocket``, ``Connection: Upgrade``,
``Sec-WebSocket-Key`` and ``Sec-WebSocket-Version: 13``). PEP 3333 has no word for it; the ASGI
spec gives it a ``websocket`` scope that "shares some HTTP details - a path and headers". So
both functions here reuse the HTTP translation and change only what differs:

============================  ======================================================================
environ (PEP 3333)            scope (ASGI ``websocket``)
============================  ======================================================================
``REQUEST_METHOD`` ``GET``    no ``method`` key
``wsgi.url_scheme`` ``http``  ``scheme`` ``ws`` (``https`` <-> ``wss``)
``HTTP_SEC_WEBSOCKET_PROTO``  ``subprotocols``: the comma-separated tokens, in order
``HTTP_SEC_WEBSOCKET_EXT..``  removed for a WSGI app (the ASGI server negotiated the extensions
                              with the client; the app talks to bridge without compression)
``HTTP_UPGRADE`` and co.      restored for a WSGI app when the scope lacks them (a WebSocket over
                              HTTP/2, RFC 8441, has none): the app makes its own RFC 6455 answer
``SERVER_PROTOCOL``           ``HTTP/1.1`` for a WSGI app: the handshake it answers is HTTP/1.1
============================  ======================================================================

Everything else (path policy, header rules, addresses) is :func:`build_environ` and
:func:`build_scope` unchanged.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any, cast
from wsgiref.types import ErrorStream, InputStream, WSGIEnvironment

from asgiref.typing import HTTPScope, WebSocketScope

from .environ import build_environ
from .scope import build_scope

__all__ = [
    "WEBSOCKET_DENIAL",
    "accept_token",
    "build_websocket_environ",
    "build_websocket_scope",
    "handshake_headers",
    "is_websocket_request",
    "split_tokens",
]

#: The ASGI extension that lets an app answer a WebSocket request with an HTTP response.
WEBSOCKET_DENIAL = "websocket.http.response"
#: RFC 6455 1.3: the GUID appended to ``Sec-WebSocket-Key`` for ``Sec-WebSocket-Accept``.
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_WS_SCHEMES = {"http": "ws", "https": "wss"}
_HTTP_SCHEMES = {"ws": "http", "wss": "https"}
#: The request headers that make a WebSocket handshake (RFC 6455 4.1), as environ keys.
_HANDSHAKE_KEYS = ("HTTP_UPGRADE", "HTTP_CONNECTION", "HTTP_SEC_WEBSOCKET_VERSION")


def split_tokens(value: object) -> list[str]:
    """Return the comma-separated tokens of a header value, stripped, empty ones dropped."""
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


def is_websocket_request(environ: Mapping[str, Any]) -> bool:
    """Say whether a PEP 3333 request asks to become a WebSocket (RFC 6455 4.2.1, items 1-4).

    A ``GET`` whose ``Upgrade`` names ``websocket`` and whose ``Connection`` holds the
    ``Upgrade`` token, both compared case-insensitively.
    """
    if "websocket" not in (token.lower() for token in split_tokens(environ.get("HTTP_UPGRADE"))):
        return False
    connection = (token.lower() for token in split_tokens(environ.get("HTTP_CONNECTION")))
    return "upgrade" in connection and environ.get("REQUEST_METHOD") == "GET"


def build_websocket_scope(environ: WSGIEnvironment) -> WebSocketScope:
    """Build an ASGI ``websocket`` scope from the environ of an upgrade request.

    :param environ: the PEP 3333 environ of a request :func:`is_websocket_request` accepted.
    :raises ServerError: the environ holds a value that is not a latin-1 native string.
    """
    http: dict[str, Any] = dict(build_scope(environ, extensions={WEBSOCKET_DENIAL: {}}))
    del http["method"]
    http["type"] = "websocket"
    http["scheme"] = _WS_SCHEMES.get(http["scheme"], http["scheme"])
    http["subprotocols"] = split_tokens(environ.get("HTTP_SEC_WEBSOCKET_PROTOCOL"))
    return cast("WebSocketScope", http)


def build_websocket_environ(
    scope: WebSocketScope,
    *,
    key: str,
    wsgi_input: InputStream,
    wsgi_errors: ErrorStream,
    duplicate_header_limit: int = 100,
) -> WSGIEnvironment:
    """Build the environ of the HTTP/1.1 upgrade request a WSGI app expects for a WebSocket.

    :param scope: the ASGI ``websocket`` scope.
    :param key: the ``Sec-WebSocket-Key`` to give the app when the scope has none (HTTP/2).
    :param wsgi_input: the (empty) request body stream.
    :param wsgi_errors: the stream the app writes errors to.
    :param duplicate_header_limit: how often one header name may repeat.
    :raises ClientError: the request cannot be expressed as a PEP 3333 environ (400).
    :raises ServerError: the scope lacks ``path``, or holds values of the wrong shape.
    """
    http = cast("dict[str, Any]", dict(scope))
    http["type"] = "http"
    http["method"] = "GET"
    scheme = scope.get("scheme") or "ws"
    http["scheme"] = _HTTP_SCHEMES.get(scheme, scheme)
    environ = build_environ(
        cast("HTTPScope", http),
        wsgi_input=wsgi_input,
        wsgi_errors=wsgi_errors,
        duplicate_header_limit=duplicate_header_limit,
    )
    environ["asgi.scope"] = scope
    environ["SERVER_PROTOCOL"] = "HTTP/1.1"
    environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
    if not is_websocket_request(environ) or "HTTP_SEC_WEBSOCKET_KEY" not in environ:
        for name, value in zip(_HANDSHAKE_KEYS, ("websocket", "Upgrade", "13"), strict=True):
            environ[name] = value
        environ.setdefault("HTTP_SEC_WEBSOCKET_KEY", key)
    subprotocols = list(scope.get("subprotocols") or ())
    if subprotocols:
        environ["HTTP_SEC_WEBSOCKET_PROTOCOL"] = ", ".join(subprotocols)
    if "HTTP_HOST" not in environ:
        port = environ["SERVER_PORT"]
        suffix = "" if port in ("80", "443") else ":" + port
        environ["HTTP_HOST"] = environ["SERVER_NAME"] + suffix
    return environ


def handshake_headers(environ: Mapping[str, Any]) -> list[tuple[bytes, bytes]]:
    """Return the request's ``HTTP_*`` headers as the byte pairs an HTTP parser expects.

    Names are rebuilt as lower-case with ``-`` (``HTTP_SEC_WEBSOCKET_KEY`` ->
    ``sec-websocket-key``); values are latin-1, as PEP 3333 carries them.
    """
    return [
        (key[5:].lower().replace("_", "-").encode("latin-1"), str(value).encode("latin-1"))
        for key, value in environ.items()
        if key.startswith("HTTP_")
    ]


def accept_token(key: str | bytes) -> str:
    """Return the ``Sec-WebSocket-Accept`` value for a ``Sec-WebSocket-Key`` (RFC 6455 4.2.2)."""
    raw = key.encode("latin-1") if isinstance(key, str) else key
    return base64.b64encode(hashlib.sha1(raw.strip() + _GUID).digest()).decode("ascii")
