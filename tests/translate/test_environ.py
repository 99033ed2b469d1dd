"""Tests for ``bridge._translate``: one table per PEP 3333 / ASGI HTTP spec / RFC rule.

Sections follow the module: environ from scope, scope from environ, status lines, response
headers, then Hypothesis properties. Every environ that ``build_environ`` returns, and every
environ a test hands to ``build_scope`` as a valid one, goes through :func:`checked`, which runs
``wsgiref.validate.check_environ`` (its warnings are errors under ``filterwarnings = error``).
"""

from __future__ import annotations

import contextlib
import io
import re
import string
from typing import Any
from urllib.parse import quote
from wsgiref.types import WSGIEnvironment
from wsgiref.validate import check_environ

import pytest
from asgiref.typing import HTTPScope
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge import ApplicationError, BridgeError, ClientError, ServerError
from bridge._translate import (
    ASGI_SPEC_VERSION,
    ENVIRON_EXTENSION,
    HeaderTranslation,
    _request_target,
    asgi_headers_to_wsgi,
    build_environ,
    build_scope,
    error_response,
    parse_status,
    response_content_length,
    response_has_body,
    response_start,
    status_line,
    wsgi_headers_to_asgi,
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


# --- build_environ: paths ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("root_path", "path", "script_name", "path_info"),
    [
        pytest.param("", "/x", "", "/x", id="no-root"),
        pytest.param("/app", "/app/x", "/app", "/x", id="under-root"),
        pytest.param("/app", "/app", "/app", "", id="root-itself"),
        pytest.param("/app", "/app/", "/app", "/", id="root-with-slash"),
        pytest.param("/app", "/application", "/app", "/application", id="prefix-not-a-segment"),
        pytest.param("/app", "/other/x", "/app", "/other/x", id="outside-root-passed-whole"),
        pytest.param("/app/", "/app/x", "/app", "/x", id="trailing-slash-root"),
        pytest.param("/", "/x", "", "/x", id="slash-root-is-empty"),
        pytest.param("/a/b", "/a/b/c", "/a/b", "/c", id="two-segment-root"),
        pytest.param("/café", "/café/x", "/caf\xc3\xa9", "/x", id="non-ascii-root-utf8-bytes"),
    ],
)
def test_build_environ_strips_root_path_at_a_segment_boundary(
    root_path: str, path: str, script_name: str, path_info: str
) -> None:
    """ASGI HTTP scope ``root_path`` is ``SCRIPT_NAME``; PEP 3333 ``PATH_INFO`` is the rest."""
    environ = environ_of(make_scope(root_path=root_path, path=path))
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == (script_name, path_info)


@pytest.mark.parametrize(
    ("scope", "script_name", "path_info"),
    [
        pytest.param(make_scope(path="/\ufffd", raw_path=b"/%FF"), "", "/\xff", id="ff-exact"),
        pytest.param(make_scope(path="/é", raw_path=b"/%C3%A9"), "", "/\xc3\xa9", id="utf8"),
        pytest.param(make_scope(path="/a/b", raw_path=b"/a%2Fb"), "", "/a/b", id="encoded-slash"),
        pytest.param(
            make_scope(path="/app/\ufffd", raw_path=b"/app/%FF", root_path="/app"),
            "/app",
            "/\xff",
            id="under-root",
        ),
        pytest.param(
            make_scope(path="/\ufffd/x", raw_path=b"/%FF/x", root_path="/\ufffd"),
            "/\xff",
            "/x",
            id="non-utf8-root-from-raw-bytes",
        ),
        pytest.param(
            make_scope(path="/\ufffd/x", raw_path=b"/%FF/x", root_path="/\ufffd/"),
            "/\xff",
            "/x",
            id="non-utf8-root-trailing-slash",
        ),
    ],
)
def test_build_environ_percent_decodes_raw_path_keeping_bytes_exact(
    scope: HTTPScope, script_name: str, path_info: str
) -> None:
    """PEP 3333 "Unicode Issues": bytes as latin-1; ASGI ``raw_path`` holds the exact bytes."""
    environ = environ_of(scope)
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == (script_name, path_info)


@pytest.mark.parametrize(
    ("scope", "path_info", "raw_uri"),
    [
        pytest.param(make_scope(path="/new", raw_path=b"/old"), "/new", "/new", id="rewritten"),
        pytest.param(make_scope(path="/é", raw_path=b"/e"), "/\xc3\xa9", "/%C3%A9", id="utf8"),
        pytest.param(
            make_scope(path="/\ufffd", raw_path=b"/%FF%FE"),
            "/\xef\xbf\xbd",
            "/%EF%BF%BD",
            id="replacement-count-differs",
        ),
        pytest.param(make_scope(path="/x", raw_path=b""), "/x", "/x", id="empty-raw-path"),
    ],
)
def test_build_environ_path_wins_when_raw_path_disagrees(
    scope: HTTPScope, path_info: str, raw_uri: str
) -> None:
    """ASGI ``path`` is authoritative; a middleware may rewrite it without touching ``raw_path``."""
    environ = environ_of(scope)
    assert (environ["PATH_INFO"], environ["RAW_URI"]) == (path_info, raw_uri)


@pytest.mark.parametrize(
    ("scope", "raw_uri"),
    [
        pytest.param(make_scope(path="/a b"), "/a%20b", id="quoted-from-path"),
        pytest.param(make_scope(path="/a b", query_string=b"x=1"), "/a%20b?x=1", id="with-query"),
        pytest.param(make_scope(path="/a?b%"), "/a%3Fb%25", id="question-mark-and-percent"),
        pytest.param(make_scope(path="/a;b=c@d:e"), "/a;b=c@d:e", id="pchar-kept"),
        pytest.param(make_scope(path="/a/b", raw_path=b"/a%2Fb"), "/a%2Fb", id="raw-path-kept"),
        pytest.param(
            make_scope(path="/\ufffd", raw_path=b"/%FF?y=1", query_string=b"y=1"),
            "/%FF?y=1",
            id="raw-path-with-query-not-doubled",
        ),
        pytest.param(make_scope(path="/\udcff"), "/%FF", id="surrogateescape-path"),
    ],
)
def test_build_environ_raw_uri_and_request_uri(scope: HTTPScope, raw_uri: str) -> None:
    """gunicorn/uWSGI ``RAW_URI``/``REQUEST_URI``: the request target as sent (RFC 9112 3.2)."""
    environ = environ_of(scope)
    assert environ["RAW_URI"] == environ["REQUEST_URI"] == raw_uri


@PROPERTY
@given(
    slash=st.booleans(),
    path=st.text(alphabet=string.ascii_letters + string.digits + PCHAR + "%?", max_size=30),
    query=st.binary(max_size=10),
    root_path=st.sampled_from(["", "/", "/app"]),
)
def test_build_environ_common_path_shortcut_gives_the_general_result(
    slash: bool, path: str, query: bytes, root_path: str
) -> None:
    """ASGI 'WSGI Compatibility' (path, root_path, raw_path): build_environ's shortcut for an
    ASCII ``raw_path`` equal to ``path`` gives exactly what the general path rules give, for
    paths with and without ``%``, ``?``, a leading ``/`` or a ``root_path``."""
    path = "/" + path if slash else path  # most requests, and ones with no PEP 3333 form
    scope = make_scope(
        path=path,
        raw_path=path.encode("ascii"),
        query_string=query,
        root_path=root_path,
    )
    try:
        expected = _request_target(scope)
    except ClientError:
        with pytest.raises(ClientError):
            environ_of(scope)
        return
    environ = environ_of(scope)
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"], environ["RAW_URI"]) == expected


