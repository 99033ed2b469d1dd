"""``bridge.await_``: which loop it runs a coroutine on, in each mode, and when it refuses."""

from __future__ import annotations

import asyncio
import contextvars
import io
import sys
import threading
from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

import anyio
import pytest

import bridge
from bridge._private_loop import REGISTRY
from tests.wsgi_to_asgi.helpers import serve

pytestmark = pytest.mark.anyio

RUNNERS = ["thread", "greenlet"]
tag: contextvars.ContextVar[str] = contextvars.ContextVar("tag")


async def where() -> tuple[int, str]:
    """The thread this coroutine runs on, and the ``tag`` it sees."""
    await anyio.sleep(0.001)
    return threading.get_ident(), tag.get("unset")


def view(body: Callable[[], object]) -> Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]:
    """A WSGI app that answers ``repr(body())``."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        result = body()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [repr(result).encode()]

    return app


@pytest.fixture
def no_private_loop() -> Iterator[None]:
    assert REGISTRY.running() == [], "a test left a private loop running"
    yield
    assert REGISTRY.running() == []


# --- inside a WsgiToAsgi request --------------------------------------------------------------


@pytest.mark.parametrize("runner", RUNNERS)
async def test_runs_on_the_servers_loop_and_sees_the_views_contextvars(runner: str) -> None:
    """Issue 5 section 2: the coroutine runs on the loop of the request; what the view set in
    its contextvars (Flask's request context, say) is visible to it."""

    def body() -> object:
        tag.set("set by the view")
        loop_thread, seen = bridge.await_(where())
        return loop_thread == threading.get_ident(), seen

    exchange = await serve(bridge.WsgiToAsgi(view(body), runner=runner))
    same_thread = runner == "greenlet"  # the thread runner's view runs in a worker thread
    assert exchange.body == repr((same_thread, "set by the view")).encode()


@pytest.mark.parametrize("runner", RUNNERS)
async def test_the_coroutines_exception_reaches_the_view(runner: str) -> None:
    async def failing() -> None:
        raise LookupError("no such row")

    def body() -> object:
        with pytest.raises(LookupError, match="no such row"):
            bridge.await_(failing())
        return "handled"

    assert (await serve(bridge.WsgiToAsgi(view(body), runner=runner))).body == b"'handled'"


@pytest.mark.parametrize("runner", RUNNERS)
async def test_called_again_from_the_awaited_coroutine_it_refuses(runner: str) -> None:
    """A sync helper called by the awaited coroutine runs on the loop: refused, not deadlocked."""

    async def nested() -> str:
        with pytest.raises(bridge.ApplicationError, match="thread that runs an event loop"):
            bridge.await_(where())
        return "refused"

    exchange = await serve(bridge.WsgiToAsgi(view(lambda: bridge.await_(nested())), runner=runner))
    assert exchange.body == b"'refused'"


# --- refusals ----------------------------------------------------------------------------------


async def test_from_async_code_it_refuses_instead_of_deadlocking(no_private_loop: None) -> None:
    coroutine = where()
    with pytest.raises(bridge.ApplicationError, match="use 'await' there"):
        bridge.await_(coroutine)
    assert coroutine.cr_frame is None  # closed: no "never awaited" warning


def test_outside_any_bridge_request_it_says_what_to_do(no_private_loop: None) -> None:
    coroutine = where()
    with pytest.raises(bridge.ApplicationError, match="outside a bridge request: call it from"):
        bridge.await_(coroutine)
    assert coroutine.cr_frame is None


# --- the private loop of AsgiToWsgi -----------------------------------------------------------


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app with nothing to do: the private loop runs while its AsgiToWsgi is started."""


def in_thread(func: Callable[[], object]) -> Any:
    """Call ``func`` in a new thread (as a WSGI server would) and return or raise its outcome."""
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, func()))
        except BaseException as exc:
            outcome.append((False, exc))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    succeeded, value = outcome[0]
    if not succeeded:
        raise value
    return value


@pytest.mark.parametrize("backend", ["asyncio", "uvloop", "trio"])
def test_from_a_wsgi_thread_it_uses_the_private_loop(backend: str, no_private_loop: None) -> None:
    """Issue 5 section 2: from a WSGI thread (e.g. behind ``router.wsgi``) the coroutine runs on
    the process's private loop, which the AsgiToWsgi started."""
    adapter = bridge.AsgiToWsgi(asgi_app, backend=backend, lifespan="off", loop_thread="always")  # type: ignore[arg-type]
    with adapter:
        adapter.startup()
        loop_thread, _ = in_thread(lambda: bridge.await_(where()))
        names = {thread.ident: thread.name for thread in threading.enumerate()}
        assert names[loop_thread] == f"bridge-{backend}-loop"

        async def failing() -> None:
            raise LookupError("from the private loop")

        with pytest.raises(LookupError, match="from the private loop"):
            in_thread(lambda: bridge.await_(failing()))


def test_a_private_loop_that_stops_fails_the_wait(no_private_loop: None) -> None:
    adapter = bridge.AsgiToWsgi(asgi_app, lifespan="off", loop_thread="always")  # type: ignore[arg-type]
    adapter.startup()
    started = threading.Event()

    async def forever() -> None:
        started.set()
        await anyio.sleep_forever()

    def close_soon() -> None:
        assert started.wait(10)
        adapter.close()

    closer = threading.Thread(target=close_soon)
    closer.start()
    with pytest.raises(bridge.BridgeError, match="private event loop stopped before"):
        in_thread(lambda: bridge.await_(forever()))
    closer.join(10)


def test_two_private_loops_are_ambiguous(no_private_loop: None) -> None:
    with (
        bridge.AsgiToWsgi(
            asgi_app, backend="asyncio", lifespan="off", loop_thread="always"
        ) as first,  # type: ignore[arg-type]
        bridge.AsgiToWsgi(asgi_app, backend="trio", lifespan="off") as second,  # type: ignore[arg-type]
    ):
        first.startup()
        second.startup()
        coroutine: Coroutine[Any, Any, Any] = where()
        with pytest.raises(bridge.ApplicationError, match="asyncio, trio are running"):
            in_thread(lambda: bridge.await_(coroutine))
        assert coroutine.cr_frame is None


def test_router_wsgi_view_uses_a_resource_made_in_lifespan(no_private_loop: None) -> None:
    """The migration story under a WSGI server: a WSGI view behind ``router.wsgi`` awaits on the
    private loop, where the ASGI app's lifespan made its shared resource."""
    made: dict[str, Any] = {}

    async def api(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()  # lifespan.startup
            made["lock"] = anyio.Lock()  # made on the loop that runs lifespan
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
            await send({"type": "lifespan.shutdown.complete"})

    async def locked() -> str:
        async with made["lock"]:
            return "locked on the private loop"

    router = bridge.Router({"/api": api}, fallback=view(lambda: bridge.await_(locked())))
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/legacy", "SCRIPT_NAME": ""}
    responses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        responses.append(status)

    router.wsgi.startup()
    try:
        body = in_thread(lambda: b"".join(router.wsgi(_environ(environ), start_response)))  # type: ignore[arg-type]
    finally:
        router.wsgi.close()
    assert responses == ["200 OK"]
    assert body == b"'locked on the private loop'"


def test_from_the_servers_thread_it_runs_an_inline_loop_there(no_private_loop: None) -> None:
    """A single-threaded server (Gunicorn sync): the private loop runs inline, on the thread
    that serves the request; ``await_`` from a WSGI view there runs that same loop, in this
    thread, until the coroutine ends (the loop that ran lifespan: its resources work)."""
    adapter = bridge.AsgiToWsgi(asgi_app, lifespan="off", loop_thread="never")  # type: ignore[arg-type]
    with adapter:
        adapter.startup()
        runtime = adapter._slot.runtime
        assert runtime is not None
        assert runtime.loop.inline

        async def loop_and_thread() -> tuple[object, int]:
            return asyncio.get_running_loop(), threading.get_ident()

        first_loop, thread = bridge.await_(loop_and_thread())
        second_loop, _ = bridge.await_(loop_and_thread())
        assert thread == threading.get_ident()
        assert first_loop is second_loop
        assert [t.name for t in threading.enumerate() if t.name.endswith("-loop")] == []


def _environ(extra: dict[str, str]) -> dict[str, Any]:
    return {
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "QUERY_STRING": "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        **extra,
    }
