"""Files a WSGI app hands to ``wsgi.file_wrapper``, under real ASGI servers with and without
``http.response.pathsend``.

Flask's ``send_file`` of a ``NamedTemporaryFile`` (and Django's ``FileResponse``) give the open
file to ``wsgi.file_wrapper``; closing the response closes the file, and closing a
``NamedTemporaryFile`` deletes it. Granian advertises ``http.response.pathsend`` and opens the
path only after ``send()`` returned, in a task of its own (``src/asgi/io.rs``,
``HTTPResponseFile``: ``self.rt.spawn(async move { let res = match File::open(&file_path)
.await { ... Err(_) => { log::info!("Cannot open file {file_path}"); response_404() } ... });
empty_future_into_py(py)``, 2.8): so a path is only worth sending when the file will still be
there then. Uvicorn and Hypercorn do not advertise pathsend: the file is streamed.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e import servers
from tests.e2e.apps.edge_facts import WSGI_REPORT as REPORT

SETUPS = {
    "granian": servers.granian("wsgi_edge_apps:files"),
    "uvicorn": servers.uvicorn("wsgi_edge_apps:files", http="httptools"),
    "hypercorn-trio": servers.hypercorn("wsgi_edge_apps:files", worker_class="trio"),
}


@pytest.fixture(scope="module", params=sorted(SETUPS))
def server(request: pytest.FixtureRequest) -> Iterator[servers.Server]:
    with servers.running(SETUPS[request.param]) as running:
        yield running


def test_a_temporary_file_sent_with_send_file_arrives_whole(
    server: servers.Server,
) -> None:
    """PEP 3333 ``wsgi.file_wrapper`` ("the server ... may use the file's ``fileno()`` ... as
    long as the result is the same as iterating") and ``close()`` on every path: the client
    gets the file's bytes, whatever the server does with a path, even though the app's
    ``close()`` deletes the file (ASGI ``http.response.pathsend`` names a file by path only)."""
    with httpx.Client(base_url=server.url, timeout=20) as client:
        responses = [client.get("/report") for _ in range(3)]
    assert [response.status_code for response in responses] == [200, 200, 200], server.log()
    assert all(response.content == REPORT for response in responses)