def test_build_environ_surrogateescape_path_gives_its_byte() -> None:
    """PEP 3333 "bytes as native strings": ``/\\udcff`` is the byte 0xFF, as ``os.fsencode``."""
    assert environ_of(make_scope(path="/\udcff"))["PATH_INFO"] == "/\xff"


@pytest.mark.parametrize(
    ("scope", "query"),
    [
        pytest.param(make_scope(query_string=b"a=1&b=%20"), "a=1&b=%20", id="ascii"),
        pytest.param(make_scope(query_string=b"a=\xff\x80"), "a=\xff\x80", id="high-bytes"),
        pytest.param(make_scope(query_string=b""), "", id="empty"),
        pytest.param(make_scope(query_string=None), "", id="missing"),
    ],
)
def test_build_environ_query_string_is_latin1(scope: HTTPScope, query: str) -> None:
    """ASGI ``query_string`` bytes -> PEP 3333 ``QUERY_STRING`` bytes-as-latin-1, never failing."""
    assert environ_of(scope)["QUERY_STRING"] == query


@pytest.mark.parametrize(
    ("scope", "message", "error"),
    [
        pytest.param(make_scope(path="*"), "must start with '/'", ClientError, id="asterisk"),
        pytest.param(make_scope(path=""), "must start with '/'", ClientError, id="empty"),
        pytest.param(make_scope(root_path="app"), "root_path must be", ServerError, id="root"),
        pytest.param(
            make_scope(path="/\ud800"),
            r"scope\['path'\] is not encodable",
            ServerError,
            id="surrogate",
        ),
        pytest.param(
            make_scope(root_path="/\ud800", path="/x"),
            r"scope\['root_path'\] is not encodable",
            ServerError,
            id="surrogate-root",
        ),
        pytest.param(make_scope(method=None), "needs 'method' and 'path'", ServerError, id="no-m"),
        pytest.param(make_scope(path=None), "needs 'method' and 'path'", ServerError, id="no-path"),
    ],
)
def test_build_environ_refuses_paths_without_a_pep3333_form(
    scope: HTTPScope, message: str, error: type[BridgeError]
) -> None:
    """PEP 3333 ``PATH_INFO``/``SCRIPT_NAME`` start with ``/``; ASGI requires method and path."""
    with pytest.raises(error, match=message):
        build_environ(scope, wsgi_input=io.BytesIO(), wsgi_errors=io.StringIO())


# --- build_environ: server, client, protocol, wsgi.* --------------------------------------------


@pytest.mark.parametrize(
    ("server", "host", "scheme", "expected"),
    [
        pytest.param(
            ("10.0.0.1", 8000), "a.test:81", "http", ("10.0.0.1", "8000"), id="server-wins"
        ),
        pytest.param(("::1", 8000), None, "http", ("::1", "8000"), id="ipv6-server"),
        pytest.param(None, "example.com:8080", "http", ("example.com", "8080"), id="host-port"),
        pytest.param(None, "example.com", "http", ("example.com", "80"), id="host-http"),
        pytest.param(None, "example.com", "https", ("example.com", "443"), id="host-https"),
        pytest.param(None, "example.com:", "http", ("example.com", "80"), id="host-empty-port"),
        pytest.param(None, "[::1]:8000", "http", ("::1", "8000"), id="host-ipv6-port"),
        pytest.param(None, "[::1]", "https", ("::1", "443"), id="host-ipv6-no-port"),
        pytest.param(("/tmp/s.sock", None), "a.test:81", "http", ("a.test", "81"), id="unix"),
        pytest.param(("/tmp/s.sock", None), None, "http", ("localhost", "80"), id="unix-no-host"),
        pytest.param(None, None, "http", ("localhost", "80"), id="nothing-http"),
        pytest.param(None, None, "https", ("localhost", "443"), id="nothing-https"),
        pytest.param(None, "", "http", ("localhost", "80"), id="empty-host"),
    ],
)
def test_build_environ_server_name_and_port(
    server: tuple[str, int | None] | None,
    host: str | None,
    scheme: str,
    expected: tuple[str, str],
) -> None:
    """PEP 3333 ``SERVER_NAME``/``SERVER_PORT`` from ASGI ``server``, else Host (RFC 9110 7.2)."""
    headers = [] if host is None else [(b"host", host.encode())]
    scope = make_scope(server=server, headers=headers, scheme=scheme)
    environ = environ_of(scope)
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == expected


@pytest.mark.parametrize("host", ["exa mple.com", "::1", "a:b", "[::1", "user@host", ":80", "a/b"])
def test_build_environ_invalid_host_without_server_is_client_error(host: str) -> None:
    """RFC 9112 3.2: a Host that is not ``uri-host [":" port]`` is answered with 400."""
    scope = make_scope(server=None, headers=[(b"host", host.encode())])
    with pytest.raises(ClientError, match="host header is not a valid"):
        environ_of(scope)


def test_build_environ_invalid_host_is_kept_when_server_gives_the_address() -> None:
    """ASGI ``server`` is authoritative; the Host header is then passed on untouched."""
    environ = environ_of(make_scope(headers=[(b"host", b"a b")]))
    assert (environ["SERVER_NAME"], environ["HTTP_HOST"]) == ("127.0.0.1", "a b")


def test_build_environ_repeated_host_is_client_error() -> None:
    """RFC 9112 3.2: a request with more than one Host field line is answered with 400."""
    scope = make_scope(headers=[(b"host", b"a.test"), (b"Host", b"b.test")])
    with pytest.raises(ClientError, match="one host header"):
        environ_of(scope)


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        pytest.param(
            ("1.2.3.4", 5678), {"REMOTE_ADDR": "1.2.3.4", "REMOTE_PORT": "5678"}, id="ipv4"
        ),
        pytest.param(("::1", 1), {"REMOTE_ADDR": "::1", "REMOTE_PORT": "1"}, id="ipv6"),
        pytest.param(None, {}, id="no-client"),
    ],
)
def test_build_environ_remote_addr_and_port_are_strings(
    client: tuple[str, int] | None, expected: dict[str, str]
) -> None:
    """CGI ``REMOTE_ADDR``/``REMOTE_PORT`` (RFC 3875 4.1.8) from ASGI ``client``, as str."""
    environ = environ_of(make_scope(client=client))
    assert {key: environ[key] for key in ("REMOTE_ADDR", "REMOTE_PORT") if key in environ} == (
        expected
    )


@pytest.mark.parametrize(
    ("http_version", "protocol"),
    [("1.0", "HTTP/1.0"), ("1.1", "HTTP/1.1"), ("2", "HTTP/2"), (None, "HTTP/1.1")],
)
def test_build_environ_server_protocol(http_version: str | None, protocol: str) -> None:
    """PEP 3333 ``SERVER_PROTOCOL`` is ``HTTP/`` + ASGI ``http_version``."""
    assert environ_of(make_scope(http_version=http_version))["SERVER_PROTOCOL"] == protocol


@pytest.mark.parametrize(
    ("scheme", "url_scheme"), [("http", "http"), ("https", "https"), ("", "http"), (None, "http")]
)
@pytest.mark.parametrize(("multithread", "multiprocess"), [(True, False), (False, True)])
def test_build_environ_wsgi_keys_have_exact_types(
    scheme: str | None, url_scheme: str, multithread: bool, multiprocess: bool
) -> None:
    """PEP 3333 ``wsgi.*`` variables, and ASGI ``scheme`` (default ``"http"``, never empty)."""
    stream, errors = io.BytesIO(), io.StringIO()
    scope = make_scope(scheme=scheme)
    environ = checked(
        build_environ(
            scope,
            wsgi_input=stream,
            wsgi_errors=errors,
            multithread=multithread,
            multiprocess=multiprocess,
        )
    )
    assert environ["wsgi.version"] == (1, 0)
    assert type(environ["wsgi.version"]) is tuple
    assert environ["wsgi.url_scheme"] == url_scheme
    assert environ["wsgi.input"] is stream
    assert environ["wsgi.errors"] is errors
    assert environ["wsgi.multithread"] is multithread
    assert environ["wsgi.multiprocess"] is multiprocess
    assert environ["wsgi.run_once"] is False
    assert environ["wsgi.input_terminated"] is True
    assert environ["asgi.scope"] is scope
    assert environ["REQUEST_METHOD"] == "GET"


