"""AsgiToWsgi and 103 Early Hints: ``http.response.early_hint`` through ``wsgi.early_hints``.

ASGI "Early Hints" extension: a server that lists ``http.response.early_hint`` in
``scope["extensions"]`` accepts the message; AsgiToWsgi lists it only when the WSGI server gives
``environ["wsgi.early_hints"]`` (Gunicorn 27), which the server thread then calls with the
``Link`` headers. RFC 8297 2 / RFC 9110 15.2: 1xx responses come before the final response, so
a hint after ``http.response.start`` is the app's protocol error. Real servers:
``e2e/test_early_hints.py``.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from bridge import ApplicationError, AsgiToWsgi
from tests.asgi_to_wsgi.helpers import TEXT, make_environ, run

pytestmark = pytest.mark.usefixtures("no_asgi_to_wsgi_leaks")
HINT = {"type": "http.response.early_hint", "links": [b"</style.css>; rel=preload"]}
START = {"type": "http.response.start", "status": 200, "headers": TEXT}


class Hints:
    """A server's ``wsgi.early_hints``: records each call and the thread it was made on."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[tuple[str, str]], int]] = []

    def __call__(self, headers: list[tuple[str, str]]) -> None:
        self.calls.append((headers, threading.get_ident()))


def test_hints_reach_wsgi_early_hints_on_the_server_thread(backend: str) -> None:
    offered: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        offered.append("http.response.early_hint" in scope["extensions"])
        await send(HINT)
        await send(HINT)
        await send(START)
        await send({"type": "http.response.body", "body": b"ok"})

    hints = Hints()
    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        result = run(adapter, make_environ(**{"wsgi.early_hints": hints}), validate=False)
    assert (result.status, result.body, offered) == ("200 OK", b"ok", [True])
    link = [("Link", "</style.css>; rel=preload")]
    assert hints.calls == [(link, threading.get_ident())] * 2


def test_a_hint_after_the_response_started_is_a_protocol_error(backend: str) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(START)
        await send(HINT)

    hints = Hints()
    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        result = run(adapter, make_environ(**{"wsgi.early_hints": hints}), validate=False)
    assert (result.status, hints.calls) == ("500 Internal Server Error", [])
    assert isinstance(result.error, ApplicationError)
    assert "'http.response.early_hint' sent after 'http.response.start'" in str(result.error)


def test_no_extension_and_no_hint_without_wsgi_early_hints(backend: str) -> None:
    """A server without ``wsgi.early_hints`` (most of them): not advertised, not accepted."""
    offered: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        offered.append("http.response.early_hint" in scope["extensions"])
        await send(HINT)

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        result = run(adapter, make_environ())
    assert (result.status, offered) == ("500 Internal Server Error", [False])
    assert "unexpected ASGI message type 'http.response.early_hint'" in str(result.error)


def test_a_client_gone_while_hinting_ends_the_request(backend: str) -> None:
    def gone(headers: list[tuple[str, str]]) -> None:
        raise BrokenPipeError("the client went away")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(HINT)
        await receive()  # http.disconnect once the WSGI side gave up

    with AsgiToWsgi(app, lifespan="off", backend=backend) as adapter:
        result = run(adapter, make_environ(**{"wsgi.early_hints": gone}), validate=False)
    assert result.status == "400 Bad Request"
