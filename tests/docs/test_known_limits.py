"""The known limits the compatibility page states, shown on a real server (and what works).

On an asyncio server, the greenlet runner runs the WSGI app on the event-loop thread, where code
that refuses to block a running asyncio loop refuses to run: Django's ORM raises
``SynchronousOnlyOperation`` and Flask's ``async def`` views (asgiref's ``AsyncToSync``) raise
``RuntimeError``. The default thread runner serves both.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e import servers

pytestmark = pytest.mark.e2e

CASES = {
    "django-orm": ("/django/notes/", "SynchronousOnlyOperation"),
    "flask-async-view": ("/flask/async", "cannot use AsyncToSync in the same thread"),
}


@pytest.fixture(scope="module")
def server() -> Iterator[servers.Server]:
    with servers.running(servers.uvicorn("tests.docs.apps.greenlet_limits:app")) as running:
        yield running


@pytest.mark.parametrize("case", list(CASES))
def test_thread_runner_serves_it(server: servers.Server, case: str) -> None:
    target, _ = CASES[case]
    assert httpx.get(f"{server.url}/thread{target}", timeout=20).status_code == 200


@pytest.mark.parametrize("case", list(CASES))
def test_greenlet_runner_on_asyncio_refuses_it(server: servers.Server, case: str) -> None:
    """Known limit: a 500, and the framework's own error in the log."""
    target, error = CASES[case]
    assert httpx.get(f"{server.url}/greenlet{target}", timeout=20).status_code == 500
    assert servers.wait_for(lambda: error in server.log(), timeout=10)