# --- build_environ: request headers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param([(b"content-type", b"a/b")], {"CONTENT_TYPE": "a/b"}, id="content-type"),
        pytest.param([(b"Content-Type", b"a/b")], {"CONTENT_TYPE": "a/b"}, id="mixed-case-type"),
        pytest.param([(b"CONTENT-LENGTH", b"5")], {"CONTENT_LENGTH": "5"}, id="upper-length"),
        pytest.param([(b"content-length", b" 5 ")], {"CONTENT_LENGTH": "5"}, id="length-spaces"),
        pytest.param(
            [(b"content-length", b"5"), (b"Content-Length", b"5")],
            {"CONTENT_LENGTH": "5"},
            id="repeated-equal-length",
        ),
        pytest.param([(b"accept", b"*/*")], {"HTTP_ACCEPT": "*/*"}, id="simple"),
        pytest.param([(b"X-Forwarded-For", b"1")], {"HTTP_X_FORWARDED_FOR": "1"}, id="dashes"),
        pytest.param([(b"x-empty", b"")], {"HTTP_X_EMPTY": ""}, id="empty-value"),
        pytest.param([(b"x-a", b"\xe9\xff")], {"HTTP_X_A": "\xe9\xff"}, id="latin1-value"),
        pytest.param(
            [(b"accept", b"a"), (b"Accept", b"b")], {"HTTP_ACCEPT": "a,b"}, id="joined-comma"
        ),
        pytest.param(
            [(b"cookie", b"a=1"), (b"cookie", b"b=2")],
            {"HTTP_COOKIE": "a=1; b=2"},
            id="cookie-joined-semicolon",
        ),
        pytest.param(
            [(b"content-type", b"a"), (b"content-type", b"b")], {"CONTENT_TYPE": "a,b"}, id="ct"
        ),
    ],
)
def test_build_environ_request_headers(
    headers: list[tuple[bytes, bytes]], expected: dict[str, str]
) -> None:
    """PEP 3333 / RFC 3875 4.1.18 ``HTTP_*`` naming; ``CONTENT_*`` unprefixed; RFC 9113 8.2.3."""
    environ = environ_of(make_scope(headers=headers))
    found = {k: v for k, v in environ.items() if k.startswith(("HTTP_", "CONTENT_"))}
    assert found == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param([(b"x_forwarded_for", b"evil")], {}, id="alone"),
        pytest.param(
            [(b"X_Forwarded_For", b"evil"), (b"x-forwarded-for", b"good")],
            {"HTTP_X_FORWARDED_FOR": "good"},
            id="spoof-before",
        ),
        pytest.param(
            [(b"x-forwarded-for", b"good"), (b"x_forwarded_for", b"evil")],
            {"HTTP_X_FORWARDED_FOR": "good"},
            id="spoof-after",
        ),
        pytest.param([(b"content_length", b"99")], {}, id="content-length-spoof"),
    ],
)
def test_build_environ_drops_header_names_with_underscores(
    headers: list[tuple[bytes, bytes]], expected: dict[str, str]
) -> None:
    """``X_Forwarded_For`` would spoof ``X-Forwarded-For`` as ``HTTP_X_FORWARDED_FOR`` (nginx)."""
    environ = environ_of(make_scope(headers=headers))
    assert {k: v for k, v in environ.items() if k.startswith(("HTTP_", "CONTENT_"))} == expected


def test_build_environ_duplicate_header_limit_is_client_error() -> None:
    """A header name repeated over ``duplicate_header_limit`` times is answered with 400."""
    allowed = make_scope(headers=[(b"x-a", b"1")] * 3 + [(b"x_a", b"1")] * 9)
    assert environ_of(allowed, duplicate_header_limit=3)["HTTP_X_A"] == "1,1,1"
    with pytest.raises(ClientError, match="'x-a' repeated more than 3 times"):
        environ_of(make_scope(headers=[(b"X-A", b"1")] * 4), duplicate_header_limit=3)
    with pytest.raises(ClientError, match="'x-a' repeated more than 0 times"):
        environ_of(make_scope(headers=[(b"X-A", b"1")]), duplicate_header_limit=0)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param([b"5", b"6"], "conflicting content-length values", id="conflicting"),
        pytest.param([b"abc"], "non-negative integer, got 'abc'", id="letters"),
        pytest.param([b"-1"], "non-negative integer", id="negative"),
        pytest.param([b""], "non-negative integer", id="empty"),
        pytest.param([b"1.0"], "non-negative integer", id="decimal"),
        pytest.param([b"5, 5"], "non-negative integer", id="list-in-one-line"),
        pytest.param(["\uff15".encode()], "non-negative integer", id="fullwidth-digit"),
        pytest.param([b"\xb2"], "non-negative integer", id="latin1-superscript-two"),
    ],
)
def test_build_environ_invalid_content_length_is_client_error(
    values: list[bytes], message: str
) -> None:
    """RFC 9110 8.6: Content-Length is ``1*DIGIT``; differing repeats are invalid (RFC 9112 6.3)."""
    scope = make_scope(headers=[(b"content-length", value) for value in values])
    with pytest.raises(ClientError, match=message):
        environ_of(scope)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([(b"x-a",)], id="one-item"),
        pytest.param([("x-a", "1")], id="str-pair"),
        pytest.param([(b"x-a", None)], id="none-value"),
        pytest.param([None], id="none-pair"),
        pytest.param(5, id="not-iterable"),
    ],
)
def test_build_environ_malformed_scope_headers_are_server_error(headers: object) -> None:
    """ASGI HTTP scope ``headers`` is an iterable of ``[name, value]`` byte pairs."""
    with pytest.raises(ServerError, match="scope headers must be"):
        environ_of(make_scope(headers=headers))


# --- build_scope -------------------------------------------------------------------------------


def test_build_scope_fills_every_key() -> None:
    """ASGI HTTP "Connection Scope": every key, from the PEP 3333 environ it came from."""
    environ = checked(
        make_environ(
            REQUEST_METHOD="POST",
            SCRIPT_NAME="/app",
            PATH_INFO="/a b",
            QUERY_STRING="x=1",
            SERVER_PORT="8080",
            SERVER_PROTOCOL="HTTP/1.0",
            REMOTE_ADDR="10.0.0.2",
            REMOTE_PORT="5000",
            CONTENT_TYPE="text/plain",
            CONTENT_LENGTH="3",
            HTTP_X_FORWARDED_FOR="1.2.3.4",
            HTTP_COOKIE="a=1; b=2",
            **{"wsgi.url_scheme": "https"},
        )
    )
    assert build_scope(environ) == {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": ASGI_SPEC_VERSION},
        "http_version": "1.0",
        "method": "POST",
        "scheme": "https",
        "path": "/app/a b",
        "raw_path": b"/app/a%20b",
        "query_string": b"x=1",
        "root_path": "/app",
        "headers": [
            (b"content-type", b"text/plain"),
            (b"content-length", b"3"),
            (b"x-forwarded-for", b"1.2.3.4"),
            (b"cookie", b"a=1; b=2"),
        ],
        "client": ("10.0.0.2", 5000),
        "server": ("example.com", 8080),
        "extensions": {ENVIRON_EXTENSION: environ},
    }


