"""``AsgiToWsgi(loop_thread=...)``: where the private loop runs, and what changes with it.

PEP 3333: ``wsgi.multithread`` "should evaluate true if the application object may be
simultaneously invoked by another thread in the same process". Where it is false (a Gunicorn
sync worker), ``loop_thread="auto"`` runs the loop on the server's own thread, inline, while that
thread waits for bridge; everything a loop thread gives must work the same there: streaming with
backpressure, request bodies, timeouts, disconnects, background work, lifespan. A second thread
that needs the loop (a server that said false but calls from two threads, or a threaded request
after ``startup()``) moves it into a thread of its own, the same loop object.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from bridge import ApplicationTimeout, AsgiToWsgi, ServerError
from bridge._private_loop import REGISTRY
from tests.asgi_to_wsgi.helpers import (
    TEXT,
    WAIT,
    Gate,
    RecordingInput,
    make_environ,
    read_body,
    respond,
    run,
    start,
)
from tests.private_loop.helpers import loop_threads

pytestmark = pytest.mark.usefixtures("no_asgi_to_wsgi_leaks")


def single_threaded(**extra: Any) -> dict[str, Any]:
    """The environ of a server that calls the app from one thread (Gunicorn sync)."""
    environ = make_environ(**extra)
    environ["wsgi.multithread"] = False
    return environ


async def where(scope: Any, receive: Any, send: Any) -> None:
    """Answer with the name of the thread that runs the app."""
    if scope["type"] == "lifespan":
        await lifespan_with_state(receive, send, scope)
        return
    same_loop = scope["state"].get("loop") is asyncio.get_running_loop()
    await respond(send, f"{threading.current_thread().name} {same_loop}".encode())


async def lifespan_with_state(receive: Any, send: Any, scope: Any) -> None:
    """Lifespan that records, in ``state``, the loop startup ran on."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            scope["state"]["loop"] = asyncio.get_running_loop()
            await send({"type": "lifespan.startup.complete"})
        else:
            await send({"type": "lifespan.shutdown.complete"})
            return


# --- which thread runs the loop -------------------------------------------------------------


@pytest.mark.parametrize("backend", ["asyncio", "uvloop"])
def test_single_threaded_server_runs_the_app_on_its_own_thread(backend: str) -> None:
    """``auto`` and ``wsgi.multithread`` false: the app runs on the calling thread, no loop
    thread is started, and lifespan ran on the very loop requests run on."""
    with AsgiToWsgi(where, backend=backend) as adapter:  # type: ignore[arg-type]
        for _ in range(3):
            result = run(adapter, single_threaded())
            assert result.body == f"{threading.current_thread().name} True".encode()
            assert loop_threads() == []


def test_auto_backend_runs_stdlib_asyncio_inline() -> None:
    """uvloop's ``run_forever`` per turn costs more than asyncio's: ``auto`` picks asyncio
    inline, while a loop thread keeps the resolved backend (uvloop when installed)."""
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(type(asyncio.get_running_loop()).__module__)
        await respond(send)

    with AsgiToWsgi(app, lifespan="off") as adapter:
        run(adapter, single_threaded())
    assert seen == ["asyncio.unix_events"]


def test_multithreaded_server_hands_the_app_to_a_loop_thread() -> None:
    with AsgiToWsgi(where, backend="asyncio") as adapter:
        assert run(adapter, make_environ()).body == b"bridge-asyncio-loop True"


def test_always_keeps_a_loop_thread_for_a_single_threaded_server() -> None:
    with AsgiToWsgi(where, backend="asyncio", loop_thread="always") as adapter:
        assert run(adapter, single_threaded()).body == b"bridge-asyncio-loop True"


def test_trio_runs_in_a_loop_thread_even_for_a_single_threaded_server() -> None:
    """trio has no loop to run in turns: ``auto`` keeps its loop thread."""
    with AsgiToWsgi(where, backend="trio", lifespan="off") as adapter:
        result = run(adapter, single_threaded())
    assert result.status == "500 Internal Server Error"  # scope["state"] is absent: no lifespan
    with AsgiToWsgi(_thread_name, backend="trio") as adapter:
        assert run(adapter, single_threaded()).body == b"bridge-trio-loop"


