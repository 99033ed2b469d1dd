"""Translate 103 Early Hints both ways (sans-IO): ``wsgi.early_hints`` headers <-> ASGI ``links``.

A 103 (Early Hints) response carries header fields, usually ``Link``, that the client may act on
before the final response (RFC 8297 2). The two interfaces spell it differently:

* **WSGI**: Gunicorn 27 gives apps ``environ["wsgi.early_hints"](headers)``, ``headers`` a list
  of ``(name, value)`` pairs (``str``, or ``bytes`` as latin-1); each call sends one 103 at once.
  It is not part of PEP 3333: an app checks for the key.
* **ASGI**: a server that lists ``http.response.early_hint`` in ``scope["extensions"]`` accepts
  ``{"type": "http.response.early_hint", "links": [...]}``, ``links`` an iterable of ``Link``
  field values (RFC 8288) as byte strings, which it sends as the ``Link`` headers of a 103.

=========================  ===============================================================
direction                  translation
=========================  ===============================================================
WSGI app -> ASGI server    :func:`early_hint_links`: the values of the ``Link`` headers;
                           the ASGI message has no room for other fields, which are dropped
ASGI app -> WSGI server    :func:`early_hint_headers`: one ``("Link", value)`` per link
=========================  ===============================================================

Names and values get the checks of response headers (:mod:`.response`): an HTTP token, no
control character but HTAB, surrounding spaces and tabs removed; anything else, and a wrong
shape, is the app's :class:`~bridge.ApplicationError`.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._errors import ApplicationError
from .._types import WsgiHeaders
from .response import asgi_headers_to_wsgi, wsgi_headers_to_asgi

__all__ = ["early_hint_headers", "early_hint_links"]


def early_hint_links(headers: object) -> list[bytes]:
    """Return the ``links`` of the ASGI message for a ``wsgi.early_hints(headers)`` call.

    :param headers: what the app passed: ``(name, value)`` pairs of ``str`` or ``bytes``.
    :returns: the ``Link`` values, in order (empty when the app sent no ``Link`` header).
    :raises ApplicationError: not an iterable of pairs, or an unsafe name or value.
    """
    if isinstance(headers, (str, bytes)) or not isinstance(headers, Iterable):
        raise ApplicationError(f"early hints must be a list of (name, value) pairs: {headers!r}")
    pairs: WsgiHeaders = []
    for item in headers:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise ApplicationError(f"each early hint must be a (name, value) tuple: {item!r}")
        pairs.append((_text(item[0], item), _text(item[1], item)))
    translated = wsgi_headers_to_asgi(pairs).headers
    return [value for name, value in translated if name == b"link"]


def early_hint_headers(links: object) -> WsgiHeaders:
    """Return the WSGI headers of an ``http.response.early_hint`` message's ``links``.

    :param links: the message's ``links``: an iterable of byte strings.
    :returns: one ``("Link", value)`` pair per link, in order.
    :raises ApplicationError: not an iterable of byte strings, or a value that is unsafe.
    """
    if isinstance(links, (str, bytes)) or not isinstance(links, Iterable):
        message = f"'http.response.early_hint' needs an iterable of byte strings, got {links!r}"
        raise ApplicationError(message)
    pairs: list[tuple[bytes, bytes]] = []
    for link in links:
        if not isinstance(link, bytes):
            raise ApplicationError(f"each early hint link must be bytes, got {link!r}")
        pairs.append((b"link", link))
    return [("Link", value) for _, value in asgi_headers_to_wsgi(pairs).headers]


def _text(part: object, item: object) -> str:
    """One name or value of an early hint as a native string (bytes are latin-1)."""
    if isinstance(part, str):
        return part
    if isinstance(part, bytes):
        return part.decode("latin-1")
    raise ApplicationError(f"early hint names and values must be str or bytes: {item!r}")
