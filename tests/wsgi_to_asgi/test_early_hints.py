"""WsgiToAsgi's ``environ["wsgi.early_hints"]``: a 103 through ``http.response.early_hint``.

Offered only when the server lists the ASGI "Early Hints" extension; called as Gunicorn 27's
(``headers``: ``(name, value)`` pairs), each call sends one message at once, before the
response; calls once the response headers went out are ignored, as Gunicorn ignores them.
Real servers: ``e2e/test_early_hints.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pytest

import bridge
from tests.wsgi_to_asgi.helpers import Exchange, Message, http_scope, serve

pytestmark = pytest.mark.anyio
HINTING = {"http.response.early_hint": {}}
LINK = ("Link", "</style.css>; rel=preload")


@pytest.fixture(params=["thread", "greenlet"])
def runner(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def hinting_app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    """Hints before ``start_response``, after it, and after the first body chunk."""
    hints = environ.get("wsgi.early_hints")
    if hints is not None:
        hints([LINK])
    start_response("200 OK", [("Content-Type", "text/plain")])
    if hints is not None:
        hints([("Link", "</headers-not-sent-yet>")])
    yield b"offered" if hints is not None else b"absent"
    if hints is not None:
        hints([("Link", "</too-late>")])


async def test_hints_are_sent_until_the_response_headers_go_out(runner: str) -> None:
    exchange = await serve(
        bridge.WsgiToAsgi(hinting_app, runner=runner), http_scope(extensions=HINTING)
    )
    hints = [m for m in exchange.sent if m["type"] == "http.response.early_hint"]
    assert hints == [
        {"type": "http.response.early_hint", "links": [b"</style.css>; rel=preload"]},
        {"type": "http.response.early_hint", "links": [b"</headers-not-sent-yet>"]},
    ]
    assert exchange.sent[:2] == hints
    assert exchange.body == b"offered"


async def test_no_hints_without_the_servers_extension(runner: str) -> None:
    exchange = await serve(bridge.WsgiToAsgi(hinting_app, runner=runner))
    assert exchange.sent[0]["type"] == "http.response.start"
    assert exchange.body == b"absent"


async def test_malformed_hints_are_the_apps_error(runner: str) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ["wsgi.early_hints"]([("Link", "</a>\r\nSet-Cookie: x=1")])
        return []

    adapter = bridge.WsgiToAsgi(app, runner=runner)
    with pytest.raises(bridge.ApplicationError, match="control character"):
        await serve(adapter, http_scope(extensions=HINTING))


async def test_a_client_gone_while_hinting_is_client_disconnected(runner: str) -> None:
    """ASGI 2.4: ``send()`` raises ``OSError`` once the client is gone; the app's call raises
    ``ClientDisconnected`` (an ``OSError``, as Gunicorn's own call would raise)."""
    raised: list[BaseException] = []

    async def gone(message: Message) -> None:
        raise ConnectionResetError("the client went away")

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            environ["wsgi.early_hints"]([LINK])
        except OSError as exc:
            raised.append(exc)
            raise
        return []

    exchange = Exchange(on_send=gone)
    await serve(bridge.WsgiToAsgi(app, runner=runner), http_scope(extensions=HINTING), exchange)
    assert [type(exc) for exc in raised] == [bridge.ClientDisconnected]
