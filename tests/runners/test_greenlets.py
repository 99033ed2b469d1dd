"""``_greenlet``: the greenlet runner on its own, and what only WsgiToAsgi's greenlet mode does.

The thread runner's PEP 3333 tests run again in greenlet mode in
``tests/test_greenlet_wsgi_to_asgi.py``; here are the greenlet counterparts of the tests that
need a thread, and what a thread pool cannot do: many views waiting at once on one thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import os
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

import anyio
import anyio.lowlevel
import pytest
from greenlet import getcurrent

import bridge
from bridge._runners import CURRENT_LINK, Link, running_on_asyncio
from bridge._runners.greenlets import MAX_IDLE, GreenletRunner
from tests.wsgi_to_asgi.helpers import (
    TIMEOUT,
    Body,
    Exchange,
    body_messages,
    eventually,
    http_scope,
    serve,
    simple_app,
)

pytestmark = pytest.mark.anyio

CHUNK = 64 * 1024


#: bridge's own code, by the package's directory (never by a name a checkout may also have).
BRIDGE_DIR = os.path.dirname(bridge.__file__) + os.sep


@pytest.fixture(autouse=True)
def no_bridge_thread(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Greenlet mode never starts a thread: no ``Thread.start()`` is called from bridge's code.

    (anyio's pytest plugin runs trio in guest mode, which starts a thread of its own.)
    """
    started: list[str] = []
    start = threading.Thread.start

    def record(thread: threading.Thread) -> None:
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename.startswith(BRIDGE_DIR):
                started.append(thread.name)
            frame = frame.f_back  # type: ignore[assignment]
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", record)
    yield
    assert started == []


def greenlet_wsgi(app: Any, **options: Any) -> bridge.WsgiToAsgi:
    return bridge.WsgiToAsgi(app, runner="greenlet", **options)


# --- the runner ------------------------------------------------------------------------------


async def test_runner_runs_on_the_loop_thread_and_switches_to_await() -> None:
    """``call`` awaits on the loop and returns here; ``call_soon`` runs at once; the link is
    in ``CURRENT_LINK`` during the call only."""
    loop_thread = threading.get_ident()
    order: list[str] = []

    async def on_loop() -> int:
        order.append("awaited")
        await anyio.lowlevel.checkpoint()
        return 7

    def work(link: Link) -> tuple[int, int]:
        assert CURRENT_LINK.get() is link
        link.call_soon(lambda: order.append("soon"))
        return threading.get_ident(), link.call(on_loop)

    thread, result = await GreenletRunner().run(work)
    assert (thread, result) == (loop_thread, 7)
    assert order == ["soon", "awaited"]
    assert CURRENT_LINK.get(None) is None


async def test_runner_hands_exceptions_both_ways() -> None:
    async def failing() -> None:
        raise LookupError("from the loop")

    def work(link: Link) -> str:
        with pytest.raises(LookupError, match="from the loop"):
            link.call(failing)
        raise KeyError("from the app")

    with pytest.raises(KeyError, match="from the app"):
        await GreenletRunner().run(work)


async def test_link_used_outside_its_greenlet_is_refused() -> None:
    """House rule 12: a clear error instead of a switch into the wrong greenlet."""
    links: list[Link] = []
    await GreenletRunner().run(links.append)

    async def nothing() -> None:
        return None

    with pytest.raises(bridge.ApplicationError, match=r"call\(\) was used outside its request"):
        links[0].call(nothing)
    with pytest.raises(bridge.ApplicationError, match=r"call_soon\(\) was used outside"):
        links[0].call_soon(lambda: None)


async def test_finished_greenlets_are_reused_without_the_last_request_state() -> None:
    """A finished request greenlet serves the next call: same greenlet, the caller's context,
    and the previous call's link refused there (it may belong to another request by now)."""
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var")
    runner = GreenletRunner()
    seen: list[tuple[object, str, Link]] = []

    def work(link: Link) -> None:
        seen.append((getcurrent(), var.get("unset"), link))
        if len(seen) == 2:
            with pytest.raises(bridge.ApplicationError, match="outside its request greenlet"):
                seen[0][2].call_soon(lambda: None)

    async def request(value: str) -> None:
        var.set(value)
        await runner.run(work)

    for value in ("first", "second"):
        await asyncio.create_task(request(value)) if running_on_asyncio() else await request(value)
    assert seen[0][0] is seen[1][0]
    assert [value for _, value, _ in seen] == ["first", "second"]


