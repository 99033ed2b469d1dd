"""Lifespan through AsgiToWsgi: modes, startup once per process, state per request, shutdown.

ASGI lifespan spec: ``lifespan.startup`` before the first request, ``startup.complete`` or
``startup.failed`` in answer; ``lifespan.shutdown`` at exit; ``scope["state"]`` is copied
(shallowly) into each request's scope.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from bridge import AsgiToWsgi, LifespanError
from tests.asgi_to_wsgi.helpers import WAIT, Gate, respond, run

pytestmark = pytest.mark.usefixtures("no_asgi_to_wsgi_leaks")


class LifespanApp:
    """An app that speaks lifespan and records what it was told."""

    def __init__(self, *, startup: str = "complete", shutdown: str = "complete") -> None:
        self.startup = startup
        self.shutdown = shutdown
        self.events: list[str] = []
        self.states: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(scope, receive, send)
            return
        self.states.append(scope["state"])
        body = str(sorted(scope["state"])).encode()
        scope["state"]["mutated"] = True
        await respond(send, body)

    async def lifespan(self, scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            self.events.append(message["type"])
            if message["type"] == "lifespan.startup":
                scope["state"]["pool"] = ["connection"]
                answer: dict[str, Any] = {"type": f"lifespan.startup.{self.startup}"}
                if self.startup == "failed":
                    answer["message"] = "database unreachable"
                await send(answer)
            else:
                await send({"type": f"lifespan.shutdown.{self.shutdown}", "message": "oops"})
                return


def test_startup_runs_once_before_the_first_request_and_shutdown_at_close(backend: str) -> None:
    app = LifespanApp()
    with AsgiToWsgi(app, backend=backend) as adapter:
        assert app.events == []  # lazily: nothing before the first request
        run(adapter)
        run(adapter)
        assert app.events == ["lifespan.startup"]
    assert app.events == ["lifespan.startup", "lifespan.shutdown"]


def test_state_is_shallow_copied_into_each_request(backend: str) -> None:
    """ASGI lifespan state: each request gets a copy; its values are the same objects."""
    app = LifespanApp()
    with AsgiToWsgi(app, backend=backend) as adapter:
        assert run(adapter).body == b"['pool']"
        assert run(adapter).body == b"['pool']"  # the first request's mutation did not leak
    first, second = app.states
    assert first is not second
    assert first["pool"] is second["pool"]


def test_startup_method_runs_lifespan_eagerly(backend: str) -> None:
    app = LifespanApp()
    with AsgiToWsgi(app, backend=backend, lifespan="on") as adapter:
        adapter.startup()
        adapter.startup()
        assert app.events == ["lifespan.startup"]


def test_concurrent_first_requests_run_startup_once(backend: str) -> None:
    """Many WSGI threads arrive at once: one runs startup, the others wait for it."""
    gate = Gate()
    startups: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            startups.append(1)
            await gate.wait()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await respond(send)

    bodies: list[bytes] = []
    with AsgiToWsgi(app, backend=backend) as adapter:
        threads = [
            threading.Thread(target=lambda: bodies.append(run(adapter).body)) for _ in "abcd"
        ]
        for thread in threads:
            thread.start()
        gate.open()
        for thread in threads:
            thread.join(WAIT)
    assert startups == [1]
    assert bodies == [b"ok"] * 4


def test_startup_failed_answers_every_request_with_500(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """``lifespan.startup.failed``: requests get 500 with the message logged; startup() raises."""
    app = LifespanApp(startup="failed")
    with AsgiToWsgi(app, backend=backend) as adapter:
        first = run(adapter)
        second = run(adapter)
        with pytest.raises(LifespanError, match="lifespan startup failed: 'database unreachable'"):
            adapter.startup()
    assert first.status == second.status == "500 Internal Server Error"
    assert isinstance(second.error, LifespanError)
    assert caplog.text.count("database unreachable") >= 3  # at startup, then once per request


def test_startup_failed_in_on_mode_raises_from_startup(backend: str) -> None:
    with (
        AsgiToWsgi(LifespanApp(startup="failed"), backend=backend, lifespan="on") as adapter,
        pytest.raises(LifespanError, match="database unreachable"),
    ):
        adapter.startup()


async def http_only(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise ValueError(f"only http, not {scope['type']}")
    await respond(send)


async def returns_at_once(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await respond(send)


@pytest.mark.parametrize(
    ("app", "match"),
    [
        pytest.param(http_only, "the app raised ValueError", id="raises"),
        pytest.param(returns_at_once, "returned without answering", id="returns"),
    ],
)
def test_auto_mode_tolerates_apps_without_lifespan(
    backend: str, app: Any, match: str, caplog: pytest.LogCaptureFixture
) -> None:
    """``lifespan="auto"``: an app that does not speak lifespan is served without it."""
    caplog.set_level(logging.DEBUG, "bridge.asgi")
    with AsgiToWsgi(app, backend=backend) as adapter:
        adapter.startup()
        assert run(adapter).body == b"ok"
    assert match in caplog.text


@pytest.mark.parametrize("app", [http_only, returns_at_once], ids=["raises", "returns"])
def test_on_mode_requires_lifespan(backend: str, app: Any) -> None:
    with AsgiToWsgi(app, backend=backend, lifespan="on") as adapter:
        with pytest.raises(LifespanError):
            adapter.startup()
        assert run(adapter).status == "500 Internal Server Error"


async def never_answers(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()
        await Gate().wait()
    await respond(send)


def test_auto_mode_serves_an_app_that_never_answers_after_the_timeout(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    with AsgiToWsgi(never_answers, backend=backend, startup_timeout=0.05) as adapter:
        assert run(adapter).body == b"ok"
    assert "did not complete within 0.05 seconds; serving requests without" in caplog.text


def test_on_mode_fails_an_app_that_never_answers(backend: str) -> None:
    adapter = AsgiToWsgi(never_answers, backend=backend, lifespan="on", startup_timeout=0.05)
    with adapter, pytest.raises(LifespanError, match="did not complete within"):
        adapter.startup()


def test_off_mode_never_sends_a_lifespan_scope(backend: str) -> None:
    app = LifespanApp()
    with AsgiToWsgi(app, backend=backend, lifespan="off") as adapter:
        adapter.startup()
        result = run(adapter)  # no scope["state"]: the app's own KeyError, answered 500
    assert isinstance(result.error, KeyError)
    assert app.events == []


def test_exception_before_answering_startup_means_no_lifespan_in_auto_mode(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """ASGI lifespan spec: "If an exception is raised when calling the application callable
    with a ``lifespan.startup`` message or a ``scope`` with type ``lifespan``, the server must
    continue but not send any lifespan events" (Uvicorn's ``--lifespan auto`` does so). One
    INFO line says why; the app is served. (Starlette and FastAPI answer a failing startup with
    ``lifespan.startup.failed``, which stays a failure.)"""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            raise OSError("no database")
        await respond(send, b"served")

    with caplog.at_level(logging.INFO, "bridge.asgi"), AsgiToWsgi(app, backend=backend) as adapter:
        adapter.startup()
        assert run(adapter).body == b"served"
    [record] = [r for r in caplog.records if "without lifespan" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert "OSError('no database')" in record.getMessage()


def test_exception_before_answering_startup_fails_in_on_mode(backend: str) -> None:
    """``lifespan="on"``: the app must speak lifespan, so the same exception fails startup."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        raise OSError("no database")

    with AsgiToWsgi(app, lifespan="on", backend=backend) as adapter:
        with pytest.raises(LifespanError, match="raised OSError"):
            adapter.startup()
        assert run(adapter).status == "500 Internal Server Error"


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"type": "lifespan.shutdown.compete"}, "unexpected lifespan message"),
        ({"type": "http.response.start", "status": 200}, "unexpected message type"),
    ],
    ids=["misspelt-lifespan-message", "http-message"],
)
def test_a_message_that_answers_no_lifespan_event_is_refused(
    backend: str, message: dict[str, Any], error: str
) -> None:
    """ASGI lifespan spec: the app answers ``lifespan.startup`` with ``lifespan.startup.*``.
    Anything else is refused with an exception into the app (a naive app that treats every
    scope as ``http`` sends ``http.response.start``): ``"on"`` fails startup with it."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send(message)

    adapter = AsgiToWsgi(app, lifespan="on", backend=backend)
    with adapter, pytest.raises(LifespanError) as info:
        adapter.startup()
    assert error in str(info.value.__cause__)


def test_shutdown_failed_is_logged(backend: str, caplog: pytest.LogCaptureFixture) -> None:
    with AsgiToWsgi(LifespanApp(shutdown="failed"), backend=backend) as adapter:
        adapter.startup()
    assert "lifespan shutdown failed: 'oops'" in caplog.text


def test_shutdown_timeout_is_logged_and_the_task_cancelled(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    cancelled = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        try:
            await Gate().wait()
        finally:
            cancelled.set()

    with AsgiToWsgi(app, backend=backend, shutdown_timeout=0.05) as adapter:
        adapter.startup()
    assert cancelled.is_set()
    assert "lifespan shutdown did not complete within 0.05 seconds" in caplog.text


def test_lifespan_task_raising_after_startup_is_logged(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        raise RuntimeError("shutdown hook broke")

    with AsgiToWsgi(app, backend=backend) as adapter:
        adapter.startup()
    assert "the lifespan task raised RuntimeError('shutdown hook broke')" in caplog.text