@pytest.mark.parametrize(
    ("protocol", "http_version"),
    [
        ("HTTP/1.0", "1.0"),
        ("HTTP/1.1", "1.1"),
        ("HTTP/2", "2"),
        ("HTTP/2.0", "2"),
        ("HTTP/3", "3"),
        ("http/1.1", "1.1"),
        ("HTTP/0.9", "1.1"),
        ("INCLUDED", "1.1"),
        (None, "1.1"),
    ],
)
def test_build_scope_normalises_http_version(protocol: str | None, http_version: str) -> None:
    """ASGI ``http_version`` is ``"1.0"``, ``"1.1"`` or ``"2"``; unknown protocols count as 1.1."""
    environ = checked(make_environ(SERVER_PROTOCOL=protocol))
    assert build_scope(environ)["http_version"] == http_version


@pytest.mark.parametrize(
    ("script_name", "path_info", "path", "root_path"),
    [
        pytest.param("", "/x", "/x", "", id="no-script-name"),
        pytest.param("/app", "/x", "/app/x", "/app", id="mounted"),
        pytest.param("/app", "", "/app", "/app", id="mount-point-itself"),
        pytest.param("/app/", "", "/app/", "/app", id="trailing-slash-script-name"),
        pytest.param("/app/", "/x", "/app//x", "/app", id="trailing-slash-keeps-url"),
        pytest.param("", "", "/", "", id="both-empty"),
        pytest.param("", "/caf\xc3\xa9", "/café", "", id="utf8"),
        pytest.param("", "/\xff", "/\ufffd", "", id="invalid-utf8-replaced"),
        pytest.param("/\xff", "/x", "/\ufffd/x", "/\ufffd", id="invalid-utf8-script-name"),
    ],
)
def test_build_scope_path_and_root_path(
    script_name: str, path_info: str, path: str, root_path: str
) -> None:
    """PEP 3333 "URL Reconstruction": ``path`` is ``SCRIPT_NAME + PATH_INFO``, UTF-8 decoded."""
    scope = build_scope(checked(make_environ(SCRIPT_NAME=script_name, PATH_INFO=path_info)))
    assert (scope["path"], scope["root_path"]) == (path, root_path)


def test_build_scope_treats_slash_script_name_as_empty() -> None:
    """wsgiref.validate forbids ``SCRIPT_NAME == "/"``; servers that send it mean ``""``."""
    scope = build_scope(make_environ(SCRIPT_NAME="/", PATH_INFO="/x"))
    assert (scope["path"], scope["root_path"]) == ("/x", "")


@pytest.mark.parametrize(
    ("overrides", "raw_path"),
    [
        pytest.param({"PATH_INFO": "/a b"}, b"/a%20b", id="quoted-from-path"),
        pytest.param({"PATH_INFO": "/\xff"}, b"/%FF", id="quoted-non-utf8"),
        pytest.param({"PATH_INFO": "/a;b=c@d"}, b"/a;b=c@d", id="pchar-kept"),
        pytest.param({"PATH_INFO": "/a/b", "RAW_URI": "/a%2Fb?x=1"}, b"/a%2Fb", id="raw-uri"),
        pytest.param({"PATH_INFO": "/a/b", "REQUEST_URI": "/a%2fb"}, b"/a%2fb", id="request-uri"),
        pytest.param(
            {"PATH_INFO": "/a/b", "RAW_URI": "/other", "REQUEST_URI": "/a%2Fb"},
            b"/a%2Fb",
            id="request-uri-when-raw-uri-disagrees",
        ),
        pytest.param(
            {"PATH_INFO": "/a/b", "RAW_URI": "http://example.com/a%2Fb?q"},
            b"/a%2Fb",
            id="absolute-form",
        ),
        pytest.param({"PATH_INFO": "//x/y", "RAW_URI": "//x/%79"}, b"//x/%79", id="double-slash"),
        pytest.param(
            {"SCRIPT_NAME": "/app", "PATH_INFO": "/x", "RAW_URI": "/app/%78"},
            b"/app/%78",
            id="raw-uri-includes-script-name",
        ),
        pytest.param({"PATH_INFO": "/x", "RAW_URI": "/y"}, b"/x", id="disagreeing-raw-uri"),
        pytest.param({"PATH_INFO": "/x", "RAW_URI": ""}, b"/x", id="empty-raw-uri"),
        pytest.param({"PATH_INFO": "/x", "RAW_URI": "/€"}, b"/x", id="non-latin1-raw-uri"),
        pytest.param({"PATH_INFO": "/x", "RAW_URI": "http://[::1/x"}, b"/x", id="bad-authority"),
    ],
)
def test_build_scope_raw_path(overrides: dict[str, Any], raw_path: bytes) -> None:
    """ASGI ``raw_path`` is the path of the request target (RFC 9112 3.2) or ``path`` re-quoted."""
    assert build_scope(checked(make_environ(**overrides)))["raw_path"] == raw_path


def test_build_scope_ignores_a_raw_uri_that_is_not_a_str() -> None:
    """PEP 3333: CGI variables are native strings; a bytes ``RAW_URI`` is not trusted."""
    assert build_scope(make_environ(PATH_INFO="/x", RAW_URI=b"/%78"))["raw_path"] == b"/x"


def test_build_scope_raw_path_of_asterisk_form() -> None:
    """RFC 9112 3.2.4: ``OPTIONS *``; gunicorn passes ``PATH_INFO="*"``, which validate refuses."""
    scope = build_scope(make_environ(REQUEST_METHOD="OPTIONS", PATH_INFO="*", RAW_URI="*"))
    assert (scope["path"], scope["raw_path"]) == ("*", b"*")


@pytest.mark.parametrize(
    ("query", "expected"), [("a=1", b"a=1"), ("a=\xff\x80", b"a=\xff\x80"), (None, b"")]
)
def test_build_scope_query_string_is_latin1_bytes(query: str | None, expected: bytes) -> None:
    """ASGI ``query_string`` bytes from PEP 3333 ``QUERY_STRING`` (bytes as latin-1)."""
    environ = make_environ(QUERY_STRING=query)
    if query is not None:
        checked(environ)
    assert build_scope(environ)["query_string"] == expected


@pytest.mark.parametrize(
    ("overrides", "headers"),
    [
        pytest.param({"CONTENT_TYPE": "a/b"}, [(b"content-type", b"a/b")], id="content-type"),
        pytest.param({"CONTENT_LENGTH": "0"}, [(b"content-length", b"0")], id="content-length"),
        pytest.param({"CONTENT_TYPE": "", "CONTENT_LENGTH": ""}, [], id="empty-content-keys"),
        pytest.param({"HTTP_X_A_B": "1"}, [(b"x-a-b", b"1")], id="dashes"),
        pytest.param({"HTTP_X_A": "\xe9"}, [(b"x-a", b"\xe9")], id="latin1-value"),
        pytest.param({"HTTP_X_A": ""}, [(b"x-a", b"")], id="empty-value"),
        pytest.param({"HTTP_": "1", "HTTP_A B": "1", "HTTP_\u0100": "1"}, [], id="not-tokens"),
        pytest.param({"HTTPS": "on", "http_x": "1"}, [], id="not-http-keys"),
    ],
)
def test_build_scope_headers(overrides: dict[str, str], headers: list[tuple[bytes, bytes]]) -> None:
    """ASGI ``headers``: lower-case byte pairs from ``CONTENT_*`` and ``HTTP_*`` (RFC 3875 4.1)."""
    assert build_scope(checked(make_environ(**overrides)))["headers"] == headers


