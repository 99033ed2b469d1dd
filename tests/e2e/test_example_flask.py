"""Smoke tests of ``examples/flask_app`` (through the harness) and of ``scripts/demo`` itself.

The example is a ``bridge.Router``: FastAPI at ``/api/v2``, the Flask app as the fallback."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e import servers

EXAMPLES = servers.REPO_ROOT / "examples"
DEMO = servers.REPO_ROOT / "scripts" / "demo"
TIMEOUT = 20.0


@pytest.fixture(scope="module")
def example() -> Iterator[servers.Server]:
    argv = servers.uvicorn("flask_app.asgi:app", extra=["--app-dir", str(EXAMPLES)])
    with servers.running(argv) as running:
        yield running


@pytest.fixture
def client(example: servers.Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=example.url, timeout=TIMEOUT) as http:
        yield http


def test_import_has_no_side_effects() -> None:
    """Importing the example (and its ASGI wrapper) starts no thread and opens no socket."""
    code = (
        "import threading, flask_app.asgi as m; "
        "assert threading.active_count() == 1, threading.enumerate(); "
        "print(type(m.app).__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=EXAMPLES, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip() == "Router"


def test_home_page_links_every_page(client: httpx.Client) -> None:
    home = client.get("/")
    assert home.status_code == 200
    assert "text/html" in home.headers["Content-Type"]
    for path in ("/visits", "/upload", "/stream", "/items", "/api/v2/items", "/api/v2/about"):
        assert f'href="{path}"' in home.text
    assert re.search(r'id="served-by">uvicorn/[\d.]+, through bridge\.WsgiToAsgi<', home.text)


def test_visit_counter_counts_and_resets(client: httpx.Client) -> None:
    """The session cookie round-trips; the reset form redirects back with a flashed message."""
    counts = [_visits(client.get("/visits").text) for _ in range(3)]
    assert counts == [1, 2, 3]
    reset = client.post("/visits/reset", follow_redirects=True)
    assert reset.status_code == 200
    assert "The counter starts again." in reset.text
    assert _visits(reset.text) == 1


def test_upload_form_reports_size_and_sha256(client: httpx.Client) -> None:
    assert '<input type="file" name="file">' in client.get("/upload").text
    data = os.urandom(3 * 1024 * 1024 + 17)
    response = client.post(
        "/upload", files={"file": ("random.bin", data)}, data={"comment": "hi <there>"}
    )
    assert response.status_code == 200
    assert f'<dd id="size">{len(data)}</dd>' in response.text
    assert f'<dd id="sha256">{hashlib.sha256(data).hexdigest()}</dd>' in response.text
    assert '<dd id="comment">hi &lt;there&gt;</dd>' in response.text
    assert "Choose a file first." in client.post("/upload", data={"comment": "x"}).text


def test_stream_page_arrives_whole(client: httpx.Client) -> None:
    with client.stream("GET", "/stream", params={"lines": 3}) as response:
        assert response.status_code == 200
        page = "".join(response.iter_text())
    assert page.count("<li>line ") == 3
    assert "All 3 lines sent." in page


def test_api_v2_is_served_by_fastapi_under_its_mount(client: httpx.Client) -> None:
    """Issue 5 section 4: the new API answers at /api/v2 (its docs URLs know the mount)."""
    items = client.get("/api/v2/items")
    assert items.status_code == 200
    assert items.json()[0] == {"id": 1, "name": "bridge"}
    assert client.get("/api/v2/items/2").json() == {"id": 2, "name": "router"}
    docs = client.get("/api/v2/docs").text
    assert "url: '/api/v2/openapi.json'" in docs
    for asset in re.findall(r"""(?:src|href)=['"](/[^'"]+\.(?:js|css))['"]""", docs):
        assert client.get(asset).status_code == 200  # Swagger UI's files: served here, offline


def test_api_404_falls_through_to_the_flask_app(client: httpx.Client) -> None:
    """The strangler fig: FastAPI's 404 is replayed to Flask, and the client sees one answer."""
    about = client.get("/api/v2/about")
    assert about.status_code == 200
    assert "text/html" in about.headers["Content-Type"]
    assert 'id="served-by">Served by the Flask app' in about.text
    unknown = client.get("/api/v2/items/99")
    assert unknown.status_code == 404
    assert "neither the API nor the old app knows item 99" in unknown.text


def test_flask_view_awaits_the_shared_async_client(client: httpx.Client) -> None:
    """Issue 5 sections 2 and 4: a Flask view reads the API through bridge.await_, several at
    once."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(lambda _: client.get("/items"), range(16)))
    for page in pages:
        assert page.status_code == 200
        assert '<li data-id="3">await_</li>' in page.text


def _visits(page: str) -> int:
    found = re.search(r'<strong id="visits">(\d+)</strong>', page)
    assert found, page
    return int(found.group(1))