async def test_greenlets_beyond_the_idle_limit_are_freed_after_waiting_jobs() -> None:
    """Only MAX_IDLE finished greenlets are kept: every other one is freed once its job ended,
    even after its job waited on the loop (a job keeps no reference to its greenlet: the first
    job of a greenlet stays referenced from the greenlet's own C stack)."""
    runner = GreenletRunner()
    alive: list[weakref.ref[Any]] = []
    extra = 20

    def work(link: Link) -> None:
        alive.append(weakref.ref(getcurrent()))
        link.call(anyio.lowlevel.checkpoint)  # a job that waits once

    async with anyio.create_task_group() as group:
        for _ in range(MAX_IDLE + extra):
            group.start_soon(runner.run, work)
    gc.collect()
    assert len(alive) == MAX_IDLE + extra
    assert sum(ref() is not None for ref in alive) == MAX_IDLE


async def test_parked_greenlets_and_their_anchor_keep_no_request_contextvars_alive() -> None:
    """No leak: a request's contextvars (a tracing span, say) die with the request. Neither the
    parked greenlet (its last ``ContextVar`` token refers to the request's context) nor the
    task that ends parked greenlets with the loop run (made from the first request's task, it
    would copy that task's context) may keep them as long as the loop."""
    runner = GreenletRunner()  # its first greenlet starts its anchor
    marker: contextvars.ContextVar[object] = contextvars.ContextVar("marker")
    refs: list[weakref.ref[Any]] = []

    class Span:
        pass

    async def request() -> None:
        span = Span()
        refs.append(weakref.ref(span))
        marker.set(span)  # in this request task's own context
        del span
        await runner.run(lambda link: None)

    async with anyio.create_task_group() as group:
        group.start_soon(request)
    gc.collect()
    assert runner._idle.anchored  # the anchor still waits for the end of the loop run
    assert refs[0]() is None


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_loop_thread_that_exits_leaves_no_greenlet_behind(backend: str) -> None:
    """No leak: a thread whose loop served greenlet requests (Starlette's TestClient runs one per
    client) may exit. The parked greenlets end on that thread when its loop run ends, so
    neither they nor the thread's main greenlet outlive it (a suspended greenlet of an exited
    thread can never be ended)."""
    runner = GreenletRunner()
    refs: list[weakref.ref[Any]] = []

    def work(link: Link) -> None:
        refs.append(weakref.ref(getcurrent()))
        link.call(anyio.lowlevel.checkpoint)

    async def serve() -> None:
        refs.append(weakref.ref(getcurrent()))  # the thread's main greenlet
        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(runner.run, work)
        assert len(runner._idle.greenlets) == 3  # parked for reuse while the loop runs

    thread = threading.Thread(target=anyio.run, args=(serve,), kwargs={"backend": backend})
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    gc.collect()
    main, *children = refs
    assert len(children) == 3
    assert [ref() for ref in children] == [None] * 3  # ended on their thread, then freed
    # greenlet frees an exited thread's main greenlet from the main thread's pending calls,
    # which run between bytecodes: give them a (bounded) chance.
    for _ in range(1000):
        if main() is None:
            break
        time.sleep(0.01)
    assert main() is None


@pytest.mark.parametrize(
    ("runner", "error", "match"),
    [
        ("fiber", ValueError, "runner must be 'thread' or 'greenlet', got 'fiber'"),
        (1, TypeError, "runner must be a str, got int"),
    ],
    ids=["unknown", "not-a-str"],
)
def test_runner_option_is_validated_in_init(
    runner: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        bridge.WsgiToAsgi(simple_app([]), runner=runner)


# --- WsgiToAsgi(runner="greenlet") -----------------------------------------------------------


async def test_app_runs_on_the_loop_thread_with_the_request_task_contextvars() -> None:
    seen: list[int] = []

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        seen.append(threading.get_ident())
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["wsgi.input"].read()]

    exchange = Exchange(body_messages(b"up", b"load"))
    await serve(greenlet_wsgi(app), http_scope("POST"), exchange)
    assert exchange.body == b"upload"
    assert seen == [threading.get_ident()]