def test_build_scope_ignores_http_content_keys() -> None:
    """PEP 3333: ``HTTP_CONTENT_TYPE``/``LENGTH`` must not exist; if present, they are not sent."""
    environ = make_environ(HTTP_CONTENT_TYPE="a/b", HTTP_CONTENT_LENGTH="1")
    assert build_scope(environ)["headers"] == []


@pytest.mark.parametrize(
    ("overrides", "client", "server"),
    [
        pytest.param(
            {"REMOTE_ADDR": "1.2.3.4", "REMOTE_PORT": "5678"},
            ("1.2.3.4", 5678),
            ("example.com", 80),
            id="client",
        ),
        pytest.param({"REMOTE_ADDR": "::1"}, ("::1", 0), ("example.com", 80), id="no-port"),
        pytest.param(
            {"REMOTE_ADDR": "::1", "REMOTE_PORT": "x"}, ("::1", 0), ("example.com", 80), id="bad"
        ),
        pytest.param({"REMOTE_ADDR": ""}, None, ("example.com", 80), id="empty-addr"),
        pytest.param({"SERVER_PORT": "8443"}, None, ("example.com", 8443), id="server-port"),
        pytest.param({"SERVER_PORT": "99999"}, None, ("example.com", 80), id="port-too-big"),
        pytest.param({"SERVER_PORT": "123456"}, None, ("example.com", 80), id="six-digits"),
        pytest.param({"SERVER_PORT": "\u0661"}, None, ("example.com", 80), id="arabic-digit"),
        pytest.param(
            {"SERVER_PORT": "", "wsgi.url_scheme": "https"},
            None,
            ("example.com", 443),
            id="https-default",
        ),
        pytest.param({"SERVER_NAME": ""}, None, ("localhost", 80), id="no-server-name"),
    ],
)
def test_build_scope_client_and_server_have_int_ports(
    overrides: dict[str, str], client: tuple[str, int] | None, server: tuple[str, int]
) -> None:
    """ASGI ``client``/``server`` are ``[host, int port]`` from ``REMOTE_*``/``SERVER_*``."""
    scope = build_scope(checked(make_environ(**overrides)))
    assert (scope["client"], scope["server"]) == (client, server)


def test_build_scope_extensions_hold_the_environ_and_the_callers() -> None:
    """``extensions["wsgi.environ"]`` is the environ itself; the caller's mapping is not changed."""
    environ = checked(make_environ())
    theirs: dict[str, dict[object, object]] = {"http.response.pathsend": {}}
    scope = build_scope(environ, extensions=theirs)
    assert scope["extensions"] == {"http.response.pathsend": {}, "wsgi.environ": environ}
    assert scope["extensions"]["wsgi.environ"] is environ  # type: ignore[index]
    assert theirs == {"http.response.pathsend": {}}


@pytest.mark.parametrize(
    ("overrides", "method", "scheme"),
    [({}, "GET", "http"), ({"REQUEST_METHOD": "get", "wsgi.url_scheme": ""}, "GET", "http")],
)
def test_build_scope_method_is_upper_case_and_scheme_never_empty(
    overrides: dict[str, str], method: str, scheme: str
) -> None:
    """ASGI ``method`` is "uppercased"; ``scheme`` is optional "but must not be empty"."""
    scope = build_scope(make_environ(**overrides))
    assert (scope["method"], scope["scheme"]) == (method, scheme)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("PATH_INFO", "/€"),
        ("SCRIPT_NAME", "/€"),
        ("QUERY_STRING", "a=€"),
        ("CONTENT_TYPE", "text/€"),
        ("HTTP_X_A", "€"),
        ("PATH_INFO", b"/x"),
        ("QUERY_STRING", 5),
    ],
)
def test_build_scope_non_latin1_values_are_server_error(key: str, value: object) -> None:
    """PEP 3333 "Unicode Issues": environ strings must be latin-1 native strings."""
    with pytest.raises(ServerError, match=re.escape(f"environ[{key!r}] must be a latin-1")):
        build_scope(make_environ(**{key: value}))


# --- status lines ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "line"),
    [
        (100, "100 Continue"),
        (200, "200 OK"),
        (204, "204 No Content"),
        (404, "404 Not Found"),
        (500, "500 Internal Server Error"),
        (299, "299 Unknown"),
        (599, "599 Unknown"),
    ],
)
def test_status_line(code: int, line: str) -> None:
    """PEP 3333 ``status``: code, space, reason phrase; unknown codes still get a valid line."""
    assert status_line(code) == line
    assert parse_status(line) == code


@pytest.mark.parametrize("code", [99, 600, 1000, -200, True, "200", 200.0, None])
def test_status_line_refuses_invalid_codes(code: object) -> None:
    """RFC 9110 15: status codes are integers from 100 to 599."""
    with pytest.raises(ApplicationError, match="integer from 100 to 599, got"):
        status_line(code)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        pytest.param("200 OK", 200, id="ok"),
        pytest.param("200", 200, id="no-reason"),
        pytest.param("200 ", 200, id="empty-reason"),
        pytest.param("404 Not Found", 404, id="multi-word"),
        pytest.param("299 Whatever", 299, id="unknown-code"),
        pytest.param("599 x", 599, id="highest"),
        pytest.param("100 Continue", 100, id="lowest"),
        pytest.param("200 Ok\tfine", 200, id="tab"),
        pytest.param("200 \xd6kay", 200, id="latin1-obs-text"),
    ],
)
def test_parse_status_accepts(status: str, code: int) -> None:
    """PEP 3333 ``status``; RFC 9112 4 ``reason-phrase = *( HTAB / SP / VCHAR / obs-text )``."""
    assert parse_status(status) == code


@pytest.mark.parametrize(
    "status",
    [
        "",
        "OK",
        "20 OK",
        "2000 OK",
        "200OK",
        " 200 OK",
        "099 Low",
        "600 Too High",
        "200 OK\r\n",
        "200 OK\nSet-Cookie: a=1",
        "200 OK\x00",
        "200 OK\x7f",
        "200 \u20ac",
        "\uff12\uff10\uff10 OK",
    ],
)
def test_parse_status_refuses_garbage(status: str) -> None:
    """PEP 3333: status must not hold control characters; RFC 9110 15: code 100 to 599."""
    with pytest.raises(ApplicationError, match="code from 100 to 599, got"):
        parse_status(status)


@pytest.mark.parametrize("status", [200, True, None, b"200 OK", ("200", "OK")])
def test_parse_status_refuses_non_str(status: object) -> None:
    """PEP 3333: ``status`` is a native string."""
    with pytest.raises(ApplicationError, match="status must be a str"):
        parse_status(status)


