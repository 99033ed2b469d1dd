"""``bridge._router.table``: prefix validation, app detection and segment-wise matching, through
``bridge.Router`` (and ``detect`` itself)."""

from __future__ import annotations

import functools
from typing import Any

import pytest

import bridge
from bridge._router.table import detect
from tests.router.helpers import (
    AsgiEcho,
    WsgiEcho,
    call_asgi,
    call_wsgi,
    environ_for,
    http_scope,
    payload,
)
from tests.router.helpers import asgi_never_called as _asgi
from tests.router.helpers import wsgi_never_called as _wsgi

pytestmark = pytest.mark.filterwarnings("error")


# --- prefix validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "error", "message"),
    [
        pytest.param("api", ValueError, "must start with '/'", id="no-leading-slash"),
        pytest.param("/api/", ValueError, "must not end with '/'", id="trailing-slash"),
        pytest.param("", ValueError, "must start with '/'", id="empty"),
        pytest.param("//api", ValueError, "empty, '.' or '..' segment", id="empty-segment"),
        pytest.param("/a//b", ValueError, "empty, '.' or '..' segment", id="double-slash"),
        pytest.param("/a/./b", ValueError, "empty, '.' or '..' segment", id="dot-segment"),
        pytest.param("/a/..", ValueError, "empty, '.' or '..' segment", id="dotdot-segment"),
        pytest.param("/api?x=1", ValueError, "without '\\?' or '#'", id="query"),
        pytest.param("/api#top", ValueError, "without '\\?' or '#'", id="fragment"),
        pytest.param("/%FF", ValueError, "percent-decode to UTF-8", id="not-utf8"),
        pytest.param(b"/api", TypeError, "must be a str", id="bytes"),
        pytest.param(None, TypeError, "must be a str", id="none"),
    ],
)
def test_prefix_is_validated_in_init(prefix: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        bridge.Router([(prefix, _asgi)])


@pytest.mark.parametrize(
    "routes",
    [
        pytest.param([("/api", _asgi), ("/api", _wsgi)], id="same-prefix-twice"),
        pytest.param([("/café", _asgi), ("/caf%C3%A9", _wsgi)], id="same-after-decoding"),
        pytest.param([("/", _asgi), ("/", _wsgi)], id="root-twice"),
    ],
)
def test_duplicate_prefixes_are_rejected(routes: Any) -> None:
    with pytest.raises(ValueError, match="repeats route"):
        bridge.Router(routes)


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        pytest.param("/api", "mapping or a sequence of pairs", id="str"),
        pytest.param(42, "mapping or a sequence of pairs", id="int"),
        pytest.param([("/api",)], "a \\(prefix, app\\) pair", id="one-tuple"),
        pytest.param([["/api", _asgi]], "a \\(prefix, app\\) pair", id="list-pair"),
    ],
)
def test_routes_shape_is_validated(routes: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        bridge.Router(routes)


# --- detection ---------------------------------------------------------------------------------


class _AsgiClass:
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None: ...


class _WsgiClass:
    def __call__(self, environ: Any, start_response: Any) -> list[bytes]:
        return []


class _WsgiAppClass:
    """PEP 3333 allows an app to be a class: calling it returns the iterable."""

    def __init__(self, environ: Any, start_response: Any) -> None: ...


async def _asgi_with_extra(scope: Any, receive: Any, send: Any, extra: int) -> None: ...


async def _async_two(environ: Any, start_response: Any) -> None: ...


def _sync_three(scope: Any, receive: Any, send: Any) -> Any: ...


def _varargs(*args: Any) -> Any: ...


@pytest.mark.parametrize(
    ("app", "kind"),
    [
        pytest.param(_asgi, "asgi", id="async-function"),
        pytest.param(_wsgi, "wsgi", id="sync-function"),
        pytest.param(_AsgiClass(), "asgi", id="async-__call__"),
        pytest.param(_WsgiClass(), "wsgi", id="sync-__call__"),
        pytest.param(_WsgiAppClass, "wsgi", id="wsgi-app-class"),
        pytest.param(functools.partial(_asgi_with_extra, extra=1), "asgi", id="partial-async"),
        pytest.param(_varargs, "wsgi", id="sync-varargs"),
        pytest.param(bridge.AsgiApp(_sync_three), "asgi", id="AsgiApp-overrides"),
        pytest.param(bridge.WsgiApp(max), "wsgi", id="WsgiApp-overrides"),
    ],
)
def test_detection(app: Any, kind: str) -> None:
    """An ASGI 3 app is an async callable of 3 args, a WSGI app a sync callable of 2."""
    asgi, wsgi = detect(app, "route '/x'")
    assert (asgi is not None, wsgi is not None) == (kind == "asgi", kind == "wsgi")


def test_nested_router_is_native_on_both_sides() -> None:
    inner = bridge.Router({})
    assert detect(inner, "route '/x'") == (inner, inner.wsgi)
    assert detect(inner.wsgi, "route '/x'") == (inner, inner.wsgi)


@pytest.mark.parametrize(
    ("app", "message"),
    [
        pytest.param(42, "not callable", id="not-callable"),
        pytest.param(_async_two, "async callable that does not take", id="async-two-args"),
        pytest.param(_sync_three, "takes neither", id="sync-three-args"),
        pytest.param(max, "takes neither", id="builtin-without-signature"),
    ],
)
def test_detection_failure_names_prefix_and_object(app: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message) as info:
        bridge.Router({"/legacy": app})
    assert "route '/legacy'" in str(info.value)
    assert repr(app) in str(info.value)


def test_detection_failure_of_fallback_names_it() -> None:
    with pytest.raises(TypeError, match=r"^fallback: "):
        bridge.Router({}, fallback=42)


# --- matching ----------------------------------------------------------------------------------


# (routes, path, root_path, expected app, child root_path, child PATH_INFO)
MATCHING = [
    pytest.param(["/api"], "/api/users", "", "/api", "/api", "/users", id="below-prefix"),
    pytest.param(["/api"], "/api", "", "/api", "/api", "", id="exact-prefix-empty-path-info"),
    pytest.param(["/api"], "/api/", "", "/api", "/api", "/", id="trailing-slash"),
    pytest.param(["/api"], "/apiary", "", None, None, None, id="segment-boundary"),
    pytest.param(["/api"], "/API", "", None, None, None, id="case-sensitive"),
    pytest.param(["/api"], "/", "", None, None, None, id="root-unmatched"),
    pytest.param(["/api", "/api/v2"], "/api/v2/x", "", "/api/v2", "/api/v2", "/x", id="longest"),
    pytest.param(
        ["/api/v2", "/api"], "/api/v2x", "", "/api", "/api", "/v2x", id="longest-boundary"
    ),
    pytest.param(["/", "/api"], "/other/x", "", "/", "", "/other/x", id="root-mount"),
    pytest.param(["/", "/api"], "/", "", "/", "", "/", id="root-mount-root"),
    pytest.param(["/api"], "/mnt/api/x", "/mnt", "/api", "/mnt/api", "/x", id="root-path-set"),
    pytest.param(["/api"], "/mnt/api", "/mnt/", "/api", "/mnt/api", "", id="root-path-slash"),
    pytest.param(["/mnt"], "/mnt/mnt/x", "/mnt", "/mnt", "/mnt/mnt", "/x", id="root-path-repeat"),
    pytest.param(["/café"], "/café/menu", "", "/café", "/café", "/menu", id="decoded-non-ascii"),
    pytest.param(["/caf%C3%A9"], "/café", "", "/caf%C3%A9", "/café", "", id="encoded-prefix"),
    pytest.param(["/a b"], "/a b/c", "", "/a b", "/a b", "/c", id="decoded-space"),
]


def _echo_routes(cls: type, prefixes: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    apps = {prefix: cls(prefix) for prefix in prefixes}
    return apps, dict(apps)


@pytest.mark.anyio
@pytest.mark.parametrize(("prefixes", "path", "root", "hit", "child_root", "rest"), MATCHING)
async def test_asgi_matching(
    prefixes: list[str], path: str, root: str, hit: str | None, child_root: str, rest: str
) -> None:
    """ASGI spec: the mounted app's ``path`` stays the full path; ``root_path`` grows."""
    apps, routes = _echo_routes(AsgiEcho, prefixes)
    reply = await call_asgi(bridge.Router(routes), http_scope(path, root))
    if hit is None:
        assert (reply.status, reply.body) == (404, b"404 Not Found\n")
        assert (b"content-type", b"text/plain; charset=utf-8") in reply.headers
        return
    assert payload(reply) == {"app": hit, "path": child_root + rest, "root_path": child_root,
                              "body": ""}  # fmt: skip
    assert apps[hit].scopes[0]["path"].startswith(apps[hit].scopes[0]["root_path"])


def _latin1(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


@pytest.mark.parametrize(("prefixes", "path", "root", "hit", "child_root", "rest"), MATCHING)
def test_wsgi_matching(
    prefixes: list[str], path: str, root: str, hit: str | None, child_root: str, rest: str
) -> None:
    """PEP 3333: ``SCRIPT_NAME`` grows by the prefix, ``PATH_INFO`` keeps the rest (or ``""``)."""
    _, routes = _echo_routes(WsgiEcho, prefixes)
    script_name = root.rstrip("/")
    environ = environ_for(_latin1(path[len(script_name) :]), _latin1(script_name))
    reply = call_wsgi(bridge.Router(routes).wsgi, environ)
    if hit is None:
        assert (reply.status, reply.body) == (404, b"404 Not Found\n")
        return
    expected = {"script_name": _latin1(child_root), "path_info": _latin1(rest)}
    assert payload(reply) == {"app": hit, "body": "", **expected}


@pytest.mark.anyio
async def test_asgi_percent_encoded_path_matches_on_decoded_path() -> None:
    """ASGI spec: ``path`` is decoded; ``raw_path`` is left as the client sent it."""
    echo = AsgiEcho("café")
    scope = http_scope("/café/x", raw_path=b"/caf%C3%A9/x")
    reply = await call_asgi(bridge.Router({"/café": echo}), scope)
    assert payload(reply)["root_path"] == "/café"
    assert echo.scopes[0]["raw_path"] == b"/caf%C3%A9/x"