async def _thread_name(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await lifespan_with_state(receive, send, scope)
        return
    await respond(send, threading.current_thread().name.encode())


def test_never_with_trio_is_refused() -> None:
    with pytest.raises(ValueError, match="needs an asyncio backend"):
        AsgiToWsgi(where, backend="trio", loop_thread="never")


def test_loop_thread_option_is_checked() -> None:
    with pytest.raises(ValueError, match="loop_thread must be one of"):
        AsgiToWsgi(where, loop_thread="sometimes")  # type: ignore[arg-type]


def test_never_on_a_multithreaded_server_is_a_server_error() -> None:
    """``never`` promises the loop stays on the server's thread; a server that calls from many
    threads breaks that promise: 500, with a message that names the fix."""
    with AsgiToWsgi(where, backend="asyncio", loop_thread="never") as adapter:
        assert run(adapter, single_threaded()).status == "200 OK"
        with pytest.raises(ServerError, match="use 'auto' or 'always'"):
            adapter(make_environ(), lambda *args: None)


# --- a second thread moves the loop into a thread of its own -------------------------------


def test_a_threaded_request_after_startup_moves_the_loop_into_a_thread() -> None:
    """``startup()`` (Gunicorn's ``post_worker_init``) cannot tell what the server is: it runs
    lifespan inline; a first request from a threaded server promotes the same loop, so what
    lifespan made on it (``state["loop"]``) is still the loop requests run on."""
    with AsgiToWsgi(where, backend="asyncio") as adapter:
        adapter.startup()
        assert loop_threads() == []
        assert run(adapter, make_environ()).body == b"bridge-asyncio-loop True"
        assert run(adapter, single_threaded()).body == b"bridge-asyncio-loop True"


async def _until_promoted() -> None:
    """Return once a second thread, asking for the inline loop while the first runs it, has
    moved the loop into a thread of its own (bounded).

    A request whose task the first thread's turn runs to its end has its answer before its own
    thread asks for it, and that thread then never needs the loop: the second request answers
    only after its thread has asked.
    """
    (loop,) = REGISTRY.running()
    for _ in range(int(WAIT / 0.005)):
        if not loop.inline:
            return
        await asyncio.sleep(0.005)


class FirstHeld:
    """An app whose ``/first`` request waits until :meth:`release`; the others answer at once.

    :meth:`start_first` serves ``/first`` from a thread of its own, as a second server thread.
    """

    def __init__(self) -> None:
        self._gate = Gate()
        self._entered = threading.Event()
        #: Set once a request other than ``/first`` reached the app.
        self.other_answered = threading.Event()
        self.bodies: list[bytes] = []
        self._threads: list[threading.Thread] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/first":
            self._entered.set()
            await self._gate.wait()
        elif scope["path"] == "/second-after-its-wait":
            await _until_promoted()
        else:
            self.other_answered.set()
        await respond(send, scope["path"].encode())

    def serve_in_thread(self, adapter: AsgiToWsgi, path: str) -> None:
        environ = single_threaded(PATH_INFO=path)
        thread = threading.Thread(target=lambda: self.bodies.append(run(adapter, environ).body))
        thread.start()
        self._threads.append(thread)

    def start_first(self, adapter: AsgiToWsgi) -> None:
        self.serve_in_thread(adapter, "/first")
        assert self._entered.wait(WAIT)

    def release(self) -> None:
        self._gate.open()
        for thread in self._threads:
            thread.join(WAIT)


def test_two_threads_at_once_on_a_single_threaded_server_promote_the_loop() -> None:
    """wsgiref with ``ThreadingMixIn`` says ``wsgi.multithread`` is false yet calls from many
    threads: the second thread that needs the loop while the first runs it moves the loop
    into a thread, and both requests are answered."""
    app = FirstHeld()
    with AsgiToWsgi(app, lifespan="off", backend="asyncio") as adapter:
        app.start_first(adapter)
        second = run(adapter, single_threaded(PATH_INFO="/second-after-its-wait"))
        assert second.body == b"/second-after-its-wait"
        assert loop_threads() == ["bridge-asyncio-loop"]
        app.release()
    assert app.bodies == [b"/first"]


def test_never_lets_two_threads_take_turns() -> None:
    """``never``: a second thread waits for the first one's turn instead of promoting."""
    app = FirstHeld()
    with AsgiToWsgi(app, lifespan="off", backend="asyncio", loop_thread="never") as adapter:
        app.start_first(adapter)
        app.serve_in_thread(adapter, "/second")
        assert app.other_answered.wait(WAIT)  # in the first thread's turn, while it is held
        app.release()
        assert loop_threads() == []
    assert sorted(app.bodies) == [b"/first", b"/second"]


# --- everything a loop thread gives, inline ------------------------------------------------


def test_streaming_inline_keeps_backpressure() -> None:
    """The app's ``send()`` completes only once the server took enough bytes (``send_window``):
    inline, the loop runs only while the server's thread waits for the next chunk."""
    sent: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": TEXT})
        for number in range(6):
            await send({"type": "http.response.body", "body": b"x" * 4, "more_body": True})
            sent.append(number)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    with AsgiToWsgi(app, lifespan="off", backend="asyncio", send_window=10) as adapter:
        _, iterable = start(adapter, single_threaded())
        assert sent == [0, 1]  # 12 bytes outstanding > 10 once chunk 2 is sent: it waits
        taken = next(iterable)
        assert len(sent) <= 1 + (len(taken) + 10) // 4
        assert taken + b"".join(iterable) == b"x" * 24
        iterable.close()
        assert sent == list(range(6))


def test_request_body_inline_arrives_whole() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await respond(send, str(len(await read_body(receive))).encode())

    body = RecordingInput(b"y" * 300_000, piece=7000)
    with AsgiToWsgi(app, lifespan="off", backend="asyncio") as adapter:
        result = run(adapter, single_threaded(body=body, content_length=300_000))
    assert result.body == b"300000"


def hangs_until_cancelled(cancelled: threading.Event, *, answer_first: bool = False) -> Any:
    """An app that (answers ``now`` first if asked, then) waits until it is cancelled."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if answer_first:
            await respond(send, b"now")
        try:
            await asyncio.sleep(3600)
        finally:
            cancelled.set()

    return app


def test_request_timeout_inline_answers_504() -> None:
    cancelled = threading.Event()
    app = hangs_until_cancelled(cancelled)
    adapter = AsgiToWsgi(app, lifespan="off", backend="asyncio", request_timeout=0.05)
    with adapter:
        result = run(adapter, single_threaded())
        assert cancelled.is_set()
    assert result.status == "504 Gateway Timeout"
    assert isinstance(result.error, ApplicationTimeout)


def test_early_close_inline_is_a_disconnect_for_the_app() -> None:
    """The server closes the iterable mid-stream (the client left): ASGI 2.4, the app's
    ``receive()`` says ``http.disconnect`` and its next ``send()`` raises ``OSError``; inline,
    ``close()`` runs the loop until the app has ended."""
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": TEXT})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        seen.append((await receive())["type"])
        try:
            await send({"type": "http.response.body", "body": b"lost", "more_body": True})
        except OSError:
            seen.append("send raised")

    with AsgiToWsgi(app, lifespan="off", backend="asyncio") as adapter:
        _, iterable = start(adapter, single_threaded())
        assert next(iterable) == b"first"
        iterable.close()
        assert seen == ["http.disconnect", "send raised"]


def test_background_work_inline_runs_when_the_server_closes_the_response() -> None:
    """Inline, nothing runs between requests: the app's work after ``more_body: False``
    (Starlette's ``BackgroundTasks``) is run to its end by the iterable's ``close()``."""
    finished: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await respond(send, b"now")
        await asyncio.sleep(0.01)
        finished.append("background")

    with AsgiToWsgi(app, lifespan="off", backend="asyncio") as adapter:
        _, iterable = start(adapter, single_threaded())
        assert b"".join(iterable) == b"now"
        assert finished == []
        iterable.close()
        assert finished == ["background"]


def test_background_work_inline_is_bounded_by_background_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cancelled = threading.Event()
    app = hangs_until_cancelled(cancelled, answer_first=True)
    adapter = AsgiToWsgi(app, lifespan="off", backend="asyncio", background_timeout=0.05)
    with adapter:
        assert run(adapter, single_threaded()).body == b"now"
        assert cancelled.is_set()
    assert "background" in caplog.text


def test_lifespan_inline_starts_before_the_first_request_and_shuts_down_at_close() -> None:
    events: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                events.append(message["type"])
                kind = message["type"].removeprefix("lifespan.")
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        events.append("request")
        await respond(send)

    adapter = AsgiToWsgi(app, backend="asyncio")
    run(adapter, single_threaded())
    run(adapter, single_threaded())
    assert events == ["lifespan.startup", "request", "request"]
    adapter.close()
    assert events[-1] == "lifespan.shutdown"
    assert loop_threads() == []