@pytest.mark.parametrize(
    ("status", "method", "has_body"),
    [
        (200, "GET", True),
        (404, "POST", True),
        (200, "HEAD", False),
        (500, "HEAD", False),
        (100, "GET", False),
        (101, "GET", False),
        (199, "GET", False),
        (204, "GET", False),
        (304, "GET", False),
        (304, "HEAD", False),
    ],
)
def test_response_has_body(status: int, method: str, has_body: bool) -> None:
    """RFC 9110 6.4.1: no content for HEAD, 1xx, 204 and 304 responses."""
    assert response_has_body(status, method) is has_body


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, b"400 Bad Request\n"),
        (500, b"500 Internal Server Error\n"),
        (504, b"504 Gateway Timeout\n"),
    ],
)
def test_error_response(status: int, body: bytes) -> None:
    """The plain-text answer to a failed request, with an exact Content-Length (RFC 9110 8.6)."""
    headers, actual = error_response(status)
    assert actual == body
    assert headers == [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    assert response_content_length(headers) == len(body)


def test_error_response_refuses_invalid_status() -> None:
    """RFC 9110 15: bridge never answers with an invalid status code either."""
    with pytest.raises(ApplicationError, match="from 100 to 599, got 600"):
        error_response(600)


# --- response headers --------------------------------------------------------------------------


def test_wsgi_headers_to_asgi_lower_cases_names_and_encodes_latin1() -> None:
    """ASGI "Response Start": lower-case byte names; PEP 3333 headers are latin-1 strings."""
    headers = [("Content-Type", "text/html"), ("X-A", ""), ("X-B", "caf\xe9\tok")]
    assert wsgi_headers_to_asgi(headers) == HeaderTranslation(
        [(b"content-type", b"text/html"), (b"x-a", b""), (b"x-b", b"caf\xe9\tok")], []
    )


def test_asgi_headers_to_wsgi_decodes_latin1() -> None:
    """ASGI header byte pairs (lists or tuples) become PEP 3333 ``(str, str)`` tuples."""
    headers = [(b"content-type", b"text/html"), [b"X-A", b"\xe9"], (b"x-b", b"")]
    assert asgi_headers_to_wsgi(headers) == HeaderTranslation(
        [("content-type", "text/html"), ("X-A", "\xe9"), ("x-b", "")], []
    )


def test_response_header_values_lose_surrounding_whitespace_rfc9110_5_5() -> None:
    """RFC 9110 5.5: leading/trailing SP and HTAB are not part of a field value.

    Django writes ``Set-Cookie`` with a leading space; h11 refuses such a value outright.
    """
    wsgi = [("Set-Cookie", " csrftoken=abc; Path=/"), ("X-A", "\t a b \t")]
    assert wsgi_headers_to_asgi(wsgi).headers == [
        (b"set-cookie", b"csrftoken=abc; Path=/"),
        (b"x-a", b"a b"),
    ]
    asgi = [(b"set-cookie", b" csrftoken=abc; Path=/ "), (b"x-a", b"\ta b\t")]
    assert asgi_headers_to_wsgi(asgi).headers == [
        ("set-cookie", "csrftoken=abc; Path=/"),
        ("x-a", "a b"),
    ]


@pytest.mark.parametrize("name", HOP_BY_HOP)
def test_hop_by_hop_headers_are_dropped_and_reported(name: str) -> None:
    """PEP 3333 "Other HTTP Features": apps must not send hop-by-hop headers (RFC 9110 7.6.1)."""
    wsgi = [("X-A", "1"), (name, "x"), ("X-B", "2")]
    asgi = [(b"x-a", b"1"), (name.encode(), b"x"), (b"x-b", b"2")]
    assert wsgi_headers_to_asgi(wsgi) == ([(b"x-a", b"1"), (b"x-b", b"2")], [name.lower()])
    assert asgi_headers_to_wsgi(asgi) == ([("x-a", "1"), ("x-b", "2")], [name.lower()])


UNSAFE_VALUES = [
    pytest.param("a\r\nSet-Cookie: x=1", id="crlf-injection"),
    pytest.param("a\rb", id="cr"),
    pytest.param("a\nb", id="lf"),
    pytest.param("a\x00b", id="nul"),
    pytest.param("a\x01b", id="other-control"),
    pytest.param("a\x7fb", id="del"),
]
BAD_NAMES = [
    pytest.param("", id="empty"),
    pytest.param("X A", id="space"),
    pytest.param("X:A", id="colon"),
    pytest.param("X\r\nA", id="crlf"),
    pytest.param("X(A)", id="separator"),
    pytest.param("\xc4", id="latin1-letter"),
]


@pytest.mark.parametrize("value", UNSAFE_VALUES)
def test_response_header_values_with_control_characters_are_refused(value: str) -> None:
    """RFC 9110 5.5: CR, LF and NUL (header injection) and other CTLs are invalid in values."""
    with pytest.raises(ApplicationError, match="'X-A' holds a control character"):
        wsgi_headers_to_asgi([("X-A", value)])
    with pytest.raises(ApplicationError, match="'X-A' holds a control character"):
        asgi_headers_to_wsgi([(b"X-A", value.encode("latin-1"))])
    with pytest.raises(ApplicationError, match="'Location' holds a control character"):
        wsgi_headers_to_asgi([("Location", value)])  # a common name, checked another way


def test_response_header_values_may_hold_htab_and_latin1() -> None:
    """RFC 9110 5.5: HTAB and obs-text (0x80-0xFF) are allowed inside a field value."""
    wsgi = [("Content-Type", "a\tb\xe9"), ("X-A", "a\tb\xe9")]
    assert wsgi_headers_to_asgi(wsgi).headers == [
        (b"content-type", b"a\tb\xe9"),
        (b"x-a", b"a\tb\xe9"),
    ]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_response_header_names_must_be_tokens(name: str) -> None:
    """RFC 9110 5.1: a field name is a ``token``."""
    with pytest.raises(ApplicationError, match="name is not an HTTP token"):
        wsgi_headers_to_asgi([(name, "1")])
    with pytest.raises(ApplicationError, match="name is not an HTTP token"):
        asgi_headers_to_wsgi([(name.encode("latin-1"), b"1")])


def test_wsgi_header_values_must_be_latin1() -> None:
    """PEP 3333 "Unicode Issues": header strings must be representable in latin-1."""
    with pytest.raises(ApplicationError, match="'X-A' is not latin-1"):
        wsgi_headers_to_asgi([("X-A", "\u20ac")])


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        pytest.param((("a", "b"),), "must be a list, got tuple", id="tuple-of-headers"),
        pytest.param(None, "must be a list, got NoneType", id="none"),
        pytest.param([["a", "b"]], "must be a \\(name, value\\) tuple", id="list-item"),
        pytest.param([("a", "b", "c")], "must be a \\(name, value\\) tuple", id="three-items"),
        pytest.param([(b"a", b"b")], "name and value must be str", id="bytes"),
        pytest.param([("a", 1)], "name and value must be str", id="int-value"),
    ],
)
def test_wsgi_headers_to_asgi_refuses_wrong_shapes(headers: object, message: str) -> None:
    """PEP 3333 ``start_response``: ``response_headers`` is a list of ``(str, str)`` tuples."""
    with pytest.raises(ApplicationError, match=message):
        wsgi_headers_to_asgi(headers)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        pytest.param(None, "must be an iterable of pairs", id="none"),
        pytest.param(5, "must be an iterable of pairs", id="int"),
        pytest.param([(b"a",)], "must be a \\[name, value\\] pair of bytes", id="one-item"),
        pytest.param([(b"a", b"b", b"c")], "pair of bytes", id="three-items"),
        pytest.param([("a", "b")], "pair of bytes", id="str-pair"),
        pytest.param([b"ab"], "pair of bytes", id="bytes-as-pair"),
        pytest.param([5], "pair of bytes", id="int-pair"),
    ],
)
def test_asgi_headers_to_wsgi_refuses_wrong_shapes(headers: Any, message: str) -> None:
    """ASGI "Response Start": ``headers`` is an iterable of ``[name, value]`` byte pairs."""
    with pytest.raises(ApplicationError, match=message):
        asgi_headers_to_wsgi(headers)


