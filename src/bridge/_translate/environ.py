"""Build a PEP 3333 environ from an ASGI ``http`` scope: :func:`build_environ` (sans-IO).

The rules are the package's mapping table, path policy and request-header rules (see
:mod:`bridge._translate`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote_to_bytes
from wsgiref.types import ErrorStream, InputStream, WSGIEnvironment

from asgiref.typing import HTTPScope

from .._errors import ClientError, ServerError
from .grammar import DEFAULT_PORTS, PATH_SAFE

__all__ = ["build_environ", "declares_body"]

_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[^\s:/@\[\]]+)(?::([0-9]{0,5}))?\Z")
#: The environ keys of common request header names, to skip computing them per request.
_ENVIRON_KEYS = {
    name: "HTTP_" + name.upper().replace("-", "_")
    for name in (
        "host",
        "user-agent",
        "accept",
        "accept-encoding",
        "accept-language",
        "authorization",
        "cache-control",
        "connection",
        "cookie",
        "origin",
        "pragma",
        "referer",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-request-id",
    )
} | {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


def build_environ(
    scope: HTTPScope,
    *,
    wsgi_input: InputStream,
    wsgi_errors: ErrorStream,
    multithread: bool = True,
    multiprocess: bool = False,
    duplicate_header_limit: int = 100,
) -> WSGIEnvironment:
    """Build a PEP 3333 environ from an ASGI ``http`` scope.

    :param scope: the ASGI HTTP connection scope.
    :param wsgi_input: the stream the app reads the request body from.
    :param wsgi_errors: the stream the app writes errors to.
    :param multithread: the value of ``wsgi.multithread``.
    :param multiprocess: the value of ``wsgi.multiprocess``.
    :param duplicate_header_limit: how often one header name may repeat.
    :raises ClientError: the request cannot be expressed as a PEP 3333 environ (400).
    :raises ServerError: the scope lacks ``method`` or ``path``, or holds values of the wrong shape.
    """
    if "method" not in scope or "path" not in scope:
        raise ServerError(f"an http scope needs 'method' and 'path', got keys {sorted(scope)!r}")
    # The environ starts as the header keys (a fresh dict) plus the keys every request shares;
    # filling in one dict costs less than building two and merging them.
    environ: WSGIEnvironment = _header_environ(scope.get("headers", ()), duplicate_header_limit)
    if "HTTP_TRANSFER_ENCODING" in environ and "CONTENT_LENGTH" in environ:
        raise ClientError(
            "a request with both transfer-encoding and content-length is refused: its body "
            "could be read two ways (RFC 9112 6.1, request smuggling)"
        )
    environ.update(_ENVIRON_CONSTANTS[multithread, multiprocess])
    scheme = environ["wsgi.url_scheme"] = scope.get("scheme") or "http"
    query = scope.get("query_string", b"")
    raw = scope.get("raw_path")
    path = scope["path"]
    if (
        raw
        and not scope.get("root_path")
        and raw.isascii()
        and b"%" not in raw
        and b"?" not in raw
        and raw.decode("ascii") == path
        and path.startswith("/")
    ):  # the common request: an ASCII path with nothing escaped, served at the root
        environ["SCRIPT_NAME"] = ""
        environ["PATH_INFO"] = path
        environ["RAW_URI"] = environ["REQUEST_URI"] = (
            path + "?" + query.decode("latin-1") if query else path
        )
    else:
        script_name, path_info, raw_uri = _request_target(scope)
        environ["SCRIPT_NAME"] = script_name
        environ["PATH_INFO"] = path_info
        environ["RAW_URI"] = environ["REQUEST_URI"] = raw_uri
    environ["REQUEST_METHOD"] = scope["method"]
    environ["QUERY_STRING"] = query.decode("latin-1")
    environ["SERVER_NAME"], environ["SERVER_PORT"] = _server_address(
        scope, environ.get("HTTP_HOST"), scheme
    )
    environ["SERVER_PROTOCOL"] = "HTTP/" + scope.get("http_version", "1.1")
    environ["wsgi.input"] = wsgi_input
    environ["wsgi.errors"] = wsgi_errors
    environ["asgi.scope"] = scope
    client = scope.get("client")
    if client is not None:
        environ["REMOTE_ADDR"] = str(client[0])
        environ["REMOTE_PORT"] = str(client[1])
    return environ


#: The environ keys that depend on nothing but ``(multithread, multiprocess)``.
_ENVIRON_CONSTANTS = {
    (multithread, multiprocess): {
        "wsgi.version": (1, 0),
        "wsgi.multithread": multithread,
        "wsgi.multiprocess": multiprocess,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }
    for multithread in (False, True)
    for multiprocess in (False, True)
}


def _request_target(scope: HTTPScope) -> tuple[str, str, str]:
    """Return ``(SCRIPT_NAME, PATH_INFO, RAW_URI)`` for the scope (see "Path policy").

    :func:`build_environ` takes a shortcut for the common request (an ASCII ``raw_path`` with
    nothing escaped, equal to ``path``, no ``root_path``), whose result this function also gives.
    """
    path = scope["path"]
    if not path.startswith("/"):
        raise ClientError(f"request path must start with '/', got {path!r}")
    root_path = scope.get("root_path", "")
    path_bytes, raw_path = _path_bytes(path, scope.get("raw_path"))
    if root_path and not root_path.startswith("/"):
        raise ServerError(f"root_path must be empty or start with '/', got {root_path!r}")
    script_name, path_info = _split_path(path, path_bytes, root_path.rstrip("/"))
    query = scope.get("query_string", b"")
    raw_uri = raw_path + b"?" + query if query else raw_path
    return script_name.decode("latin-1"), path_info.decode("latin-1"), raw_uri.decode("latin-1")


def _path_bytes(path: str, raw_path: bytes | None) -> tuple[bytes, bytes]:
    """Return the path's bytes and its percent-encoded form, from ``raw_path`` when it agrees."""
    if raw_path:
        raw_path = raw_path.split(b"?", 1)[0]
        decoded = unquote_to_bytes(raw_path) if b"%" in raw_path else raw_path
        if decoded.decode("utf-8", "replace") == path:
            return decoded, raw_path
    path_bytes = _utf8(path, "path")
    return path_bytes, quote(path_bytes, safe=PATH_SAFE).encode("ascii")


