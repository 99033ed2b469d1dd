"""``bridge._translate.scope``: the scope built from an environ, per ASGI HTTP spec rule."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bridge import ServerError
from bridge._translate import (
    ASGI_SPEC_VERSION,
    ENVIRON_EXTENSION,
    build_scope,
)
from tests.translate.helpers import (
    checked,
    make_environ,
)

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


def test_a_plain_raw_uri_that_disagrees_with_the_path_is_requoted() -> None:
    """``raw_path`` from ``RAW_URI`` only when it names the same path as ``SCRIPT_NAME`` +
    ``PATH_INFO`` (a WSGI middleware may have rewritten ``PATH_INFO``)."""
    environ = make_environ(PATH_INFO="/new", RAW_URI="/old")
    assert build_scope(environ)["raw_path"] == b"/new"
