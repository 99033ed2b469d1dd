"""A file an ASGI app sends by path (``http.response.pathsend``) through AsgiToWsgi, under real
WSGI servers, when the app's own background task deletes it right after.

Starlette's ``FileResponse`` sends ``http.response.pathsend`` when the extension is offered,
then runs its ``background`` task (``starlette/responses.py``, ``FileResponse.__call__`` and
``_handle_simple``: ``await send({"type": "http.response.pathsend", "path": str(self.path)})``,
1.x); FastAPI's ``FileResponse(path, background=BackgroundTask(os.unlink, path))`` is the common
way to serve a temporary file and clean it up. The app has done nothing wrong: once ``send()``
returned, the file is the server's to deliver.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e import servers
from tests.e2e.apps.edge_facts import ASGI_REPORT as REPORT

REQUESTS = 20
SETUPS = {
    "gunicorn-sync": servers.gunicorn("asgi_edge_apps:files"),
    "waitress": servers.waitress("asgi_edge_apps:files", extra=["--threads=4"]),
    "wsgiref": servers.wsgiref("asgi_edge_apps:files"),
}


@pytest.fixture(scope="module", params=sorted(SETUPS))
def server(request: pytest.FixtureRequest) -> Iterator[servers.Server]:
    with servers.running(SETUPS[request.param]) as running:
        yield running


def test_a_file_deleted_by_the_background_task_is_still_delivered(server: servers.Server) -> None:
    """ASGI ``http.response.pathsend`` extension (the server sends the file at ``path``) and
    the HTTP spec's background work (the app may go on after the response is complete): bridge
    must hold the file by the time ``send()`` returns, so every response is the whole file, never
    a 500 for an ``ApplicationError`` the app did not cause."""
    with httpx.Client(base_url=server.url, timeout=20) as client:
        responses = [client.get("/report") for _ in range(REQUESTS)]
    statuses = [response.status_code for response in responses]
    assert statuses == [200] * REQUESTS, server.log()[-2000:]
    assert all(response.content == REPORT for response in responses)
