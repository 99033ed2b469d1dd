"""Translate between PEP 3333 environs and ASGI HTTP scopes, with pure functions and no I/O.

This is where PEP 3333 and the ASGI HTTP spec ("WSGI Compatibility" section) meet. Both adapters
call it; nothing here does I/O, logs, spawns, awaits, or keeps state (bounded memo caches of pure
functions aside: request header names both ways, and the status and header list of a response),
so every rule is tested with plain data (``tests/translate/``). An import rule keeps it so: this
package may not import asyncio, anyio, trio, greenlet, threading or logging.

=================  ==========================================================================
module             what it holds
=================  ==========================================================================
``environ``        scope -> environ (:func:`build_environ`): WsgiToAsgi, once per request
``scope``          environ -> scope (:func:`build_scope`): AsgiToWsgi, once per request
``response``       status lines and response headers, both ways, and bridge's error answers
``early_hints``    103 Early Hints both ways: ``wsgi.early_hints`` headers <-> ASGI ``links``
``grammar``        the HTTP grammar the other three share (tokens, path characters, ports)
=================  ==========================================================================

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
number, differing repeated ``content-length`` values, a repeated or invalid ``host`` (even when
``server`` gives the address), and ``transfer-encoding`` together with ``content-length`` (a body
that could be read two ways: request smuggling) are :class:`ClientError` (400; RFC 9110 8.6,
RFC 9112 3.2 and 6.1).

Response headers
----------------
Names must be HTTP tokens and values may hold no control character but HTAB (RFC 9110 5.5; CR,
LF and NUL would allow header injection); both raise :class:`ApplicationError`. Leading and
trailing spaces and tabs are not part of a field value (RFC 9110 5.5) and are removed: Django
writes ``Set-Cookie`` values with a leading space, which h11 refuses. Hop-by-hop headers
(PEP 3333 forbids apps to send them) are removed and their names returned, so the adapter can log
one warning per name. Status codes are 100 to 599 (RFC 9110 15).
"""

from .early_hints import early_hint_headers, early_hint_links
from .environ import build_environ, declares_body
from .response import (
    HeaderTranslation,
    ResponseStart,
    asgi_headers_to_wsgi,
    error_response,
    parse_status,
    response_content_length,
    response_has_body,
    response_start,
    status_line,
    wsgi_headers_to_asgi,
)
from .scope import ASGI_SPEC_VERSION, ENVIRON_EXTENSION, build_scope, request_body_length

__all__ = [
    "ASGI_SPEC_VERSION",
    "ENVIRON_EXTENSION",
    "HeaderTranslation",
    "ResponseStart",
    "asgi_headers_to_wsgi",
    "build_environ",
    "build_scope",
    "declares_body",
    "early_hint_headers",
    "early_hint_links",
    "error_response",
    "parse_status",
    "request_body_length",
    "response_content_length",
    "response_has_body",
    "response_start",
    "status_line",
    "wsgi_headers_to_asgi",
]
