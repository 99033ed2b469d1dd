"""Translate between PEP 3333 environs and ASGI HTTP scopes, with pure functions and no I/O.

This is where PEP 3333 and the ASGI HTTP spec ("WSGI Compatibility" section) meet. Both adapters
call it; nothing here does I/O, logs, spawns, awaits, or keeps state (two bounded memo caches of
pure functions aside: request header names, and the status and header list of a response), so
every rule is tested with plain data
(``tests/test_translate.py``).

Mapping table
=============

==========================  ===========================================================
environ (PEP 3333)          scope (ASGI HTTP)
==========================  ===========================================================
``REQUEST_METHOD``          ``method``
``SCRIPT_NAME``             ``root_path`` without trailing ``/`` (see "Path policy")
``PATH_INFO``               ``path`` minus ``root_path`` at a segment boundary
``RAW_URI``/``REQUEST_URI`` ``raw_path`` + ``?`` + ``query_string`` (as gunicorn/uWSGI do)
``QUERY_STRING``            ``query_string`` (bytes as latin-1; never fails)
``SERVER_NAME``             ``server[0]``; else the Host header; else ``"localhost"``
``SERVER_PORT``             ``str(server[1])``; else the Host header's; else 80/443 by scheme
``REMOTE_ADDR``             ``client[0]`` (only when ``client`` is given)
``REMOTE_PORT``             ``str(client[1])`` (only when ``client`` is given)
``SERVER_PROTOCOL``         ``"HTTP/" + http_version`` (``HTTP/1.0``, ``HTTP/1.1``, ``HTTP/2``)
``CONTENT_TYPE``            the ``content-type`` header, without ``HTTP_``
``CONTENT_LENGTH``          the ``content-length`` header, without ``HTTP_``
``HTTP_*``                  other ``headers``: upper-cased, ``-`` -> ``_``; repeats joined
                            with ``,`` (``cookie`` with ``; ``, RFC 9113 8.2.3)
``wsgi.url_scheme``         ``scheme`` (``"http"`` when missing or empty)
``wsgi.version``            ``(1, 0)``; ``wsgi.run_once`` is ``False``
``wsgi.input``              the request body stream (given by the adapter)
``wsgi.input_terminated``   ``True``: read to EOF, whatever ``CONTENT_LENGTH`` says
``asgi.scope``              the scope itself (``environ["asgi.scope"]``)
==========================  ===========================================================

In the other direction, :func:`build_scope` sets ``path`` to ``SCRIPT_NAME + PATH_INFO`` (the URL
PEP 3333 reconstructs; ``"/"`` when both are empty) and ``root_path`` to ``SCRIPT_NAME`` without
trailing ``/``, both decoded as UTF-8 with U+FFFD for invalid bytes (as ASGI servers decode
``path``); ``raw_path`` is the path of ``RAW_URI``/``REQUEST_URI`` (origin-form, absolute-form or
``*``) when it percent-decodes to ``path``, else ``path`` re-quoted; ``http_version`` is
normalised (``HTTP/2.0`` -> ``"2"``, unknown -> ``"1.1"``); ``client``/``server`` ports are ints;
``HTTP_*`` keys whose name is not an HTTP token are skipped; ``extensions["wsgi.environ"]`` is the
environ, so an ASGI app served from a WSGI server can reach server-specific keys.

Path policy
-----------
The ASGI spec says ``path`` includes ``root_path``. ``PATH_INFO`` is ``path`` with ``root_path``
removed **only at a path-segment boundary**: ``/app`` is stripped from ``/app`` and ``/app/x``
but never from ``/application``. A path outside ``root_path`` is passed whole, because older
servers strip the prefix themselves. ``PATH_INFO`` and ``SCRIPT_NAME`` hold the request's bytes
decoded as latin-1 (PEP 3333 "bytes as native strings"): when ``raw_path`` percent-decodes to
``path`` it is the source (of ``RAW_URI`` too), so bytes that are not UTF-8 (``%FF``) survive
exactly; when it does not (a middleware rewrote ``path``), ``path`` wins, encoded as UTF-8. A
``path`` that does not start with ``/`` (``OPTIONS *``) has no PEP 3333 form: :class:`ClientError`.

Request headers
---------------
Header names containing ``_`` are dropped: ``X_Forwarded_For`` and ``X-Forwarded-For`` both
become ``HTTP_X_FORWARDED_FOR``, so one could spoof the other (nginx and gunicorn drop them too).
A name repeated more than ``duplicate_header_limit`` times, a ``content-length`` that is not a
number, differing repeated ``content-length`` values, a repeated ``host``, and (when ``server``
does not give the address) an invalid ``host`` are :class:`ClientError` (400, RFC 9110 8.6 and
RFC 9112 3.2).

Response headers
----------------
Names must be HTTP tokens and values may hold no control character but HTAB (RFC 9110 5.5; CR,
LF and NUL would allow header injection); both raise :class:`ApplicationError`. Leading and
trailing spaces and tabs are not part of a field value (RFC 9110 5.5) and are removed: Django
writes ``Set-Cookie`` values with a leading space, which h11 refuses. Hop-by-hop headers
(PEP 3333 forbids apps to send them) are removed and their names returned, so the adapter can log
one warning per name. Status codes are 100 to 599 (RFC 9110 15).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Generic, NamedTuple, TypeVar, cast
from urllib.parse import quote, unquote_to_bytes, urlsplit
from wsgiref.types import ErrorStream, InputStream, WSGIEnvironment

from asgiref.typing import HTTPScope

from ._errors import ApplicationError, ClientError, ServerError
from ._types import AsgiHeaders, WsgiHeaders

__all__ = [
    "ASGI_SPEC_VERSION",
    "ENVIRON_EXTENSION",
    "HeaderTranslation",
    "asgi_headers_to_wsgi",
    "build_environ",
    "build_scope",
    "error_response",
    "parse_status",
    "response_content_length",
    "response_has_body",
    "response_start",
    "status_line",
    "wsgi_headers_to_asgi",
]

#: The ASGI HTTP spec version whose rules bridge implements (2.4: ``send()`` raises ``OSError``
#: after a disconnect).
ASGI_SPEC_VERSION = "2.4"

#: The ``scope["extensions"]`` key under which :func:`build_scope` exposes the WSGI environ.
ENVIRON_EXTENSION = "wsgi.environ"

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_STATUS = re.compile(r"([1-5][0-9]{2})(?: [\t\x20-\x7e\x80-\xff]*)?\Z")
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[^\s:/@\[\]]+)(?::([0-9]{0,5}))?\Z")
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
_BODILESS_STATUSES = frozenset({204, 304})
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}
_HTTP_VERSIONS = {"1.0": "1.0", "1.1": "1.1", "2": "2", "2.0": "2", "3": "3", "3.0": "3"}
_OWS = " \t"  # optional whitespace around a field value, not part of it (RFC 9110 5.5)
_PCHAR = "/:@!$&'()*+,;=-._~"
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
#: Common response header names as apps spell them, and their ASGI form: known HTTP tokens that
#: are not hop-by-hop, so :func:`wsgi_headers_to_asgi` need not check them per response.
_RESPONSE_NAMES = {
    spelling: name.lower().encode("ascii")
    for name in (
        "Cache-Control",
        "Content-Disposition",
        "Content-Encoding",
        "Content-Language",
        "Content-Length",
        "Content-Security-Policy",
        "Content-Type",
        "Date",
        "ETag",
        "Expires",
        "Last-Modified",
        "Location",
        "Server",
        "Set-Cookie",
        "Strict-Transport-Security",
        "Vary",
        "X-Content-Type-Options",
        "X-Frame-Options",
    )
    for spelling in (name, name.lower())
}
#: The status lines of the codes with a registered reason phrase.
_STATUS_LINES = {int(status): f"{int(status)} {status.phrase}" for status in HTTPStatus}
#: The same names the other way (ASGI bytes to WSGI str), for :func:`asgi_headers_to_wsgi`.
_WSGI_NAMES = {encoded: encoded.decode("ascii") for encoded in _RESPONSE_NAMES.values()}
_H = TypeVar("_H", AsgiHeaders, WsgiHeaders)


class HeaderTranslation(NamedTuple, Generic[_H]):
    """Headers translated for the other side, and the hop-by-hop names that were dropped."""

    headers: _H
    dropped: list[str]


# --- environ from scope ------------------------------------------------------------------------


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
    return path_bytes, quote(path_bytes, safe=_PCHAR).encode("ascii")


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
    """Return ``(SERVER_NAME, SERVER_PORT)`` from ``server``, else the Host header."""
    server = scope.get("server")
    if server is not None and server[1] is not None:
        return str(server[0]), str(server[1])
    default_port = _DEFAULT_PORTS.get(scheme, "80")
    if not host:
        return "localhost", default_port
    match = _HOST.match(host)
    if match is None:
        raise ClientError(f"the host header is not a valid host[:port], got {host!r}")
    name, port = match.groups()
    return name.strip("[]"), port or default_port


# --- scope from environ ------------------------------------------------------------------------


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
            _port(environ.get("SERVER_PORT"), int(_DEFAULT_PORTS.get(scheme, "80"))),
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
    return quote(path, safe=_PCHAR).encode("ascii")


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

    Memoised like :func:`_environ_key`. ``HTTP_CONTENT_TYPE`` and ``HTTP_CONTENT_LENGTH`` have
    none: PEP 3333 keeps those two headers without the prefix.
    """
    if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
        return None
    name = key[5:].replace("_", "-").lower()
    return name.encode("ascii") if _TOKEN.match(name) else None


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


