"""Router lifespan: one lifespan to the server, fanned out once to each distinct ASGI app.

ASGI lifespan spec: startup failure of any app is ``lifespan.startup.failed``; an app that raises
before answering does not support lifespan and is tolerated; ``state`` is shared.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest

import bridge
from tests.router.helpers import TIMEOUT, WsgiEcho

pytestmark = pytest.mark.anyio


class LifespanApp:
    """An ASGI app that records lifespan events; fails startup or shutdown when told to."""

    def __init__(self, name: str, *, fail: str | None = None, raise_in: str | None = None) -> None:
        self.name, self.fail, self.raise_in = name, fail, raise_in
        self.events: list[str] = []
        self.state_seen: list[str] = []

    def __repr__(self) -> str:
        return f"<LifespanApp {self.name}>"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        for phase in ("startup", "shutdown"):
            self.events.append((await receive())["type"])
            if phase == "startup":
                self.state_seen = sorted(scope["state"])
                scope["state"][self.name] = True
            if self.raise_in == phase:
                raise RuntimeError(f"{self.name} broke")
            if self.fail == phase:
                await send({"type": f"lifespan.{phase}.failed", "message": f"{self.name} down"})
                return
            await send({"type": f"lifespan.{phase}.complete"})


async def lifespan(app: Any, state: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Drive one lifespan (startup, then shutdown once startup was answered); return the replies."""
    replies: list[dict[str, Any]] = []
    answered = anyio.Event()
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive() -> Any:
        if len(incoming) == 1:
            await answered.wait()
        return incoming.pop(0)

    async def send(message: Any) -> None:
        replies.append(message)
        answered.set()

    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"},
             "state": {} if state is None else state}  # fmt: skip
    with anyio.fail_after(TIMEOUT):
        await app(scope, receive, send)
    return replies


COMPLETE = [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
BOTH = ["lifespan.startup", "lifespan.shutdown"]


async def test_each_distinct_asgi_app_gets_one_lifespan_and_state_is_shared() -> None:
    first, second = LifespanApp("first"), LifespanApp("second")
    routes = {"/a": first, "/b1": second, "/b2": second, "/legacy": WsgiEcho("legacy")}
    state: dict[str, Any] = {"server": True}
    replies = await lifespan(bridge.Router(routes, fallback=first), state)
    assert replies == COMPLETE
    assert first.events == second.events == BOTH
    assert second.state_seen == ["first", "server"]  # started in the order given, one state
    assert state == {"server": True, "first": True, "second": True}


async def test_nested_router_fans_out_further() -> None:
    inner = LifespanApp("inner")
    replies = await lifespan(bridge.Router({"/a": bridge.Router({"/b": inner})}))
    assert (replies, inner.events) == (COMPLETE, BOTH)


async def test_no_asgi_app_still_completes() -> None:
    assert await lifespan(bridge.Router({"/legacy": WsgiEcho("legacy")})) == COMPLETE


async def test_startup_failure_fails_startup_and_shuts_down_started_apps() -> None:
    first, broken = LifespanApp("first"), LifespanApp("broken", fail="startup")
    never = LifespanApp("never")
    replies = await lifespan(bridge.Router({"/a": first, "/b": broken, "/c": never}))
    assert replies == [{"type": "lifespan.startup.failed", "message": "route '/b': broken down"}]
    assert (first.events, broken.events, never.events) == (BOTH, ["lifespan.startup"], [])


async def test_exception_before_answering_startup_leaves_the_app_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """ASGI lifespan spec: an exception on the lifespan scope means the server "must continue
    but not send any lifespan events" (Uvicorn's ``--lifespan auto``); the Router says so once,
    at INFO, and the other apps start (a ``lifespan.startup.failed`` answer stays a failure)."""
    broken = LifespanApp("broken", raise_in="startup")
    other = LifespanApp("other")
    with caplog.at_level(logging.INFO, "bridge"):
        replies = await lifespan(bridge.Router({"/b": broken, "/o": other}))
    assert (replies, other.events) == (COMPLETE, BOTH)
    assert "route '/b' raised RuntimeError('broken broke') without answering" in caplog.text


async def test_a_naive_app_sending_http_on_the_lifespan_scope_is_left_out() -> None:
    """A naive app that treats every scope as ``http`` answers ``lifespan.startup`` with
    ``http.response.start``: refused with an exception into it (as Uvicorn does), so it is left
    out of lifespan instead of failing startup with an empty message."""

    async def naive(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})

    other = LifespanApp("other")
    replies = await lifespan(bridge.Router({"/naive": naive, "/o": other}))
    assert (replies, other.events) == (COMPLETE, BOTH)


async def _no_lifespan(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise ValueError("only http")


async def _returns_at_once(scope: Any, receive: Any, send: Any) -> None:
    return


@pytest.mark.parametrize(
    "app", [pytest.param(_no_lifespan, id="raises"), pytest.param(_returns_at_once, id="returns")]
)
async def test_app_without_lifespan_support_is_tolerated(app: Any) -> None:
    """ASGI spec: an app that raises on the lifespan scope does not support it; go on."""
    other = LifespanApp("other")
    replies = await lifespan(bridge.Router({"/old": app, "/new": other}))
    assert (replies, other.events) == (COMPLETE, BOTH)


@pytest.mark.parametrize(
    ("app", "message"),
    [
        pytest.param(LifespanApp("a", fail="shutdown"), "route '/a': a down", id="failed"),
        pytest.param(LifespanApp("a", raise_in="shutdown"),
                     "route '/a' raised RuntimeError('a broke')", id="raised"),
    ],
)  # fmt: skip
async def test_shutdown_failures_are_reported_together(app: LifespanApp, message: str) -> None:
    other = LifespanApp("other", fail="shutdown")
    replies = await lifespan(bridge.Router({"/a": app, "/o": other}))
    expected = f"route '/o': other down; {message}"  # newest first
    assert replies == [COMPLETE[0], {"type": "lifespan.shutdown.failed", "message": expected}]


async def test_app_still_running_after_shutdown_is_cancelled() -> None:
    async def lingers(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
        await anyio.sleep_forever()

    assert await lifespan(bridge.Router({"/a": lingers})) == COMPLETE