def _split_path(path: str, path_bytes: bytes, root: str) -> tuple[bytes, bytes]:
    """Split ``path_bytes`` after ``root`` (no trailing ``/``) if ``path`` is inside it."""
    if not root:
        return b"", path_bytes
    if path != root and not path.startswith(root + "/"):
        return _utf8(root, "root_path"), path_bytes
    # Cut after as many segments as root has: "/" bytes match "/" characters one to one, so
    # this holds even when path_bytes is not UTF-8 and path holds U+FFFD in its place.
    depth = root.count("/") + 1
    script_name = b"/".join(path_bytes.split(b"/", depth)[:depth])
    return script_name, path_bytes[len(script_name) :]


def _utf8(value: str, key: str) -> bytes:
    """Encode a scope string as UTF-8; lone surrogates from ``surrogateescape`` become bytes."""
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise ServerError(f"scope[{key!r}] is not encodable as UTF-8: {value!r}") from exc


def _header_environ(headers: Iterable[tuple[bytes, bytes]], limit: int) -> dict[str, str]:
    """Map request headers to ``CONTENT_*`` and ``HTTP_*`` keys (see module docs).

    :param limit: how often one name may occur (a name over it is :class:`ClientError`).
    """
    environ: dict[str, str] = {}
    repeated: dict[str, list[str]] = {}  # the common request repeats no name: stays empty
    try:
        for raw_name, raw_value in headers:
            try:
                key = _environ_key(raw_name)
            except TypeError:  # unhashable, e.g. a bytearray name: translated, not memoised
                key = _environ_key.__wrapped__(raw_name)
            if key is None:
                continue
            value = raw_value.decode("latin-1")
            if key not in environ:
                environ[key] = value
                if limit > 0:
                    continue
            same = repeated.get(key) or repeated.setdefault(key, [environ[key]])
            if len(same) >= limit:
                name = raw_name.decode("latin-1").lower()
                raise ClientError(f"header {name!r} repeated more than {limit} times")
            same.append(value)
    except (AttributeError, TypeError, ValueError) as exc:
        raise ServerError(f"scope headers must be [name, value] byte pairs: {exc}") from exc
    for key, values in repeated.items():
        environ[key] = _joined_values(key, values)
    if "CONTENT_LENGTH" in environ and "CONTENT_LENGTH" not in repeated:
        environ["CONTENT_LENGTH"] = _request_content_length([environ["CONTENT_LENGTH"]])
    return environ


