"""``bridge._wsgi_to_asgi.adapter``: WsgiToAsgi itself (asyncio and trio): dispatch by scope type
(the lifespan answer, the websocket refusal, unknown types) and its options.

A request's own tests are in ``test_server_task.py`` (the ASGI side) and ``test_app_call.py``
(the PEP 3333 side). Each test names the PEP 3333 or ASGI clause it checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import bridge
from tests.wsgi_to_asgi.helpers import (
    Exchange,
    http_scope,
    serve,
    simple_app,
    threads_in_bridge,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _no_thread_left_in_bridge() -> Iterator[None]:
    yield
    assert threads_in_bridge() == []


# --- other scopes ------------------------------------------------------------------------------


async def test_asgi_lifespan_startup_and_shutdown_are_answered_complete() -> None:
    """ASGI 'Lifespan Protocol': startup.complete and shutdown.complete."""
    exchange = Exchange(
        [{"type": "lifespan.startup"}, {"type": "lifespan.unknown"}, {"type": "lifespan.shutdown"}]
    )
    await serve(
        bridge.WsgiToAsgi(simple_app([])),
        {"type": "lifespan", "asgi": {"version": "3.0"}},
        exchange,
    )
    assert exchange.sent == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.complete"},
    ]


async def test_asgi_websocket_is_refused_by_closing_before_accept() -> None:
    """ASGI 'WebSocket Close' before accept: the server answers the handshake with 403."""
    exchange = Exchange([{"type": "websocket.connect"}])
    await serve(bridge.WsgiToAsgi(simple_app([])), http_scope(type="websocket"), exchange)
    assert exchange.sent == [{"type": "websocket.close", "code": 1000, "reason": ""}]


async def test_asgi_websocket_gone_before_connect_sends_nothing() -> None:
    """ASGI 'WebSocket Disconnect' before connect: nothing to refuse."""
    exchange = Exchange([{"type": "websocket.disconnect", "code": 1006}])
    await serve(bridge.WsgiToAsgi(simple_app([])), http_scope(type="websocket"), exchange)
    assert exchange.sent == []


async def test_asgi_unknown_scope_type_raises_a_clear_error() -> None:
    """ASGI 'Applications': apps raise for scope types they do not understand."""
    with pytest.raises(bridge.ServerError, match=r"expected an 'http'.*got 'telepathy'"):
        await serve(bridge.WsgiToAsgi(simple_app([])), {"type": "telepathy"})


# --- options -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"max_threads": 0}, ValueError, "max_threads must be at least 1, got 0"),
        ({"max_threads": 2.0}, TypeError, "max_threads must be an int, got float"),
        ({"max_threads": True}, TypeError, "max_threads must be an int, got bool"),
        ({"send_window": 0}, ValueError, "send_window must be at least 1"),
        ({"send_window": "big"}, TypeError, "send_window must be an int, got str"),
        ({"max_request_body_size": -1}, ValueError, "max_request_body_size must be at least 0"),
        ({"max_request_body_size": 1.5}, TypeError, "max_request_body_size must be an int"),
        ({"duplicate_header_limit": 0}, ValueError, "duplicate_header_limit must be at least 1"),
        ({"shutdown_timeout": -1}, ValueError, "shutdown_timeout must be >= 0 seconds"),
        ({"shutdown_timeout": float("inf")}, ValueError, "shutdown_timeout must be >= 0"),
        ({"shutdown_timeout": "5"}, TypeError, "shutdown_timeout must be a number of seconds"),
        ({"shutdown_timeout": True}, TypeError, "shutdown_timeout must be a number of seconds"),
    ],
    ids=lambda value: str(value) if isinstance(value, dict) else "",
)
def test_options_are_validated_in_init(
    options: dict[str, Any], error: type[Exception], match: str
) -> None:
    """House rule 10: options are keyword-only and validated with TypeError/ValueError."""
    with pytest.raises(error, match=match):
        bridge.WsgiToAsgi(simple_app([]), **options)


def test_app_must_be_callable_and_options_are_keyword_only() -> None:
    """House rule 10: ``WsgiToAsgi(app, /, *, ...)``."""
    with pytest.raises(TypeError, match="app must be a WSGI callable, got str"):
        bridge.WsgiToAsgi("app")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        bridge.WsgiToAsgi(simple_app([]), 40)  # type: ignore[misc]
    app = simple_app([])
    assert bridge.WsgiToAsgi(app, max_request_body_size=None).app is app


def test_init_starts_no_thread() -> None:
    """House rule 5: constructors have no side effects (no threads, loops or pools)."""
    import threading

    before = threading.active_count()
    adapter = bridge.WsgiToAsgi(simple_app([]), max_threads=3)
    assert threading.active_count() == before
    assert adapter._runner._pool is None  # type: ignore[attr-defined]
