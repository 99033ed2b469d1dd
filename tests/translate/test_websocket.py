"""``bridge._translate.websocket``: a WebSocket's opening handshake between environ and scope."""

from __future__ import annotations

import io
from typing import Any

import pytest

from bridge._translate.websocket import (
    WEBSOCKET_DENIAL,
    accept_token,
    build_websocket_environ,
    build_websocket_scope,
    handshake_headers,
    is_websocket_request,
    split_tokens,
)
from tests.translate.helpers import checked, make_environ, make_scope

UPGRADE = {
    "HTTP_UPGRADE": "websocket",
    "HTTP_CONNECTION": "Upgrade",
    "HTTP_SEC_WEBSOCKET_KEY": "dGhlIHNhbXBsZSBub25jZQ==",
    "HTTP_SEC_WEBSOCKET_VERSION": "13",
}


def ws_scope(**overrides: Any) -> Any:
    scope = dict(make_scope(**{"type": "websocket", "scheme": "ws", **overrides}))
    del scope["method"]
    scope.setdefault("subprotocols", [])
    return scope


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({}, True, id="plain"),
        pytest.param({"HTTP_UPGRADE": "WebSocket", "HTTP_CONNECTION": "keep-alive, upgrade"}, True,
                     id="case-and-lists"),
        pytest.param({"HTTP_UPGRADE": "h2c"}, False, id="other-protocol"),
        pytest.param({"HTTP_CONNECTION": "keep-alive"}, False, id="no-upgrade-token"),
        pytest.param({"REQUEST_METHOD": "POST"}, False, id="not-get"),
        pytest.param({"HTTP_UPGRADE": None}, False, id="no-upgrade-header"),
    ],
)  # fmt: skip
def test_is_websocket_request(overrides: dict[str, Any], expected: bool) -> None:
    """RFC 6455 4.2.1: a GET, ``Upgrade`` naming "websocket", ``Connection`` with "Upgrade"
    (both ASCII case-insensitive)."""
    environ = make_environ(**{**UPGRADE, **overrides})
    assert is_websocket_request(environ) is expected


def test_websocket_scope_from_an_upgrade_request() -> None:
    """ASGI "Websocket Connection Scope": no ``method``, ``ws``/``wss`` scheme, the offered
    ``subprotocols`` in order, the denial extension and the environ as extensions."""
    environ = make_environ(
        **UPGRADE,
        HTTP_SEC_WEBSOCKET_PROTOCOL="chat, superchat,,",
        PATH_INFO="/ws",
        QUERY_STRING="a=1",
    )
    environ["wsgi.url_scheme"] = "https"
    scope = build_websocket_scope(checked(environ))
    assert scope["type"] == "websocket"
    assert "method" not in scope
    assert scope["scheme"] == "wss"
    assert (scope["path"], scope["query_string"]) == ("/ws", b"a=1")
    assert list(scope["subprotocols"]) == ["chat", "superchat"]
    extensions = scope["extensions"] or {}
    assert WEBSOCKET_DENIAL in extensions
    assert extensions["wsgi.environ"] is environ


def test_environ_of_a_websocket_scope() -> None:
    """A WSGI app sees the HTTP/1.1 upgrade request: GET, ``http``/``https``, the handshake
    headers, the subprotocols, and no ``Sec-WebSocket-Extensions`` (negotiated by the server)."""
    headers = [
        (b"host", b"example.com"),
        (b"upgrade", b"websocket"),
        (b"connection", b"Upgrade"),
        (b"sec-websocket-key", b"a2V5a2V5a2V5a2V5a2V5aw=="),
        (b"sec-websocket-version", b"13"),
        (b"sec-websocket-extensions", b"permessage-deflate"),
    ]
    scope = ws_scope(scheme="wss", headers=headers, subprotocols=["chat", "v2"])
    environ = checked(
        build_websocket_environ(
            scope, key="unused", wsgi_input=io.BytesIO(), wsgi_errors=io.StringIO()
        )
    )
    assert (environ["REQUEST_METHOD"], environ["wsgi.url_scheme"]) == ("GET", "https")
    assert environ["HTTP_SEC_WEBSOCKET_KEY"] == "a2V5a2V5a2V5a2V5a2V5aw=="
    assert environ["HTTP_SEC_WEBSOCKET_PROTOCOL"] == "chat, v2"
    assert "HTTP_SEC_WEBSOCKET_EXTENSIONS" not in environ
    assert environ["asgi.scope"] is scope
    assert is_websocket_request(environ)


def test_environ_of_an_http2_websocket_gets_the_handshake_it_lacks() -> None:
    """RFC 8441: a WebSocket over HTTP/2 has no Upgrade, Connection or key; the app answers an
    HTTP/1.1 handshake, so bridge supplies them (with the key it is given) and a Host."""
    scope = ws_scope(http_version="2", headers=[], server=("10.0.0.1", 8443))
    environ = build_websocket_environ(
        scope, key="Zm9vYmFyYmF6cXV4MTIzNA==", wsgi_input=io.BytesIO(), wsgi_errors=io.StringIO()
    )
    assert is_websocket_request(environ)
    assert environ["HTTP_SEC_WEBSOCKET_KEY"] == "Zm9vYmFyYmF6cXV4MTIzNA=="
    assert environ["HTTP_SEC_WEBSOCKET_VERSION"] == "13"
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["HTTP_HOST"] == "10.0.0.1:8443"


def test_handshake_headers_and_tokens() -> None:
    """The request headers as an HTTP parser wants them, and comma-separated tokens."""
    environ = make_environ(**UPGRADE, CONTENT_TYPE="text/plain")
    headers = dict(handshake_headers(environ))
    assert headers[b"sec-websocket-key"] == b"dGhlIHNhbXBsZSBub25jZQ=="
    assert b"content-type" not in headers
    assert split_tokens(" a, ,b ,") == ["a", "b"]
    assert split_tokens(None) == []


def test_accept_token_is_the_rfc_6455_example() -> None:
    """RFC 6455 1.3: key "dGhlIHNhbXBsZSBub25jZQ==" gives "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="."""
    assert accept_token("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert accept_token(b"dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