@pytest.mark.parametrize(
    ("headers", "length"),
    [
        pytest.param([], None, id="none"),
        pytest.param([(b"x-a", b"1")], None, id="other-headers"),
        pytest.param([(b"content-length", b"12")], 12, id="one"),
        pytest.param([(b"Content-Length", b" 12 ")], 12, id="case-and-spaces"),
        pytest.param([(b"content-length", b"0")], 0, id="zero"),
        pytest.param([(b"content-length", b"7"), (b"content-length", b"7")], 7, id="equal"),
    ],
)
def test_response_content_length(headers: list[tuple[bytes, bytes]], length: int | None) -> None:
    """RFC 9110 8.6: ``Content-Length = 1*DIGIT``; equal repeats count once."""
    assert response_content_length(headers) == length


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param([b"1", b"2"], "conflicting content-length values", id="conflicting"),
        pytest.param([b"x"], "non-negative integer, got b'x'", id="letters"),
        pytest.param([b"-1"], "non-negative integer", id="negative"),
        pytest.param([b""], "non-negative integer", id="empty"),
    ],
)
def test_response_content_length_refuses_invalid(values: list[bytes], message: str) -> None:
    """RFC 9110 8.6: any other Content-Length is invalid, and the app broke the response."""
    with pytest.raises(ApplicationError, match=message):
        response_content_length([(b"content-length", value) for value in values])


# --- properties --------------------------------------------------------------------------------

