"""WsgiToAsgi and asgiref's ``async_to_sync`` in the app: the coroutine runs on the server's loop
(thread runner, asyncio) and ends with its request.

asgiref's own ``SyncToAsync`` cancels the coroutines of an ``async_to_sync`` call it waits for
when it is cancelled; bridge does the same for the request's app call: a cancelled request, or
one whose client is gone (ASGI: ``receive()`` returns ``http.disconnect``), cancels them. Real
servers and frameworks: ``e2e/test_async_views.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import pytest
from asgiref.sync import async_to_sync

import bridge
from tests.wsgi_to_asgi.helpers import Exchange, serve

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # asgiref's coroutines run on asyncio only (trio: e2e/test_async_views.py)


class SlowView:
    """A WSGI app whose view awaits, on the loop, until cancelled; it records what happened."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.outcome = "not started"

    async def wait(self) -> None:
        self.outcome = "running"
        self.started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            self.outcome = "cancelled"
            raise
        self.outcome = "finished"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        async_to_sync(self.wait)()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"finished"]


async def test_the_coroutine_runs_on_the_loop_serving_the_request() -> None:
    loop = asyncio.get_running_loop()

    async def where() -> bool:
        return asyncio.get_running_loop() is loop

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"same loop" if async_to_sync(where)() else b"another loop"]

    assert (await serve(bridge.WsgiToAsgi(app))).body == b"same loop"


async def test_client_gone_cancels_the_coroutine_and_sends_nothing() -> None:
    view = SlowView()
    exchange = Exchange()

    async def leave() -> None:
        await view.started.wait()
        exchange.disconnect()

    async with asyncio.TaskGroup() as group:
        group.create_task(leave())
        await serve(bridge.WsgiToAsgi(view), exchange=exchange)
    assert (view.outcome, exchange.sent) == ("cancelled", [])


async def test_cancelled_request_cancels_the_coroutine() -> None:
    """The server cancels the request task (a shutdown deadline, say): the app's coroutine is
    cancelled too, so its thread ends at once and the cancellation goes on."""
    view = SlowView()
    request = asyncio.create_task(serve(bridge.WsgiToAsgi(view)))
    await view.started.wait()
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    assert view.outcome == "cancelled"


async def test_a_cancelled_error_of_the_apps_own_is_not_a_disconnect() -> None:
    """Only a stopped request turns the app's ``CancelledError`` into a quiet disconnect."""

    async def cancelled() -> None:
        raise asyncio.CancelledError

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        async_to_sync(cancelled)()
        return []

    with pytest.raises(asyncio.CancelledError):
        await serve(bridge.WsgiToAsgi(app))