# --- status lines ------------------------------------------------------------------------------


def status_line(code: int) -> str:
    """Return the PEP 3333 status string for ``code``, e.g. ``"404 Not Found"``.

    :param code: an HTTP status code from 100 to 599; unknown codes get the phrase ``Unknown``.
    :raises ApplicationError: ``code`` is not an integer from 100 to 599 (RFC 9110 15).
    """
    line = _STATUS_LINES.get(code) if type(code) is int else None
    if line is not None:
        return line
    if not isinstance(code, int) or not 100 <= code <= 599:  # True is 1: refused
        raise ApplicationError(f"status must be an integer from 100 to 599, got {code!r}")
    return f"{code} Unknown"


def parse_status(status: object) -> int:
    """Return the status code of a PEP 3333 status string such as ``"200 OK"`` (or ``"200"``).

    :param status: the status string an app passed to ``start_response``.
    :raises ApplicationError: ``status`` is not a code from 100 to 599, a space and a reason phrase
        without control characters (RFC 9112 4).
    """
    if not isinstance(status, str):
        raise ApplicationError(f"status must be a str like '200 OK', got {status!r}")
    match = _STATUS.match(status)
    if match is None:
        raise ApplicationError(f"status must be a code from 100 to 599, got {status!r}")
    return int(match.group(1))


