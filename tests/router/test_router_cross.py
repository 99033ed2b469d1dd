"""Router across interfaces: WSGI apps behind the ASGI router (one shared WsgiToAsgi), ASGI apps
behind ``router.wsgi`` (one shared AsgiToWsgi), fallback replay across them, and apps the user
wrapped already (unwrapped, so never WSGI -> ASGI -> WSGI).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import bridge
from bridge._router.router import TARGET_KEY
from tests.router.helpers import (
    AsgiEcho,
    WsgiEcho,
    call_asgi,
    call_wsgi,
    environ_for,
    http_scope,
    payload,
)
from tests.router.test_lifespan import BOTH, LifespanApp


@pytest.fixture
def closing() -> Iterator[list[bridge.Router]]:
    """Routers a test registers here get ``router.wsgi.close()`` (the loop thread's join path)."""
    routers: list[bridge.Router] = []
    yield routers
    for router in routers:
        router.wsgi.close()


# --- WSGI apps behind the ASGI router ----------------------------------------------------------


@pytest.mark.anyio
async def test_wsgi_app_behind_asgi_router_sees_script_name_and_path_info() -> None:
    """PEP 3333 via WsgiToAsgi: SCRIPT_NAME is root_path, PATH_INFO the rest; validate passes."""
    legacy = WsgiEcho("legacy", read_body=True)
    scope = http_scope("/mnt/old/page", "/mnt", method="POST",
                       headers=[(b"host", b"t"), (b"content-length", b"4")])  # fmt: skip
    reply = await call_asgi(bridge.Router({"/old": legacy}), scope, [b"da", b"ta"])
    assert payload(reply) == {"app": "legacy", "script_name": "/mnt/old", "path_info": "/page",
                              "body": "data"}  # fmt: skip
    environ = legacy.environs[0]
    assert environ["asgi.scope"][TARGET_KEY] is legacy  # through the one shared WsgiToAsgi


@pytest.mark.anyio
async def test_asgi_404_replays_to_wsgi_fallback_with_body() -> None:
    """The strangler fig on an ASGI server: new ASGI routes first, the legacy WSGI app behind."""
    new = AsgiEcho("new", 404, read_body=True)
    legacy = WsgiEcho("legacy", read_body=True)
    router = bridge.Router({"/api/v2": new}, fallback=legacy)
    scope = http_scope("/api/v2/users", method="POST",
                       headers=[(b"host", b"t"), (b"content-length", b"4")])  # fmt: skip
    reply = await call_asgi(router, scope, [b"na", b"me"])
    assert payload(reply) == {"app": "legacy", "script_name": "", "path_info": "/api/v2/users",
                              "body": "name"}  # fmt: skip


@pytest.mark.anyio
async def test_asgi_to_wsgi_mounted_by_the_user_is_unwrapped_on_the_asgi_side() -> None:
    new = AsgiEcho("new")
    reply = await call_asgi(bridge.Router({"/api": bridge.AsgiToWsgi(new)}), http_scope("/api/x"))
    assert payload(reply)["root_path"] == "/api"
    assert "wsgi.environ" not in new.scopes[0].get("extensions", {})  # called natively


# --- ASGI apps behind router.wsgi --------------------------------------------------------------


def test_asgi_app_behind_router_wsgi_sees_root_path_and_full_path(closing: list[Any]) -> None:
    """ASGI spec via AsgiToWsgi: root_path is SCRIPT_NAME, path keeps it."""
    new = AsgiEcho("new")
    router = bridge.Router({"/api": new, "/legacy": WsgiEcho("legacy")})
    closing.append(router)
    reply = call_wsgi(router.wsgi, environ_for("/api/users", "/mnt"))
    assert payload(reply) == {"app": "new", "path": "/mnt/api/users", "root_path": "/mnt/api",
                              "body": ""}  # fmt: skip
    legacy = call_wsgi(router.wsgi, environ_for("/legacy/x"))
    assert payload(legacy)["app"] == "legacy"


def test_router_wsgi_404_of_asgi_app_replays_to_wsgi_fallback_natively(closing: list[Any]) -> None:
    new = AsgiEcho("new", 404)
    legacy = WsgiEcho("legacy", read_body=True)
    router = bridge.Router({"/api": new}, fallback=legacy)
    closing.append(router)
    environ = environ_for("/api/x", body=b"form=1")
    reply = call_wsgi(router.wsgi, environ)
    assert (payload(reply)["app"], payload(reply)["body"]) == ("legacy", "form=1")
    assert "asgi.scope" not in legacy.environs[0]  # the WSGI fallback is called natively


def test_router_wsgi_runs_one_lifespan_for_its_asgi_apps(closing: list[Any]) -> None:
    first, second = LifespanApp("first"), LifespanApp("second")
    router = bridge.Router({"/a": first, "/b": second, "/c": WsgiEcho("legacy")})
    router.wsgi.startup()
    assert (first.events, second.events) == (["lifespan.startup"], ["lifespan.startup"])
    assert second.state_seen == ["first"]  # one lifespan, one state
    router.wsgi.close()
    assert first.events == second.events == BOTH


def test_router_wsgi_startup_failure_raises_lifespan_error(closing: list[Any]) -> None:
    router = bridge.Router({"/b": LifespanApp("broken", fail="startup")})
    closing.append(router)
    with pytest.raises(bridge.LifespanError, match="route '/b': broken down"):
        router.wsgi.startup()


def test_wsgi_to_asgi_mounted_by_the_user_is_unwrapped_on_the_wsgi_side() -> None:
    """Never WSGI -> ASGI -> WSGI: router.wsgi calls the app inside the user's WsgiToAsgi."""
    legacy = WsgiEcho("legacy")
    router = bridge.Router({"/old": bridge.WsgiToAsgi(legacy)})
    reply = call_wsgi(router.wsgi, environ_for("/old/x"))
    assert payload(reply)["path_info"] == "/x"
    assert "asgi.scope" not in legacy.environs[0]


def test_adapter_options_are_validated_in_init() -> None:
    with pytest.raises(ValueError, match="max_threads"):
        bridge.Router({}, wsgi_to_asgi={"max_threads": 0})
    with pytest.raises(ValueError, match="lifespan"):
        bridge.Router({}, asgi_to_wsgi={"lifespan": "sometimes"})
    with pytest.raises(TypeError, match="wsgi_to_asgi must be a mapping"):
        bridge.Router({}, wsgi_to_asgi=8)  # type: ignore[arg-type]


def test_router_wsgi_startup_and_close_reach_nested_routers() -> None:
    inner_app = LifespanApp("inner")
    router = bridge.Router({"/a": bridge.Router({"/b": inner_app}), "/c": WsgiEcho("legacy")})
    router.wsgi.startup()
    assert inner_app.events == ["lifespan.startup"]
    router.wsgi.close()
    assert inner_app.events == BOTH


@pytest.mark.anyio
async def test_non_ascii_prefix_across_interfaces_on_the_asgi_side() -> None:
    """PEP 3333 "bytes as native strings": the UTF-8 prefix is latin-1 in SCRIPT_NAME."""
    legacy = WsgiEcho("legacy")
    scope = http_scope("/thé/y", raw_path=b"/th%C3%A9/y")
    reply = await call_asgi(bridge.Router({"/thé": legacy}), scope)
    assert (payload(reply)["script_name"], payload(reply)["path_info"]) == ("/thÃ©", "/y")


def test_non_ascii_prefix_across_interfaces_on_the_wsgi_side(closing: list[Any]) -> None:
    new = AsgiEcho("new")
    router = bridge.Router({"/café": new})
    closing.append(router)
    environ = environ_for("/café/x".encode().decode("latin-1"), RAW_URI="/caf%C3%A9/x")
    reply = call_wsgi(router.wsgi, environ)
    assert (payload(reply)["root_path"], payload(reply)["path"]) == ("/café", "/café/x")
    assert new.scopes[0]["raw_path"] == b"/caf%C3%A9/x"
