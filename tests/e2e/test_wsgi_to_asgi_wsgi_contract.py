"""What WsgiToAsgi offers a WSGI app under a real ASGI server: ``start_response`` as apps call
it, and the ``wsgi.multiprocess`` flag.

Gunicorn (``gunicorn/http/wsgi.py``: ``def start_response(self, status, headers,
exc_info=None)``), Waitress, Werkzeug's dev server and wsgiref (``wsgiref/handlers.py``:
``def start_response(self, status, headers,exc_info=None)``) all take ``exc_info`` by keyword,
and apps pass it so. Peer adapters report ``wsgi.multiprocess`` true (asgiref's ``WsgiToAsgi``,
``asgiref/wsgi.py`` 3.13: ``"wsgi.multiprocess": True``).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e import servers


@pytest.fixture(scope="module")
def server() -> Iterator[servers.Server]:
    with servers.running(servers.uvicorn("wsgi_edge_apps:app", http="httptools")) as running:
        yield running


def test_start_response_takes_exc_info_by_keyword(server: servers.Server) -> None:
    """PEP 3333 names the parameter ``exc_info`` and its own example servers (and every real
    one) accept it by keyword: the app's own error page, passed with ``exc_info=``, is sent
    as it is, not replaced by bridge's generic 500."""
    response = httpx.get(server.url + "/keyword-exc-info", timeout=20)
    assert response.status_code == 500
    assert response.text == "the app's own error page"


def test_wsgi_multiprocess_is_true_by_default(server: servers.Server) -> None:
    """PEP 3333: ``wsgi.multiprocess`` "should evaluate true if an equivalent application
    object may be simultaneously invoked by another process". bridge cannot know whether the
    server runs more workers (``uvicorn --workers 2``), so the conservative answer is true,
    as asgiref reports; ``wsgi.multithread`` is true (worker threads)."""
    flags = httpx.get(server.url + "/flags", timeout=20).json()
    assert flags == {"wsgi.multiprocess": True, "wsgi.multithread": True, "wsgi.run_once": False}


def test_a_single_process_deployment_can_say_so() -> None:
    """PEP 3333 ``wsgi.multiprocess``: the deployer who knows the app runs in one process
    (``uvicorn`` with one worker) says so with ``WsgiToAsgi(app, multiprocess=False)``, and the
    app sees false."""
    argv = servers.uvicorn("wsgi_edge_apps:single_process", extra=["--factory"])
    with servers.running(argv) as server:
        flags = httpx.get(server.url + "/flags", timeout=20).json()
    assert flags["wsgi.multiprocess"] is False
