"""The error pages AsgiToWsgi writes itself, on uWSGI, whose ``start_response`` breaks on
``exc_info`` even before any header was sent.

uWSGI 2.0 restores the exception it is given and goes on (``plugins/python/wsgi_headers.c``,
``py_uwsgi_spit``: ``PyErr_Restore(exc_type, exc_val, exc_tb); // the error is reported, let's
continue... // return NULL``, 2.0.31), so the call returns a value with an exception set and
Python raises ``SystemError: <built-in function uwsgi_spit> returned a result with an exception
set``; uWSGI has already taken the status and headers, and the body is lost. uWSGI is a dev
dependency as the ``pyuwsgi`` wheel: the real-server test runs on it, the other gives bridge a
``start_response`` that fails the same way.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from bridge import AsgiToWsgi
from tests.e2e import servers

ERROR_PAGE = b"500 Internal Server Error\n"


def test_an_error_page_arrives_whole_on_uwsgi() -> None:
    """PEP 3333 (``exc_info`` "should be supplied by the application only if start_response is
    being called by an error handler", and a server must accept it before headers are sent):
    uWSGI does not, so bridge passes ``exc_info`` only when a status was already given; the
    client gets the whole 500 page, not a status line and a connection closed mid-body."""
    argv = servers.uwsgi("asgi_edge_apps:failing")
    if sys.platform == "win32":
        pytest.skip("uWSGI has no Windows build")
    assert Path(argv[0]).exists(), "uWSGI is a test dependency (pyuwsgi): run scripts/test"
    with servers.running(argv) as server:
        response = httpx.get(server.url + "/", timeout=20)
    assert (response.status_code, response.content) == (500, ERROR_PAGE)


@pytest.mark.usefixtures("no_asgi_to_wsgi_leaks")
def test_an_error_page_needs_no_exc_info_before_a_status_was_given() -> None:
    """As above, with a ``start_response`` that refuses ``exc_info`` as uWSGI does."""
    calls: list[tuple[str, bool]] = []

    def start_response(status: str, headers: object, exc_info: object = None) -> object:
        calls.append((status, exc_info is not None))
        if exc_info is not None:
            raise SystemError(
                "<built-in function uwsgi_spit> returned a result with an exception set"
            )
        return lambda data: None

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "localhost",
               "SERVER_PORT": "80", "wsgi.url_scheme": "http"}  # fmt: skip

    async def failing_app(scope: object, receive: object, send: object) -> None:
        raise RuntimeError("the ASGI app failed on purpose")

    with AsgiToWsgi(failing_app, lifespan="off") as adapter:
        body = b"".join(adapter(environ, start_response))  # type: ignore[arg-type]
    assert calls == [("500 Internal Server Error", False)]
    assert body == ERROR_PAGE