latin1 = st.text(st.characters(max_codepoint=0xFF), max_size=20)
segment = st.text(st.characters(max_codepoint=0xFF, exclude_characters="/"), min_size=1, max_size=8)
header_key = (
    st.lists(st.text("ABCXYZ0189", min_size=1, max_size=5), min_size=1, max_size=3)
    .map(lambda parts: "HTTP_" + "_".join(parts))
    .filter(lambda key: key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"))
)


@st.composite
def cgi_environs(draw: st.DrawFn) -> WSGIEnvironment:
    """Valid PEP 3333 environs whose paths and query strings hold arbitrary bytes."""
    script_name = "".join("/" + part for part in draw(st.lists(segment, max_size=3)))
    path_info = "/" + draw(latin1)
    if script_name and draw(st.booleans()):
        path_info = ""
    environ = make_environ(
        REQUEST_METHOD=draw(st.sampled_from(VALIDATE_METHODS)),
        SCRIPT_NAME=script_name,
        PATH_INFO=path_info,
        QUERY_STRING=draw(latin1),
        SERVER_NAME=draw(st.sampled_from(["localhost", "example.com", "10.0.0.1", "::1"])),
        SERVER_PORT=str(draw(st.integers(1, 65535))),
        SERVER_PROTOCOL=draw(st.sampled_from(["HTTP/1.0", "HTTP/1.1", "HTTP/2"])),
        **{"wsgi.url_scheme": draw(st.sampled_from(["http", "https"]))},
        **draw(st.dictionaries(header_key, latin1, max_size=8)),
    )
    if draw(st.booleans()):
        environ["CONTENT_TYPE"] = draw(latin1.filter(bool))
        environ["CONTENT_LENGTH"] = str(draw(st.integers(0, 10**12)))
    if draw(st.booleans()):
        environ["REMOTE_ADDR"] = draw(st.sampled_from(["127.0.0.1", "::1"]))
        environ["REMOTE_PORT"] = str(draw(st.integers(0, 65535)))
    return checked(environ)


@PROPERTY
@given(cgi_environs())
def test_environ_to_scope_to_environ_keeps_every_cgi_key(environ: WSGIEnvironment) -> None:
    """PEP 3333 <-> ASGI "WSGI Compatibility": the mapping loses no CGI variable."""
    again = environ_of(build_scope(environ), duplicate_header_limit=1)
    cgi_keys = {key for key in environ if "." not in key}
    assert {key: again[key] for key in cgi_keys} == {key: environ[key] for key in cgi_keys}
    assert {key for key in again if key.startswith("HTTP_")} == {
        key for key in environ if key.startswith("HTTP_")
    }


path_bytes = st.binary(max_size=20)
root_segment = st.binary(min_size=1, max_size=6).filter(lambda part: b"/" not in part)
token_name = st.text(TOKEN_CHARS, min_size=1, max_size=12).filter(
    lambda name: name.lower() not in ("content-length", "host")  # each has its own rule
)


@st.composite
def asgi_scopes(draw: st.DrawFn) -> HTTPScope:
    """Valid HTTP scopes whose ``raw_path`` holds arbitrary bytes inside ``root_path``."""
    root = b"".join(b"/" + part for part in draw(st.lists(root_segment, max_size=3)))
    rest = draw(
        st.just(b"") | path_bytes.map(b"/".__add__) if root else path_bytes.map(b"/".__add__)
    )
    full = root + rest
    safe = draw(st.sampled_from(["/", PCHAR]))
    headers = draw(st.lists(st.tuples(token_name, st.binary(max_size=10)), max_size=20))
    return make_scope(
        path=full.decode("utf-8", "replace"),
        raw_path=quote(full, safe=safe).encode() if draw(st.booleans()) else None,
        root_path=root.decode("utf-8", "replace"),
        query_string=draw(st.binary(max_size=20)),
        headers=[(name.encode(), value) for name, value in headers],
    )


def joined_headers(headers: list[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    """Group headers by lower-case name and join repeats as PEP 3333 environs must."""
    grouped: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        grouped.setdefault(name.lower(), []).append(value)
    return {
        name: (b"; " if name == b"cookie" else b",").join(values)
        for name, values in grouped.items()
    }


@PROPERTY
@given(asgi_scopes())
def test_scope_to_environ_to_scope_keeps_path_query_and_headers(scope: HTTPScope) -> None:
    """ASGI ``path``/``root_path``/``raw_path``/``query_string``/``headers`` survive WSGI."""
    again = build_scope(environ_of(scope))
    assert again["path"] == scope["path"]
    assert again["root_path"] == scope["root_path"]
    assert again["query_string"] == scope["query_string"]
    assert joined_headers(again["headers"]) == joined_headers(scope["headers"])  # type: ignore[arg-type]
    # Without raw_path the bytes behind U+FFFD are gone; path's UTF-8 form, re-quoted, is kept.
    assert again["raw_path"] == (
        scope.get("raw_path") or quote(scope["path"].encode(), safe=PCHAR).encode()
    )


odd_text = st.one_of(
    st.text(max_size=12),
    latin1,
    st.sampled_from(["", "/", "//", "*", "/a/", "/\udcff", "/\ud800", "http://x/"]),
)
odd_path = odd_text | odd_text.map("/".__add__)
odd_headers = st.one_of(
    st.lists(st.tuples(st.binary(max_size=8), st.binary(max_size=8)), max_size=5),
    st.lists(  # floods of names with limits, joining rules and spoofing rules
        st.tuples(
            st.sampled_from([b"host", b"content-length", b"cookie", b"x_a", b"X-A", b""]),
            st.sampled_from([b"", b"1", b"example.com:80", b"[::1]", b"\xff"]),
        ),
        max_size=300,
    ),
)


@st.composite
def odd_scopes(draw: st.DrawFn) -> HTTPScope:
    """HTTP scopes with odd paths, bytes and header floods, and optional keys left out."""
    scope: dict[str, Any] = {
        "type": "http",
        "method": draw(st.sampled_from(VALIDATE_METHODS)),
        "path": draw(odd_path),
        "headers": draw(odd_headers),
    }
    optional = {
        "raw_path": st.one_of(st.none(), st.binary(max_size=12)),
        "root_path": odd_path,
        "query_string": st.binary(max_size=12),
        "scheme": st.sampled_from(["http", "https", ""]),
        "http_version": st.sampled_from(["1.0", "1.1", "2"]),
        "server": st.one_of(
            st.none(), st.tuples(odd_text, st.one_of(st.none(), st.integers(0, 65535)))
        ),
        "client": st.one_of(st.none(), st.tuples(odd_text, st.integers(0, 65535))),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            scope[key] = draw(strategy)
    return scope  # type: ignore[return-value]


@PROPERTY
@given(odd_scopes(), st.integers(1, 200))
def test_odd_scopes_give_a_valid_environ_or_a_bridge_error(scope: HTTPScope, limit: int) -> None:
    """Whatever the scope, ``build_environ`` returns a valid environ or raises ``BridgeError``."""
    with contextlib.suppress(BridgeError):
        environ_of(scope, duplicate_header_limit=limit)


odd_value = st.one_of(st.none(), odd_text, st.binary(max_size=8), st.integers())
environ_keys = st.sampled_from(
    [
        "SCRIPT_NAME",
        "PATH_INFO",
        "QUERY_STRING",
        "RAW_URI",
        "REQUEST_URI",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "REMOTE_ADDR",
        "REMOTE_PORT",
        "REQUEST_METHOD",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "HTTP_HOST",
        "HTTP_",
        "HTTP_X_A",
        "wsgi.url_scheme",
    ]
)


@PROPERTY
@given(st.dictionaries(environ_keys, odd_value))
def test_odd_environs_give_a_scope_or_a_bridge_error(environ: WSGIEnvironment) -> None:
    """Whatever the environ, ``build_scope`` returns a well-typed scope or a ``BridgeError``."""
    try:
        scope = build_scope(environ)
    except BridgeError:
        return
    assert isinstance(scope["path"], str)
    assert isinstance(scope["raw_path"], bytes)
    assert isinstance(scope["query_string"], bytes)
    assert all(type(n) is bytes and type(v) is bytes for n, v in scope["headers"])
    assert type(scope["server"][1]) is int  # type: ignore[index]
    assert scope["client"] is None or type(scope["client"][1]) is int


@pytest.mark.parametrize(
    "pair",
    [
        pytest.param((b"content-type", b" text/plain "), id="common-name"),
        pytest.param([b"content-type", b"text/plain"], id="list-pair"),
        pytest.param((b"content-type", b"a\tb\xe9"), id="htab-and-latin1"),
        pytest.param((b"Content-Type", b"text/plain"), id="not-lower-case"),
        pytest.param((b"x-custom", b"1"), id="uncommon-name"),
    ],
)
def test_common_response_names_take_a_shortcut_with_the_same_result(pair: Any) -> None:
    """ASGI "Response Start" headers to PEP 3333: the shortcut for common names (checked once,
    ahead of time) gives what the full per-header checks give."""
    name, value = pair
    expected = (name.decode("latin-1"), value.decode("latin-1").strip(" \t"))
    assert asgi_headers_to_wsgi([pair]).headers == [expected]


@pytest.mark.parametrize("value", [b"a\r\nSet-Cookie: x=1", b"a\x00b", 5, "text/plain"])
def test_common_response_names_still_refuse_bad_values(value: Any) -> None:
    """RFC 9110 5.5 (no CR, LF or NUL in a field value) and ASGI's byte pairs hold for the
    common names too."""
    with pytest.raises(ApplicationError, match=r"control character|pair of bytes"):
        asgi_headers_to_wsgi([(b"content-type", value)])


def test_status_lines_of_unusual_codes() -> None:
    """PEP 3333 ``status``: registered codes get their phrase, others ``Unknown``; a bool is no
    status code, even though ``True == 1``."""
    assert status_line(418) == "418 I'm a Teapot"
    assert status_line(599) == "599 Unknown"
    with pytest.raises(ApplicationError, match="integer from 100 to 599"):
        status_line(True)


def test_header_environ_keys_are_memoised_per_name_and_cases_share_one_key() -> None:
    """PEP 3333 ``HTTP_`` variables: names differing only in case are one header (RFC 9110
    5.1) and are joined; the memoised name translation gives the same key for both."""
    environ = environ_of(make_scope(headers=[(b"X-Tag", b"a"), (b"x-tag", b"b")]))
    assert environ["HTTP_X_TAG"] == "a,b"


def test_an_ascii_raw_path_that_disagrees_with_path_loses_to_path() -> None:
    """ASGI ``raw_path`` is only used when it matches ``path`` (a middleware may have rewritten
    ``path``); the shortcut for plain ASCII paths keeps that rule."""
    environ = environ_of(make_scope(path="/rewritten", raw_path=b"/original"))
    assert (environ["PATH_INFO"], environ["RAW_URI"]) == ("/rewritten", "/rewritten")


def test_a_plain_raw_uri_that_disagrees_with_the_path_is_requoted() -> None:
    """``raw_path`` from ``RAW_URI`` only when it names the same path as ``SCRIPT_NAME`` +
    ``PATH_INFO`` (a WSGI middleware may have rewritten ``PATH_INFO``)."""
    environ = make_environ(PATH_INFO="/new", RAW_URI="/old")
    assert build_scope(environ)["raw_path"] == b"/new"


def test_bytearray_header_names_and_values_are_still_translated() -> None:
    """Byte strings that are not ``bytes`` (a ``bytearray``) take the uncached path both ways,
    with the same result as ``bytes``."""
    environ = environ_of(make_scope(headers=[(bytearray(b"X-Tag"), bytearray(b"a"))]))
    assert environ["HTTP_X_TAG"] == "a"
    pairs: Any = [(bytearray(b"content-type"), b"text/plain"), (b"content-type", bytearray(b"x"))]
    assert asgi_headers_to_wsgi(pairs).headers == [
        ("content-type", "text/plain"),
        ("content-type", "x"),
    ]


def test_response_start_checks_and_translates_start_response_arguments_once_each() -> None:
    """PEP 3333 ``start_response(status, response_headers)``: one memoised call gives the code,
    the ASGI headers, the dropped hop-by-hop names and the declared Content-Length; each call
    returns a new header list (the adapter appends to it), repeated calls give equal results,
    and arguments that fail the checks fail every time, hashable or not."""
    headers = [("Content-Type", "text/plain"), ("Connection", "close"), ("Content-Length", "2")]
    first = response_start("200 OK", headers)
    assert first == (200, [(b"content-type", b"text/plain"), (b"content-length", b"2")],
                     ("connection",), 2)  # fmt: skip
    first[1].append((b"x-added", b"1"))
    again = response_start("200 OK", list(headers))
    assert again == (200, [(b"content-type", b"text/plain"), (b"content-length", b"2")],
                     ("connection",), 2)  # fmt: skip
    assert again[1] is not first[1]
    assert response_start("404 Not Found", []) == (404, [], (), None)
    unhashable: Any = [["Content-Type", "text/plain"]]
    bad_calls: list[tuple[Any, Any, str]] = [
        ("200 OK", [("X A", "1")], "not an HTTP token"),
        ("20 OK", [], "status must be a code"),
        (["200 OK"], [], "status must be a str"),
        ("200 OK", unhashable, "must be a \\(name, value\\) tuple"),
        ("200 OK", ("Content-Type", "text/plain"), "must be a list"),
        ("200 OK", [("Content-Length", "x")], "non-negative integer"),
    ]
    for status, bad_headers, message in bad_calls:
        for _ in range(2):
            with pytest.raises(ApplicationError, match=message):
                response_start(status, bad_headers)


def test_a_repeated_response_header_list_gives_fresh_lists_and_the_same_result() -> None:
    """PEP 3333 ``start_response(status, response_headers)``: the memoised translation of a
    list an app sends again returns new lists each time (the adapter appends to them) and still
    reports the hop-by-hop names it dropped; a list that fails the checks fails every time."""
    headers = [("Content-Type", "text/plain"), ("Connection", "close"), ("Content-Length", "2")]
    first = wsgi_headers_to_asgi(headers)
    first.headers.append((b"x-added", b"1"))
    first.dropped.clear()
    again = wsgi_headers_to_asgi(list(headers))
    assert again == ([(b"content-type", b"text/plain"), (b"content-length", b"2")], ["connection"])
    for _ in range(2):
        with pytest.raises(ApplicationError, match="not an HTTP token"):
            wsgi_headers_to_asgi([("X A", "1")])
