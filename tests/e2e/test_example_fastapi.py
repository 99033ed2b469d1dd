"""Smoke test of ``examples/fastapi_app``: its Gunicorn config, two sync workers, every route."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from tests.e2e import servers
from tests.e2e.asgi_to_wsgi_support import CLIENT_TIMEOUT, abandoned_task_lines

EXAMPLE_DIR = servers.REPO_ROOT / "examples" / "fastapi_app"


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Server]:
    """The example as its README runs it (``-c gunicorn.conf.py``), on a free port."""
    argv = servers.gunicorn("wsgi:application", workers=2, extra=["-c", "gunicorn.conf.py"])
    database = tmp_path_factory.mktemp("notes") / "notes.sqlite3"
    with servers.running(argv, env={"NOTES_DB": str(database)}, cwd=EXAMPLE_DIR) as server:
        yield server


def url(server: servers.Server, target: str) -> str:
    return server.url + target


def test_about_names_the_worker_that_answered(notes: servers.Server) -> None:
    about = httpx.get(url(notes, "/"), timeout=CLIENT_TIMEOUT).json()
    assert about["service"] == "notes"
    assert about["worker_pid"] in servers.children(notes.pid)
    assert isinstance(about["worker_started_at"], float)


def test_home_page_for_a_browser_names_the_server_and_the_bridge(notes: servers.Server) -> None:
    html = {"Accept": "text/html,application/xhtml+xml"}
    home = httpx.get(url(notes, "/"), headers=html, timeout=CLIENT_TIMEOUT)
    assert home.headers["content-type"].startswith("text/html")
    assert re.search(r'id="served-by">gunicorn/[\d.]+, through bridge\.AsgiToWsgi<', home.text)
    for target in ("/docs", "/notes", "/events?count=5"):
        assert f'href="{target}"' in home.text


def test_openapi_docs_are_served_with_their_files(notes: servers.Server) -> None:
    """Swagger UI's script and stylesheet come from the app, not a CDN: the docs work offline."""
    docs = httpx.get(url(notes, "/docs"), timeout=CLIENT_TIMEOUT)
    assert docs.status_code == 200
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+\.(?:js|css))['"]""", docs.text)
    assert len(assets) == 2
    for asset in assets:
        assert httpx.get(url(notes, asset), timeout=CLIENT_TIMEOUT).status_code == 200
    schema = httpx.get(url(notes, "/openapi.json"), timeout=CLIENT_TIMEOUT).json()
    assert {"/", "/notes", "/notes/{note_id}", "/events"} <= set(schema["paths"])


def test_note_is_created_read_listed_and_indexed_in_the_background(notes: servers.Server) -> None:
    created = httpx.post(url(notes, "/notes"), json={"text": "three little words"}, timeout=5)
    assert created.status_code == 201
    note = created.json()
    assert note["text"] == "three little words"

    def indexed() -> bool:
        response = httpx.get(url(notes, f"/notes/{note['id']}"), timeout=CLIENT_TIMEOUT)
        return bool(response.json()["words"] == 3)

    assert servers.wait_for(indexed, timeout=10, interval=0.1)
    listed = httpx.get(url(notes, "/notes"), params={"limit": 5}, timeout=CLIENT_TIMEOUT).json()
    assert note["id"] in [item["id"] for item in listed]


def test_errors_are_json(notes: servers.Server) -> None:
    missing = httpx.get(url(notes, "/notes/999999"), timeout=CLIENT_TIMEOUT)
    assert (missing.status_code, missing.json()) == (404, {"detail": "no note 999999"})
    invalid = httpx.post(url(notes, "/notes"), json={"text": ""}, timeout=CLIENT_TIMEOUT)
    assert invalid.status_code == 422


def test_events_stream(notes: servers.Server) -> None:
    target = url(notes, "/events?count=3&interval=0.05")
    with httpx.stream("GET", target, timeout=CLIENT_TIMEOUT) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        data = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert [json.loads(item)["tick"] for item in data] == [0, 1, 2]


def test_notes_over_a_websocket(notes: servers.Server) -> None:
    """The example's WebSocket route through AsgiToWsgi on Gunicorn sync workers: each text
    message is stored and answered with the note, which the HTTP routes then see."""
    with ws_connect(f"ws://127.0.0.1:{notes.port}/ws/notes", open_timeout=CLIENT_TIMEOUT) as ws:
        ws.send("sent over a websocket")
        note = json.loads(ws.recv(CLIENT_TIMEOUT))
    assert note["text"] == "sent over a websocket"
    stored = httpx.get(url(notes, f"/notes/{note['id']}"), timeout=CLIENT_TIMEOUT).json()
    assert stored["text"] == "sent over a websocket"


def test_graceful_stop_closes_the_store_in_every_worker(tmp_path: Path) -> None:
    """The example's lifespan shutdown runs when Gunicorn stops its workers (SIGTERM)."""
    argv = servers.gunicorn("wsgi:application", workers=2, extra=["-c", "gunicorn.conf.py"])
    env = {"NOTES_DB": str(tmp_path / "notes.sqlite3")}
    with servers.running(argv, env=env, cwd=EXAMPLE_DIR) as server:
        pid = httpx.get(server.url + "/", timeout=CLIENT_TIMEOUT).json()["worker_pid"]
        assert servers.stop(server) == 0
    log = server.log()
    assert f"notes: worker {pid} opened" in log
    assert f"notes: worker {pid} closed the store" in log
    assert abandoned_task_lines(log) == []
