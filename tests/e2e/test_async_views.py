"""Async code inside WSGI apps runs on the loop the ASGI side uses, on real servers.

Flask runs every ``async def`` view with asgiref's ``async_to_sync``; Django code calls it
directly. asgiref runs the coroutine on "the main event loop" it finds for the calling thread,
else on a new loop in a new thread per call. bridge points it at the server's loop (WsgiToAsgi's
thread runner, on asyncio) or at the private loop its lifespan ran on (``router.wsgi``), so a
coroutine can use a client the ASGI side opened there (``apps/async_views.py``: a client that
refuses any other loop). On trio asgiref keeps its own loop; the migration guide's recipe
(Flask's ``async_to_sync`` through ``bridge.await_``) runs on the server's loop everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e import servers
from tests.e2e.rawhttp import RawConnection

TIMEOUT = 20.0
SETUPS = {
    "uvicorn": servers.uvicorn("async_views:app"),
    "hypercorn-asyncio": servers.hypercorn("async_views:app"),
    "hypercorn-trio": servers.hypercorn("async_views:app", worker_class="trio"),
    "gunicorn-router.wsgi": servers.gunicorn("async_views:application"),
}


@pytest.fixture(scope="module", params=sorted(SETUPS))
def server(request: pytest.FixtureRequest) -> Iterator[servers.Server]:
    with servers.running(SETUPS[request.param]) as running:
        yield running


@pytest.fixture
def client(server: servers.Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        yield http


def on_trio(server: servers.Server) -> bool:
    return "trio" in server.process.args


def answer(client: httpx.Client, path: str) -> dict[str, object]:
    reply = client.get(path)
    assert reply.status_code == 200, reply.text
    body: dict[str, object] = reply.json()
    return body


#: What each view adds to its answer: Flask's request context reached the coroutine; the
#: coroutine's context changes reached the sync Django view after async_to_sync returned.
CONTEXT = {"/flask/where": ("path", "/where"), "/django/where": ("out", "set in the coroutine")}


@pytest.mark.parametrize("view", sorted(CONTEXT))
def test_async_to_sync_runs_on_the_loop_of_the_asgi_app(
    client: httpx.Client, server: servers.Server, view: str
) -> None:
    """The coroutine runs on the very loop object the ASGI route runs on and uses the client
    the ASGI app's lifespan opened there; contextvars flow both ways, as asgiref copies them."""
    if on_trio(server):
        pytest.skip("trio: asgiref's coroutines need an asyncio loop (see the trio test)")
    asgi = answer(client, "/asgi/where")
    got = answer(client, view)
    assert (got["loop"], got["client"], got["trace"]) == (asgi["loop"], "fetched", "traced")
    key, value = CONTEXT[view]
    assert got[key] == value


@pytest.mark.parametrize("view", sorted(CONTEXT))
def test_on_trio_async_to_sync_keeps_asgirefs_own_loop(
    client: httpx.Client, server: servers.Server, view: str
) -> None:
    """Known limit: on trio there is no asyncio loop to lend, so each call gets asgiref's own
    (contextvars still flow both ways)."""
    if not on_trio(server):
        pytest.skip("trio only")
    got = answer(client, view)
    assert (got["library"], got["client"], got["trace"]) == ("asyncio", None, "traced")
    key, value = CONTEXT[view]
    assert got[key] == value


@pytest.mark.parametrize("mount", ["/recipe", "/greenlet/recipe"])
def test_recipe_runs_async_views_on_the_servers_loop_with_either_runner(
    client: httpx.Client, server: servers.Server, mount: str
) -> None:
    """Flask's ``async_to_sync`` overridden with ``bridge.await_``: the server's loop, trio's
    too, with the thread and the greenlet runner."""
    asgi = answer(client, "/asgi/where")
    got = answer(client, f"{mount}/where")
    assert (got["library"], got["loop"]) == (asgi["library"], asgi["loop"])
    assert got["client"] == ("fetched" if asgi["library"] == "asyncio" else None)


def test_client_gone_cancels_the_coroutine(client: httpx.Client, server: servers.Server) -> None:
    """The client closes its connection while the view awaits: the coroutine is cancelled
    (ASGI: ``receive()`` returns ``http.disconnect``), it does not run to its end."""
    if on_trio(server) or "gunicorn" in server.process.args:
        pytest.skip("WsgiToAsgi on asyncio only: a WSGI server blocks in the view (see docs)")
    assert answer(client, "/asgi/slow")["slow"] == "idle"
    with RawConnection(server.port) as raw:
        raw.send_head("GET", "/flask/slow")
        raw.send_end()
        assert servers.wait_for(lambda: answer(client, "/asgi/slow")["slow"] == "started")
    assert servers.wait_for(lambda: answer(client, "/asgi/slow")["slow"] == "cancelled")