def response_has_body(status: int, method: str) -> bool:
    """Say whether a response to ``method`` with ``status`` may carry a body (RFC 9110 6.4.1)."""
    return method != "HEAD" and status >= 200 and status not in _BODILESS_STATUSES


def error_response(status: int) -> tuple[AsgiHeaders, bytes]:
    """Return the headers and plain-text body bridge answers with when it must fail a request."""
    body = (status_line(status) + "\n").encode("ascii")
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode("ascii")),
    ]
    return headers, body


# --- response headers --------------------------------------------------------------------------


def wsgi_headers_to_asgi(headers: object) -> HeaderTranslation[AsgiHeaders]:
    """Translate a WSGI ``response_headers`` list to ASGI byte pairs, dropping hop-by-hop ones.

    :param headers: what the app passed to ``start_response``.
    :returns: the ASGI headers (names lower-cased) and the hop-by-hop names that were dropped.
    :raises ApplicationError: not a list of ``(str, str)``, not latin-1, or an unsafe name/value.
    """
    return _translate_wsgi_headers(_header_tuple(headers))


def _header_tuple(headers: object) -> tuple[object, ...]:
    """The ``response_headers`` an app passed, as a tuple, once they are a list (PEP 3333)."""
    if not isinstance(headers, list):
        raise ApplicationError(f"response headers must be a list, got {type(headers).__name__}")
    return tuple(headers)


#: What :func:`response_start` returns: the status code, the ASGI headers, the hop-by-hop header
#: names dropped from them, and the Content-Length they declare (``None``: none).
ResponseStart = tuple[int, AsgiHeaders, tuple[str, ...], int | None]


def response_start(status: object, headers: object) -> ResponseStart:
    """Check and translate what an app passed to ``start_response(status, response_headers)``.

    :func:`parse_status`, :func:`wsgi_headers_to_asgi` and :func:`response_content_length` in
    one call, memoised like :func:`_environ_key`: an app answers with the same few status lines
    and header lists again and again (a list that varies per response, a cookie say, only costs
    a cache miss; one that fails the checks raises and is not kept). Each call returns a new
    header list, which the caller may change.

    :raises ApplicationError: as those three functions do.
    """
    key = _header_tuple(headers)
    try:
        code, translated, dropped, length = _memo_response_start(status, key)
    except TypeError:  # an unhashable status or header (a list pair, say): checked, not memoised
        return _response_start(status, key)
    return code, list(translated), dropped, length


@functools.lru_cache(maxsize=256)
def _memo_response_start(
    status: object, headers: tuple[object, ...]
) -> tuple[int, tuple[tuple[bytes, bytes], ...], tuple[str, ...], int | None]:
    code, translated, dropped, length = _response_start(status, headers)
    return code, tuple(translated), dropped, length


def _response_start(status: object, headers: tuple[object, ...]) -> ResponseStart:
    code = parse_status(status)
    translated, dropped = _translate_wsgi_headers(headers)
    return code, translated, tuple(dropped), response_content_length(translated)


