"""``bridge._translate.environ``: the environ built from a scope, per PEP 3333 and RFC rule."""

from __future__ import annotations

import io
import string
from typing import Any

import pytest
from asgiref.typing import HTTPScope
from hypothesis import given
from hypothesis import strategies as st

from bridge import BridgeError, ClientError, ServerError
from bridge._translate import (
    asgi_headers_to_wsgi,
    build_environ,
    declares_body,
)
from bridge._translate.environ import _request_target
from tests.translate.helpers import (
    PCHAR,
    PROPERTY,
    checked,
    environ_of,
    make_scope,
)

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
@pytest.mark.parametrize("server", [None, ("127.0.0.1", 8000)], ids=["no-server", "server"])
def test_build_environ_invalid_host_is_client_error(
    host: str, server: tuple[str, int] | None
) -> None:
    """RFC 9112 3.2: "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1
    request message that [...] contains [...] a Host header field with an invalid field value."
    Also when ``server`` gives the address (Uvicorn passes such a Host on): the app would build
    URLs from it."""
    scope = make_scope(server=server, headers=[(b"host", host.encode())])
    with pytest.raises(ClientError, match="host header is not a valid"):
        environ_of(scope)


def test_build_environ_valid_host_is_kept_when_server_gives_the_address() -> None:
    """ASGI ``server`` is authoritative for ``SERVER_NAME``; a valid Host is passed on as is."""
    environ = environ_of(make_scope(headers=[(b"host", b"example.com:8080")]))
    assert (environ["SERVER_NAME"], environ["HTTP_HOST"]) == ("127.0.0.1", "example.com:8080")


@pytest.mark.parametrize(
    "headers",
    [
        [(b"transfer-encoding", b"chunked"), (b"content-length", b"5")],
        [(b"content-length", b"100"), (b"transfer-encoding", b"gzip, chunked")],
    ],
    ids=["te-first", "cl-first"],
)
def test_build_environ_refuses_transfer_encoding_with_content_length(
    headers: list[tuple[bytes, bytes]],
) -> None:
    """RFC 9112 6.1: "A server MAY reject a request that contains both Content-Length and
    Transfer-Encoding [...]"; 6.3: Transfer-Encoding overrides Content-Length, and such a
    message "might indicate an attempt to perform request smuggling". bridge refuses it (400),
    as httptools and Gunicorn do, instead of trusting the Content-Length."""
    with pytest.raises(ClientError, match="both transfer-encoding and content-length"):
        environ_of(make_scope(headers=headers))


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


@pytest.mark.parametrize(
    ("headers", "declared"),
    [
        ([], False),
        ([(b"content-length", b"0")], False),
        ([(b"Content-Length", b" 0 ")], False),
        ([(b"content-length", b"12")], True),
        ([(b"Transfer-Encoding", b"chunked")], True),
        ([(b"host", b"x"), (b"transfer-encoding", b"gzip, chunked")], True),
    ],
)
def test_declares_body_follows_rfc9112_message_body_length(
    headers: list[tuple[bytes, bytes]], declared: bool
) -> None:
    """RFC 9112 6.3: a request has a body if it carries Transfer-Encoding or a Content-Length;
    one whose body is left unread cannot be followed on the same connection."""
    assert declares_body(headers) is declared
