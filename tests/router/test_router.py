"""``bridge._router.router``: the Router's options, mounting (what the matched app sees) and
scope types.

Prefix validation, app detection and matching (``bridge._router.table``) are in
``test_table.py``; the 404 replay in ``test_replay.py``; lifespan fan-out in ``test_lifespan.py``;
routes across interfaces (WsgiToAsgi, AsgiToWsgi) in ``test_router_cross.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

import bridge
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


# --- options -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "error"),
    [pytest.param(-1, ValueError, id="negative"), pytest.param(True, TypeError, id="bool"),
     pytest.param(1.5, TypeError, id="float")],
)  # fmt: skip
def test_replay_body_limit_is_validated(limit: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="replay_body_limit"):
        bridge.Router({}, replay_body_limit=limit)


def test_router_copies_routes_so_later_edits_change_nothing() -> None:
    routes: dict[str, Any] = {"/api": _asgi}
    router = bridge.Router(routes)
    routes["/other"] = _wsgi
    assert repr(router) == "<Router ['/api'] fallback=False>"
    assert repr(router.wsgi) == "<RouterWsgi of <Router ['/api'] fallback=False>>"


# --- mounting ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_asgi_path_outside_root_path_is_made_spec_conformant() -> None:
    """Older servers strip root_path from path; the mounted app gets path = root_path + rest."""
    echo = AsgiEcho("api")
    reply = await call_asgi(bridge.Router({"/api": echo}), http_scope("/api/x", "/mnt"))
    assert (payload(reply)["path"], payload(reply)["root_path"]) == ("/mnt/api/x", "/mnt/api")


@pytest.mark.anyio
async def test_asgi_child_scope_is_a_copy_and_the_rest_is_kept() -> None:
    echo = AsgiEcho("api")
    scope = http_scope("/api/x", raw_path=b"/api/x", query_string=b"q=1")
    await call_asgi(bridge.Router({"/api": echo}), scope)
    child = echo.scopes[0]
    assert child is not scope
    assert scope["root_path"] == ""
    assert child["state"] is scope["state"]
    assert (child["raw_path"], child["query_string"]) == (b"/api/x", b"q=1")


@pytest.mark.anyio
async def test_nested_routers_add_both_prefixes() -> None:
    echo = AsgiEcho("inner")
    router = bridge.Router({"/a": bridge.Router({"/b": echo})})
    reply = await call_asgi(router, http_scope("/a/b/c"))
    assert (payload(reply)["root_path"], payload(reply)["path"]) == ("/a/b", "/a/b/c")


def test_nested_routers_on_wsgi_stay_native() -> None:
    echo = WsgiEcho("inner")
    router = bridge.Router({"/a": bridge.Router({"/b": echo})})
    reply = call_wsgi(router.wsgi, environ_for("/a/b/c"))
    assert (payload(reply)["script_name"], payload(reply)["path_info"]) == ("/a/b", "/c")


def test_wsgi_app_is_called_natively_with_the_servers_objects() -> None:
    """No WsgiToAsgi in between: the server's input stream and keys reach the app unchanged."""
    echo = WsgiEcho("legacy")
    environ = environ_for("/old/page", **{"test.marker": object()})
    call_wsgi(bridge.Router({"/old": echo}).wsgi, environ)
    seen = echo.environs[0]
    assert seen["test.marker"] is environ["test.marker"]
    assert seen["wsgi.input"] is environ["wsgi.input"]
    assert "asgi.scope" not in seen
    assert environ["SCRIPT_NAME"] == ""  # the server's environ is not modified


def test_wsgi_script_name_slash_is_treated_as_empty() -> None:
    echo = WsgiEcho("api")
    environ = environ_for("/api/x", "/")  # wsgiref.validate refuses SCRIPT_NAME "/" itself
    reply = call_wsgi(bridge.Router({"/api": echo}).wsgi, environ, validate=False)
    assert payload(reply)["script_name"] == "/api"


@pytest.mark.anyio
async def test_unknown_scope_type_raises() -> None:
    with pytest.raises(ValueError, match="serves http, websocket and lifespan, got 'custom'"):
        await bridge.Router({})({"type": "custom"}, _never, _never)  # type: ignore[arg-type,typeddict-item]


async def _never(*args: Any) -> Any:
    raise AssertionError("not called")
