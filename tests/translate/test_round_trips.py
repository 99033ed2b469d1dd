"""``bridge._translate`` as a whole: Hypothesis properties of scope -> environ -> scope and back,
and of odd input (never a crash: a valid result or a bridge error)."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import quote
from wsgiref.types import WSGIEnvironment

from asgiref.typing import HTTPScope
from hypothesis import given
from hypothesis import strategies as st

from bridge import BridgeError
from bridge._translate import (
    build_scope,
)
from tests.translate.helpers import (
    PCHAR,
    PROPERTY,
    TOKEN_CHARS,
    VALIDATE_METHODS,
    checked,
    environ_of,
    make_environ,
    make_scope,
)

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
