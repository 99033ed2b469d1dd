"""The real-application matrix, AsgiToWsgi side: third-party ASGI apps on Gunicorn (sync and
gthread) and Waitress, driven through real flows with httpx and raw sockets.

One server per kind serves every test of this module: ``asgi_frameworks``, where Werkzeug's
``DispatcherMiddleware`` mounts an ``AsgiToWsgi`` per app: Quart, Litestar and a FastAPI app
with work after the response at prefixes, Django's ASGI handler with the admin at the root.
Flows that a known bridge bug breaks on some server are strict expected failures there
(:func:`real_apps.known_bug`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e import django_admin, real_apps, servers
from tests.e2e.apps import patterns
from tests.e2e.real_apps import TIMEOUT, Served

#: How many downloads the race gets to show itself in: 13 % to 33 % of them lose it today.
EXPORT_ATTEMPTS = 200


@pytest.fixture(scope="module", params=real_apps.ASGI_TO_WSGI_KINDS)
def site(request: pytest.FixtureRequest) -> Iterator[Served]:
    with real_apps.serve(request.param, "asgi_frameworks:application") as served:
        yield served


@pytest.fixture
def client(site: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.url, timeout=TIMEOUT) as http:
        yield http


def token() -> str:
    return uuid.uuid4().hex


def events_of(client: httpx.Client, mark: str) -> list[str]:
    return list(client.get(f"/fastapi/events/{mark}").json())


# --- Quart ----------------------------------------------------------------------------------------


def test_quart_routes_see_root_path_and_lifespan(client: httpx.Client) -> None:
    """ASGI scope from the environ: ``root_path`` is ``SCRIPT_NAME``, ``path`` includes it, and
    ``url_for`` builds the mounted URL; ``before_serving`` (lifespan startup) ran in this
    process."""
    item = client.get("/quart/items/a%20b", params={"q": "ü"}).json()
    assert item.pop("started_pid") == item.pop("pid")
    assert item == {"name": "a b", "q": "ü", "root_path": "/quart", "url": "/quart/items/a%20b"}


def test_quart_upload_session_and_stream(client: httpx.Client) -> None:
    """Quart parses a multipart body received through ``http.request`` messages, keeps a signed
    session cookie, and streams an async generator's lines."""
    data = b"".join(patterns.blocks(2 * 1024 * 1024 + 16))
    upload = client.post("/quart/upload", data={"note": "für"}, files={"document": ("d.bin", data)})
    assert upload.json() == {
        "filename": "d.bin",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "note": "für",
    }
    assert [client.post("/quart/visit").json()["visits"] for _ in range(3)] == [1, 2, 3]
    lines = client.get("/quart/stream", params={"n": 300})
    assert lines.text == "".join(f"line {number}\n" for number in range(300))


# --- Litestar -------------------------------------------------------------------------------------


def test_litestar_validation_injection_stream_and_lifespan(client: httpx.Client) -> None:
    """Litestar: typed path and query parameters (400 for a query value of the wrong type), a
    dataclass body validated (400 with the reason when a field is missing), an injected
    dependency, an ``on_startup`` hook that ran in this process, and a ``Stream`` response."""
    item = client.get("/litestar/items/7", params={"q": "x", "limit": "3"}).json()
    assert item.pop("started_pid") == item.pop("pid")
    assert item == {"item_id": 7, "q": "x", "limit": 3, "root_path": "/litestar"}
    assert client.get("/litestar/items/7", params={"limit": "many"}).status_code == 400
    order = client.post("/litestar/orders", json={"item": "pear", "quantity": 2})
    assert (order.status_code, order.json()["total"]) == (201, 10)
    refused = client.post("/litestar/orders", json={"item": "pear"})
    assert refused.status_code == 400
    assert "quantity" in refused.text
    lines = client.get("/litestar/stream", params={"n": 300})
    assert lines.text == "".join(f"line {number}\n" for number in range(300))


# --- FastAPI: lifespan, dependencies and work after the response ----------------------------------


def test_fastapi_dependencies_and_lifespan_state(client: httpx.Client) -> None:
    """Lifespan state reaches each request (ASGI lifespan ``state``, shallow-copied per request);
    a yield dependency's cleanup runs after the endpoint, once, with its ``except`` branch when
    the endpoint raised (409)."""
    done, failed = token(), token()
    order = client.get(f"/fastapi/orders/{done}", params={"item": "pear", "quantity": 3})
    assert order.status_code == 200
    body = order.json()
    assert body.pop("started_pid") == body.pop("pid")
    assert body == {"total": 15, "currency": "EUR"}
    refused = client.get(f"/fastapi/orders/{failed}", params={"item": "kiwi"})
    assert (refused.status_code, refused.json()) == (409, {"detail": "no price for kiwi"})
    for mark, expected in (
        (done, ["begin", "work", "end"]),
        (failed, ["begin", "work", "rollback", "end"]),
    ):
        assert servers.wait_for(lambda mark=mark: "end" in events_of(client, mark), timeout=TIMEOUT)
        assert events_of(client, mark) == expected


def test_fastapi_background_tasks_run_after_the_response(client: httpx.Client) -> None:
    """``BackgroundTasks`` (a sync task, run in a thread, then an async one) run after the
    response was sent (the adapter keeps the app's task until it returns)."""
    mark = token()
    answer = client.post(f"/fastapi/jobs/{mark}")
    assert answer.json() == {"scheduled": mark}
    expected = ["sync task", "async task"]
    assert servers.wait_for(lambda: events_of(client, mark) == expected, timeout=TIMEOUT), (
        events_of(client, mark)
    )


def test_fastapi_file_response_deleted_by_its_background_task(
    site: Served, client: httpx.Client
) -> None:
    """``FileResponse(path, background=BackgroundTask(os.unlink, path))``: the ASGI pathsend
    extension lets the app consider the file sent once ``send()`` returned, so the background
    task may delete it at once; every download must still arrive whole (and the file be gone)."""
    paths: list[Path] = []
    for _ in range(EXPORT_ATTEMPTS):
        mark = token()
        export = client.get(f"/fastapi/export/{mark}")
        assert export.status_code == 200, export.text
        assert export.content == mark.encode() * 1000
        paths.append(Path(export.headers["x-export-path"]))
    assert servers.wait_for(lambda: not any(path.exists() for path in paths), timeout=TIMEOUT)


# --- Django's ASGI handler ------------------------------------------------------------------------


def test_django_admin_login_add_and_edit_on_the_asgi_handler(client: httpx.Client) -> None:
    """The Django admin through ``get_asgi_application()``: CSRF login, then a model added with a
    3 MiB upload (received as ``http.request`` messages) and edited with a new file; each stored
    file downloads byte for byte."""
    first = b"".join(patterns.blocks(3 * 1024 * 1024 + 5))
    django_admin.log_in_add_and_edit(client, first, b"second version\n" * 100)


def test_django_async_views_and_static_files(client: httpx.Client) -> None:
    """An ``async def`` view runs on the adapter's event loop (async ORM), an async generator
    streams through ``StreamingHttpResponse``, and WhiteNoise serves the admin's static files."""
    stats = client.get("/stats/").json()
    assert stats["async"] is True
    assert (stats["path"], stats["script_name"]) == ("/stats/", "")
    assert client.get("/countdown/", params={"n": 4}).text == "4\n3\n2\n1\n"
    on_disk = django_admin.static_file(django_admin.ADMIN_CSS)
    static = client.get(f"/static/{django_admin.ADMIN_CSS}")
    assert (static.status_code, static.content) == (200, on_disk)
