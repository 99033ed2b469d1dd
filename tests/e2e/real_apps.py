"""Shared pieces of the real-application matrix (``test_real_apps_*.py``).

Each direction has its server kinds: :data:`WSGI_TO_ASGI_KINDS` serve an ``apps/`` ASGI app (a
``WsgiToAsgi``), :data:`ASGI_TO_WSGI_KINDS` a PEP 3333 app (an ``AsgiToWsgi``). :func:`serve`
starts one (stopped by PID on exit) and says which kind it is, so :func:`known_bug` can mark a
test as a strict expected failure on the kinds where a known bridge bug breaks it: the test then
turns into an unexpected pass, and so a failure of the suite, the day the bug is fixed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass

import pytest

from tests.e2e import asgi_servers, servers
from tests.e2e.asgi_to_wsgi_support import SERVER_KINDS

#: ASGI servers for the WsgiToAsgi side: Uvicorn (httptools), Hypercorn (trio), Granian.
WSGI_TO_ASGI_KINDS = ("uvicorn-httptools", "hypercorn-trio", "granian")
#: WSGI servers for the AsgiToWsgi side, each one process (so the app's state is one).
ASGI_TO_WSGI_KINDS = ("gunicorn-sync-1", "gunicorn-gthread-1", "waitress")

TIMEOUT = 20.0


@dataclass(frozen=True)
class Served:
    """A server of kind ``kind`` running one of the matrix's apps."""

    kind: str
    server: servers.Server

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port


@contextlib.contextmanager
def serve(kind: str, app: str, *, env: dict[str, str] | None = None) -> Iterator[Served]:
    """Serve ``app`` (``"module:attribute"`` in ``apps/``) with server ``kind``; stop it on exit."""
    if kind in WSGI_TO_ASGI_KINDS:
        argv = asgi_servers.command(kind, app)
    else:
        argv = SERVER_KINDS[kind](app)
    with servers.running(argv, env=env) as server:
        yield Served(kind, server)


def known_bug(
    request: pytest.FixtureRequest, served: Served, *, on: Collection[str], reason: str
) -> None:
    """Mark the running test a strict expected failure when ``served`` is one of the kinds ``on``.

    :param reason: the bug, in one line.
    """
    if served.kind in on:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


def logged_once(served: Served, message: str) -> bool:
    """Wait (bounded) until ``message`` is in the server's log; return whether it is there once."""
    assert servers.wait_for(lambda: message in served.server.log(), timeout=TIMEOUT), (
        served.server.log()[-3000:]
    )
    return served.server.log().count(message) == 1
