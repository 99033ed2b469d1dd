"""Build an ASGI ``http`` scope from a PEP 3333 environ: :func:`build_scope` (sans-IO).

The rules are in the package docstring (:mod:`bridge._translate`), after the mapping table.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import cast
from urllib.parse import quote, unquote_to_bytes, urlsplit
from wsgiref.types import WSGIEnvironment

from asgiref.typing import HTTPScope

from .._errors import ClientError, ServerError
from .._types import AsgiHeaders
from .grammar import DEFAULT_PORTS, PATH_SAFE, TOKEN

__all__ = ["ASGI_SPEC_VERSION", "ENVIRON_EXTENSION", "build_scope", "request_body_length"]

#: The ASGI HTTP spec version whose rules bridge implements (2.4: ``send()`` raises ``OSError``
#: after a disconnect).
ASGI_SPEC_VERSION = "2.4"

#: The ``scope["extensions"]`` key under which :func:`build_scope` exposes the WSGI environ.
ENVIRON_EXTENSION = "wsgi.environ"

_HTTP_VERSIONS = {"1.0": "1.0", "1.1": "1.1", "2": "2", "2.0": "2", "3": "3", "3.0": "3"}


def build_scope(
    environ: WSGIEnvironment, *, extensions: Mapping[str, dict[object, object]] | None = None
) -> HTTPScope:
    """Build an ASGI ``http`` scope from a PEP 3333 environ.

    ``state`` is left to the caller; ``extensions`` always holds the environ under
    :data:`ENVIRON_EXTENSION`.

    :param environ: the PEP 3333 environ of the request.
    :param extensions: further ASGI extensions the caller supports (``http.response.pathsend``).
    :raises ServerError: the environ holds a value that is not a latin-1 native string.
    """
    script_name = _latin1_bytes(environ, "SCRIPT_NAME")
    path = (b"" if script_name == b"/" else script_name) + _latin1_bytes(environ, "PATH_INFO")
    path = path or b"/"
    scheme = environ.get("wsgi.url_scheme") or "http"
    all_extensions: dict[str, dict[object, object]] = dict(extensions or {})
    all_extensions[ENVIRON_EXTENSION] = cast("dict[object, object]", environ)
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": ASGI_SPEC_VERSION},
        "http_version": _HTTP_VERSIONS.get(
            str(environ.get("SERVER_PROTOCOL", "")).upper().removeprefix("HTTP/"), "1.1"
        ),
        "method": str(environ.get("REQUEST_METHOD", "GET")).upper(),
        "scheme": scheme,
        "path": path.decode("utf-8", "replace"),
        "raw_path": _scope_raw_path(environ, path),
        "query_string": _latin1_bytes(environ, "QUERY_STRING"),
        "root_path": script_name.rstrip(b"/").decode("utf-8", "replace"),
        "headers": _scope_headers(environ),
        "client": _client(environ),
        "server": (
            str(environ.get("SERVER_NAME") or "localhost"),
            _port(environ.get("SERVER_PORT"), int(DEFAULT_PORTS.get(scheme, "80"))),
        ),
        "extensions": all_extensions,
    }


def _latin1_bytes(environ: WSGIEnvironment, key: str) -> bytes:
    value = environ.get(key) or ""
    try:
        return cast("str", value).encode("latin-1")
    except (AttributeError, UnicodeEncodeError) as exc:
        message = f"environ[{key!r}] must be a latin-1 native string, got {value!r}"
        raise ServerError(message) from exc


def _scope_raw_path(environ: WSGIEnvironment, path: bytes) -> bytes:
    """Return ``raw_path`` from ``RAW_URI``/``REQUEST_URI`` when it matches ``path``, else quote."""
    for key in ("RAW_URI", "REQUEST_URI"):
        uri = environ.get(key)
        if uri and isinstance(uri, str):
            if uri.isascii() and "%" not in uri and "?" not in uri and uri.startswith("/"):
                encoded = uri.encode("ascii")  # the common target: nothing to decode or split
                if encoded == path:
                    return encoded
            raw = _target_path(uri)
            if raw is not None and unquote_to_bytes(raw) == path:
                return raw
    return quote(path, safe=PATH_SAFE).encode("ascii")


def _target_path(uri: str) -> bytes | None:
    """Return the path of a request target (RFC 9112 3.2), or ``None`` if it is not latin-1."""
    try:
        target = uri.encode("latin-1")
    except UnicodeEncodeError:
        return None
    if target.startswith(b"/"):
        return target.split(b"?", 1)[0]  # origin-form ("//x" is a path, not an authority)
    try:
        return urlsplit(target).path  # absolute-form, or asterisk-form ("*" stays "*")
    except ValueError:
        return None


def _scope_headers(environ: WSGIEnvironment) -> AsgiHeaders:
    headers: AsgiHeaders = []
    for key, content in (("CONTENT_TYPE", b"content-type"), ("CONTENT_LENGTH", b"content-length")):
        if environ.get(key):
            headers.append((content, _latin1_bytes(environ, key)))
    for key in environ:
        if key.startswith("HTTP_"):
            name = _header_name(key)
            if name is not None:
                headers.append((name, _latin1_bytes(environ, key)))
    return headers


@functools.lru_cache(maxsize=1024)
def _header_name(key: str) -> bytes | None:
    """Return the header name of an ``HTTP_*`` environ key, or ``None`` if it has none.

    Memoised like the environ side's header names. ``HTTP_CONTENT_TYPE`` and
    ``HTTP_CONTENT_LENGTH`` have none: PEP 3333 keeps those two headers without the prefix.
    """
    if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
        return None
    name = key[5:].replace("_", "-").lower()
    return name.encode("ascii") if TOKEN.match(name) else None


def _client(environ: WSGIEnvironment) -> tuple[str, int] | None:
    address = environ.get("REMOTE_ADDR")
    if not address:
        return None
    return str(address), _port(environ.get("REMOTE_PORT"), 0)


def _port(value: object, default: int) -> int:
    text = str(value) if value is not None else ""
    if text.isdigit() and text.isascii() and len(text) <= 5 and int(text) <= 65535:
        return int(text)
    return default


def request_body_length(environ: WSGIEnvironment) -> int | None:
    """Return how many body bytes to read from ``wsgi.input``, or ``None`` to read to its end.

    PEP 3333: an app reads at most ``CONTENT_LENGTH`` bytes; a server that decodes a chunked
    body says so with ``wsgi.input_terminated`` (Gunicorn, Waitress, mod_wsgi do), and the input
    then ends where the body does.

    :raises ClientError: ``CONTENT_LENGTH`` is not a non-negative integer, or comes with a
        Transfer-Encoding (400, RFC 9112 6.1); or the body is chunked and the server does not
        say where it ends (411 Length Required, RFC 9112 6.3): reading to EOF could hang until
        the client gives up, or hand the app the chunk framing (wsgiref does not decode it).
    """
    length = environ.get("CONTENT_LENGTH")
    coding = environ.get("HTTP_TRANSFER_ENCODING")
    if length:
        text = str(length).strip()
        if not (text.isdigit() and text.isascii()):
            raise ClientError(f"CONTENT_LENGTH must be a non-negative integer, got {length!r}")
        if coding:
            raise ClientError(
                "a request with both transfer-encoding and content-length is refused: its body "
                "could be read two ways (RFC 9112 6.1, request smuggling)"
            )
        return int(text)
    if environ.get("wsgi.input_terminated"):
        return None
    if coding and "chunked" in str(coding).lower():
        error = ClientError(
            "the server hands over a chunked request body without saying where it ends "
            "(no wsgi.input_terminated): answered 411 Length Required; use a server that "
            "decodes chunked bodies (Gunicorn, Waitress, mod_wsgi), or send Content-Length"
        )
        error.status_code = 411
        raise error
    return 0
