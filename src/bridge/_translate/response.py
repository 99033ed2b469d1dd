"""Check and translate responses both ways: status lines and response headers (sans-IO).

WsgiToAsgi translates what an app passes to ``start_response`` (:func:`response_start`,
:func:`wsgi_headers_to_asgi`); AsgiToWsgi translates ``http.response.start`` messages
(:func:`status_line`, :func:`asgi_headers_to_wsgi`); both answer errors with
:func:`error_response`. The rules are the package docstring's "Response headers".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from http import HTTPStatus
from typing import Generic, NamedTuple, TypeVar

from .._errors import ApplicationError
from .._types import AsgiHeaders, WsgiHeaders
from .grammar import TOKEN

__all__ = [
    "HeaderTranslation",
    "ResponseStart",
    "asgi_headers_to_wsgi",
    "error_response",
    "parse_status",
    "response_content_length",
    "response_has_body",
    "response_start",
    "status_line",
    "wsgi_headers_to_asgi",
]

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_STATUS = re.compile(r"([1-5][0-9]{2})(?: [\t\x20-\x7e\x80-\xff]*)?\Z")
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
_OWS = " \t"  # optional whitespace around a field value, not part of it (RFC 9110 5.5)
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


def error_response(status: int, *, close: bool = False) -> tuple[AsgiHeaders, bytes]:
    """Return the headers and plain-text body bridge answers with when it must fail a request.

    :param close: add ``Connection: close`` (RFC 9112 9.6), for an HTTP/1.x connection that
        cannot be reused after this answer (HTTP/2 forbids the field, RFC 9113 8.2.2).
    """
    body = (status_line(status) + "\n").encode("ascii")
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode("ascii")),
    ]
    if close:
        headers.append((b"connection", b"close"))
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
    one call, memoised (a bounded cache of a pure function): an app answers with the same few
    status lines and header lists again and again (a list that varies per response, a cookie
    say, only costs a cache miss; one that fails the checks raises and is not kept). Each call
    returns a new header list, which the caller may change.

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
    if not TOKEN.match(name):
        raise ApplicationError(f"response header name is not an HTTP token: {name!r}")
    if not (value.isascii() and value.isprintable()) and _CONTROL.search(value):
        raise ApplicationError(f"response header {name!r} holds a control character: {value!r}")
    return name


def _is_hop_by_hop(lower_name: str) -> bool:
    return lower_name in _HOP_BY_HOP or lower_name.startswith("proxy-")