def _translate_wsgi_headers(headers: tuple[object, ...]) -> HeaderTranslation[AsgiHeaders]:
    """The checks and translation of :func:`wsgi_headers_to_asgi`, not memoised."""
    result: AsgiHeaders = []
    dropped: list[str] = []
    for item in headers:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise ApplicationError(f"each response header must be a (name, value) tuple: {item!r}")
        name, value = item
        if not (isinstance(name, str) and isinstance(value, str)):
            raise ApplicationError(f"response header name and value must be str: {item!r}")
        encoded_name = _RESPONSE_NAMES.get(name)
        if encoded_name is None:
            lower = _checked_header(name, value).lower()
            if _is_hop_by_hop(lower):
                dropped.append(lower)
                continue
            encoded_name = lower.encode("ascii")
        elif not (value.isascii() and value.isprintable()):
            _checked_header(name, value)  # a common name: only the value needs a closer look
        try:
            result.append((encoded_name, value.strip(_OWS).encode("latin-1")))
        except UnicodeEncodeError as exc:
            raise ApplicationError(f"response header {name!r} is not latin-1: {value!r}") from exc
    return HeaderTranslation(result, dropped)


def asgi_headers_to_wsgi(headers: Iterable[Iterable[bytes]]) -> HeaderTranslation[WsgiHeaders]:
    """Translate ASGI response headers to a WSGI list of latin-1 strings, dropping hop-by-hop ones.

    :param headers: the ``headers`` of an ``http.response.start`` message.
    :returns: the WSGI headers and the hop-by-hop names that were dropped.
    :raises ApplicationError: not byte pairs, or an unsafe name or value.
    """
    if not isinstance(headers, Iterable):
        raise ApplicationError(f"response headers must be an iterable of pairs, got {headers!r}")
    result: WsgiHeaders = []
    dropped: list[str] = []
    for pair in headers:
        common = _common_response_header(pair)
        if common is not None:
            result.append(common)
            continue
        name, value = _latin1_pair(pair)
        if _is_hop_by_hop(name.lower()):
            dropped.append(name.lower())
            continue
        result.append((name, value))
    return HeaderTranslation(result, dropped)


def _common_response_header(pair: object) -> tuple[str, str] | None:
    """Translate a well-formed header with a common name (see ``_RESPONSE_NAMES``), else ``None``.

    The common response has only such headers; anything else takes the full checks.
    """
    if type(pair) is not tuple or len(pair) != 2:
        return None
    raw_name, value = pair
    if type(raw_name) is not bytes or type(value) is not bytes:
        return None
    name = _WSGI_NAMES.get(raw_name)
    if name is None:
        return None
    text = value.decode("latin-1")
    if not (text.isascii() and text.isprintable()):
        return None
    return name, text.strip(_OWS)


def _latin1_pair(pair: Iterable[bytes]) -> tuple[str, str]:
    """Decode one ASGI response header, refusing wrong shapes and unsafe names or values."""
    try:
        name_bytes, value_bytes = pair
        name, value = name_bytes.decode("latin-1"), value_bytes.decode("latin-1")
    except (AttributeError, TypeError, ValueError) as exc:
        message = f"each response header must be a [name, value] pair of bytes, got {pair!r}"
        raise ApplicationError(message) from exc
    return _checked_header(name, value), value.strip(_OWS)


def response_content_length(headers: Iterable[tuple[bytes, bytes]]) -> int | None:
    """Return the Content-Length the response declares, or ``None`` when it declares none.

    :raises ApplicationError: the value is not a non-negative integer, or repeats differently.
    """
    found: bytes | None = None
    for name, value in headers:
        if name == b"content-length" or (len(name) == 14 and name.lower() == b"content-length"):
            stripped = value.strip()
            if found is not None and stripped != found:
                values = sorted([found, stripped])
                raise ApplicationError(f"conflicting content-length values {values!r}")
            found = stripped
    if found is None:
        return None
    if not found.isdigit():
        raise ApplicationError(f"content-length must be a non-negative integer, got {found!r}")
    return int(found)


def _checked_header(name: str, value: str) -> str:
    """Return ``name`` once it is an HTTP token and ``value`` holds no control character."""
    if not _TOKEN.match(name):
        raise ApplicationError(f"response header name is not an HTTP token: {name!r}")
    if not (value.isascii() and value.isprintable()) and _CONTROL.search(value):
        raise ApplicationError(f"response header {name!r} holds a control character: {value!r}")
    return name


def _is_hop_by_hop(lower_name: str) -> bool:
    return lower_name in _HOP_BY_HOP or lower_name.startswith("proxy-")
