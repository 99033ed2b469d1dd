"""Lifespan ``"auto"`` with apps that do not speak lifespan, and when ``router.wsgi`` starts it,
under real servers.

The ASGI lifespan spec: "If an exception is raised when calling the application callable with a
``lifespan.startup`` message or a ``scope`` with type ``lifespan``, the server must continue but
not send any lifespan events." Uvicorn does so in ``--lifespan auto`` (``uvicorn/lifespan/on.py``,
``main``: ``if self.config.lifespan == "auto": msg = "ASGI 'lifespan' protocol appears
unsupported."; self.logger.info(msg)``, 0.55). Apps that do not speak lifespan include naive apps
that treat every scope as ``http`` (they read ``message["body"]`` or send
``http.response.start``) and a bare Starlette ``StreamingResponse`` used as the app.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e import servers
from tests.e2e.rawhttp import RawConnection

TIMEOUT = 20.0
#: A bridge log record about lifespan at INFO or WARNING (``LEVEL logger: message``).
LIFESPAN_NOTICE = re.compile(r"^(?:INFO|WARNING) bridge[.\w]*: .*lifespan.*$", re.MULTILINE)


@pytest.fixture(scope="module")
def naive_apps() -> Iterator[servers.Server]:
    """Gunicorn (sync) serving a naive app and a bare StreamingResponse, each in AsgiToWsgi."""
    with servers.running(servers.gunicorn("asgi_edge_apps:naive_apps")) as running:
        yield running


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [("/naive/x", "naive ok", "KeyError"), ("/stream/x", "chunk-1 chunk-2", "http.response.start")],
    ids=["naive-app", "bare-streaming-response"],
)
def test_an_app_that_raises_on_lifespan_is_served_without_it(
    naive_apps: servers.Server, path: str, body: str, reason: str
) -> None:
    """ASGI lifespan spec (an exception on the lifespan scope: continue, no lifespan events),
    ``lifespan="auto"``: the app is served, every request, and bridge says once why it runs it
    without lifespan (INFO or WARNING, with the exception), not an ERROR and a 500 per request
    for the life of the process."""
    with httpx.Client(base_url=naive_apps.url, timeout=TIMEOUT) as client:
        answers = [client.get(path) for _ in range(2)]
    assert [(answer.status_code, answer.text) for answer in answers] == [(200, body)] * 2
    notices = [line for line in LIFESPAN_NOTICE.findall(naive_apps.log()) if reason in line]
    assert len(notices) == 1, naive_apps.log()


@pytest.mark.parametrize(
    "argv",
    [
        servers.uvicorn("asgi_edge_apps:naive_router"),
        servers.gunicorn("asgi_edge_apps:naive_router_wsgi"),
    ],
    ids=["uvicorn-router", "gunicorn-router-wsgi"],
)
def test_a_router_serves_apps_that_do_not_speak_lifespan(argv: list[str]) -> None:
    """ASGI lifespan spec, as above, for a Router's fan-out: an app that raises on the lifespan
    scope, or answers it with an ``http.response.start`` (which is no lifespan message), is
    left out of lifespan, not a failed startup (Uvicorn would exit at startup; ``router.wsgi``
    would answer 500 on every ASGI route)."""
    with (
        servers.running(argv) as server,
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as client,
    ):
        naive = client.get("/naive/x")
        streamed = client.get("/stream")
        legacy = client.get("/")
    assert (naive.status_code, naive.text) == (200, "naive ok")
    assert (streamed.status_code, streamed.text) == (200, "chunk-1 chunk-2")
    assert (legacy.status_code, legacy.text) == (200, "legacy ok")


def test_a_startup_that_never_answers_is_reported_while_the_request_waits() -> None:
    """``lifespan="auto"`` with an app that neither answers ``lifespan.startup`` nor raises: the
    first request waits up to ``startup_timeout`` (60 s), so bridge must say so while it waits,
    in a WARNING that names the app, the option and the way out (``lifespan="off"``)."""
    with (
        servers.running(servers.gunicorn("asgi_edge_apps:silent")) as server,
        RawConnection(server.port, timeout=TIMEOUT) as waiting,
    ):
        waiting.send_head("GET", "/")
        waiting.send_end()
        warned = servers.wait_for(lambda: _startup_warning(server.log()) is not None, timeout=10)
        waiting.sock.shutdown(socket.SHUT_RDWR)
    assert warned, server.log()
    warning = _startup_warning(server.log())
    assert warning is not None
    assert "never_answers_lifespan" in warning
    assert "startup_timeout" in warning


def _startup_warning(log: str) -> str | None:
    for line in log.splitlines():
        if line.startswith("WARNING bridge") and re.search(r"lifespan=['\"]off['\"]", line):
            return line
    return None


@pytest.mark.parametrize("worker_class", ["sync", "gthread"])
def test_router_wsgi_starts_lifespan_before_the_first_wsgi_view(worker_class: str) -> None:
    """The migration guide's pattern (a resource opened in the ASGI app's lifespan, used by a
    legacy view through ``bridge.await_``): the ASGI apps' lifespan has run before the first
    request of the worker, whatever route it is for, as it has under an ASGI server (ASGI
    lifespan spec: startup before any request)."""
    argv = servers.gunicorn("asgi_edge_apps:migration_wsgi", worker_class=worker_class)
    with (
        servers.running(argv) as server,
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as client,
    ):
        first = client.get("/")
        status = client.get("/api/status")
    assert first.status_code == 200, server.log()[-2000:]
    assert first.json() == {"fetched": "pooled"}
    assert status.json() == {"pool": True}