async def test_a_waiting_view_lets_the_loop_serve_another_request() -> None:
    """Issue 5: a view waiting in ``await_`` does not hold the loop; a second request is
    answered in full meanwhile, then the first one ends."""
    release = anyio.Event()
    parked = anyio.Event()
    done: list[str] = []

    async def wait_for_release() -> None:
        parked.set()
        await release.wait()

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/wait":
            bridge.await_(wait_for_release())
        done.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    adapter = greenlet_wsgi(app)
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(serve, adapter, http_scope(path="/wait"))
        with anyio.fail_after(TIMEOUT):
            await parked.wait()
        assert (await serve(adapter, http_scope(path="/quick"))).body == b"ok"
        assert done == ["/quick"]
        release.set()
    assert done == ["/quick", "/wait"]


async def test_many_waiting_views_overlap_on_one_thread() -> None:
    """Issue 5 'sleep-await': 50 views are all parked in ``await_`` at the same time, on the
    loop thread: each waits until all 50 have arrived, which serial views never would (the
    bounded wait would then fail the test; no clock is read)."""
    arrived: list[int] = []
    all_here = anyio.Event()

    async def barrier() -> None:
        arrived.append(threading.get_ident())
        if len(arrived) == 50:
            all_here.set()
        await all_here.wait()

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        bridge.await_(barrier())
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    adapter = greenlet_wsgi(app)
    exchanges = [Exchange() for _ in range(50)]
    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as task_group:
            for exchange in exchanges:
                task_group.start_soon(serve, adapter, None, exchange)
    assert set(arrived) == {threading.get_ident()}
    assert all(exchange.body == b"ok" for exchange in exchanges)


async def test_backpressure_pauses_the_greenlet_after_send_window_bytes() -> None:
    """Issue 3 'Response' in greenlet mode: while send() is stuck the app pulls chunks until
    ``send_window`` bytes are in flight, then waits; nothing is lost."""
    release = anyio.Event()

    async def on_send(message: dict[str, Any]) -> None:
        await release.wait()

    body = Body([b"x" * CHUNK] * 100)
    exchange = Exchange(on_send=on_send)
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(
            serve, greenlet_wsgi(simple_app(body), send_window=10 * CHUNK), None, exchange
        )
        await eventually(lambda: body.pulled == 11)
        await anyio.sleep(0.02)
        assert body.pulled == 11  # the 11th chunk took the window over 10 * CHUNK bytes
        release.set()
    assert exchange.body == b"x" * CHUNK * 100
    assert body.closed == 1


async def test_cancelled_while_reading_the_body_closes_once_and_reraises() -> None:
    """Issue 3 'close() on every path': cancelled while ``wsgi.input`` waits for the client;
    the read raises ClientDisconnected, the iterable is closed once, the cancellation stands."""
    seen: list[Any] = []
    body = Body([b"never"])

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            environ["wsgi.input"].read()
        except bridge.ClientDisconnected as exc:
            seen.append(exc)
        return body

    exchange = Exchange([{"type": "http.request", "body": b"part", "more_body": True}])
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(serve, greenlet_wsgi(app), http_scope("POST"), exchange)
            await eventually(lambda: exchange.receive_calls >= 2)  # waiting for more body
            scope.cancel()
    assert scope.cancelled_caught
    assert len(seen) == 1
    assert body.closed == 1


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_native_task_cancel_waits_for_close_and_reraises() -> None:
    """Issue 3 (Uvicorn's shutdown): a plain ``Task.cancel()`` while the app waits on a full
    send window; the task ends only after close() ran once; a second cancel is ignored."""
    body = Body(iter(lambda: b"x" * CHUNK, b""))

    async def on_send(message: dict[str, Any]) -> None:
        await anyio.sleep_forever()  # a client that never reads

    exchange = Exchange(on_send=on_send)
    adapter = greenlet_wsgi(simple_app(body), send_window=1)
    task = asyncio.get_running_loop().create_task(
        adapter(http_scope(), exchange.receive, exchange.send)
    )
    await eventually(lambda: body.pulled >= 1)
    task.cancel()
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert body.closed == 1