@functools.lru_cache(maxsize=1024)
def _environ_key(raw_name: bytes) -> str | None:
    """Return the environ key of a request header name, or ``None`` for a name with ``_``.

    Memoised: a pure function of the name, and a server sees the same few names on every
    request (a bounded cache, so odd names cannot grow it).
    """
    name = raw_name.decode("latin-1").lower()
    if "_" in name:
        return None
    return _ENVIRON_KEYS.get(name) or "HTTP_" + name.upper().replace("-", "_")


def _joined_values(key: str, found: list[str]) -> str:
    """Join the values of one repeated header, by environ key (``content-length`` checked)."""
    if key == "CONTENT_LENGTH":
        return _request_content_length(found)
    if key == "HTTP_HOST":
        raise ClientError(f"a request must carry one host header, got {found!r}")
    return ("; " if key == "HTTP_COOKIE" else ",").join(found)


def _request_content_length(values: list[str]) -> str:
    distinct = {value.strip() for value in values}
    if len(distinct) != 1:
        raise ClientError(f"conflicting content-length values {sorted(distinct)!r}")
    (value,) = distinct
    if not value.isdigit() or not value.isascii():
        raise ClientError(f"content-length must be a non-negative integer, got {value!r}")
    return value


def _server_address(scope: HTTPScope, host: str | None, scheme: str) -> tuple[str, str]:
    """Return ``(SERVER_NAME, SERVER_PORT)`` from ``server``, else the Host header.

    :raises ClientError: the Host header is not a valid ``host[:port]`` (RFC 9112 3.2), whether
        or not ``server`` gives the address.
    """
    found = None if host is None else _host_and_port(host)
    server = scope.get("server")
    if server is not None and server[1] is not None:
        return str(server[0]), str(server[1])
    default_port = DEFAULT_PORTS.get(scheme, "80")
    if not found:
        return "localhost", default_port
    name, port = found
    return name, port or default_port


@functools.lru_cache(maxsize=256)
def _host_and_port(host: str) -> tuple[str, str] | None:
    """Split a Host header into name and port (``""`` when none); ``None`` for an empty one.

    Memoised: a server sees the same few hosts on every request.

    :raises ClientError: not a valid ``host[:port]``.
    """
    if not host:
        return None
    match = _HOST.match(host)
    if match is None:
        raise ClientError(f"the host header is not a valid host[:port], got {host!r}")
    name, port = match.groups()
    return name.strip("[]"), port or ""


def declares_body(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether request headers announce a body (RFC 9112 6.3: ``Transfer-Encoding``, or a
    ``Content-Length`` other than 0); one that is never read leaves the connection unusable."""
    for name, value in headers:
        lower = bytes(name).lower()
        if lower == b"transfer-encoding" or (lower == b"content-length" and value.strip() != b"0"):
            return True
    return False
