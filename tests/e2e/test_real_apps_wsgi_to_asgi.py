"""The real-application matrix, WsgiToAsgi side: third-party WSGI apps on Uvicorn, Hypercorn (trio)
and Granian, driven through real flows with httpx and raw sockets.

Two servers per kind, each shared by its module's tests: ``admin_site.on_asgi`` (the Django admin,
WhiteNoise) and ``wsgi_frameworks`` (Pyramid, Falcon, Bottle and Werkzeug's
``SharedDataMiddleware``, mounted by Werkzeug's ``DispatcherMiddleware``). Flows that a known
bridge bug breaks on some server are strict expected failures there (:func:`real_apps.known_bug`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e import django_admin, real_apps
from tests.e2e.apps import patterns
from tests.e2e.rawhttp import RawConnection
from tests.e2e.real_apps import TIMEOUT, Served

LARGE_SIZE = 8 * 1024 * 1024 + 11


@pytest.fixture(scope="module", params=real_apps.WSGI_TO_ASGI_KINDS)
def frameworks(request: pytest.FixtureRequest) -> Iterator[Served]:
    env = {"BRIDGE_E2E_LARGE_SIZE": str(LARGE_SIZE)}
    with real_apps.serve(request.param, "wsgi_frameworks:application", env=env) as served:
        yield served


@pytest.fixture(scope="module", params=real_apps.WSGI_TO_ASGI_KINDS)
def admin(request: pytest.FixtureRequest) -> Iterator[Served]:
    with real_apps.serve(request.param, "admin_site.on_asgi:application") as served:
        yield served


def client_for(served: Served) -> httpx.Client:
    return httpx.Client(base_url=served.url, timeout=TIMEOUT)


def large_file() -> bytes:
    return b"".join(patterns.blocks(LARGE_SIZE))


# --- Django admin (Django's WSGI handler) ------------------------------------------------------


def test_django_admin_login_add_and_edit_with_uploads(admin: Served) -> None:
    """The admin's CSRF-protected login, then a model added with a 3 MiB upload (Django spools it
    to a temporary file) and edited with a new title and file; each stored file downloads byte
    for byte. PEP 3333 ``wsgi.input`` (multipart bodies), ``HTTP_COOKIE`` and ``Set-Cookie``."""
    first = b"".join(patterns.blocks(3 * 1024 * 1024 + 5))
    with client_for(admin) as client:
        django_admin.log_in_add_and_edit(client, first, b"second version\n" * 100)


def test_django_admin_refuses_a_post_without_the_csrf_token(admin: Served) -> None:
    """Django's CSRF check sees the cookie but no form token: 403, and no session is made."""
    with client_for(admin) as client:
        client.get("/admin/login/")
        answer = client.post(
            "/admin/login/", data={"username": "admin", "password": django_admin.PASSWORD}
        )
        assert answer.status_code == 403
        assert "sessionid" not in client.cookies


def test_django_static_files_through_whitenoise(admin: Served) -> None:
    """WhiteNoise's middleware answers ``/static/`` from the admin app's files (Django's
    ``FileResponse``, so ``wsgi.file_wrapper``): the bytes on disk, then a 206 for a Range."""
    on_disk = django_admin.static_file(django_admin.ADMIN_CSS)
    with client_for(admin) as client:
        whole = client.get(f"/static/{django_admin.ADMIN_CSS}")
        assert whole.status_code == 200
        assert whole.headers["content-type"].startswith("text/css")
        assert whole.content == on_disk
        part = client.get(f"/static/{django_admin.ADMIN_CSS}", headers={"Range": "bytes=10-29"})
        assert part.status_code == 206
        assert part.content == on_disk[10:30]


def test_django_async_view_on_the_wsgi_handler(admin: Served) -> None:
    """An ``async def`` view under Django's WSGI handler (run by ``async_to_sync`` in the request's
    thread) uses the async ORM."""
    with client_for(admin) as client:
        stats = client.get("/stats/")
    assert stats.status_code == 200
    assert stats.json()["async"] is True
    assert stats.json()["path"] == "/stats/"
    assert stats.json()["script_name"] == ""


def test_django_file_response_of_a_temporary_file(admin: Served) -> None:
    """A ``FileResponse`` of a ``NamedTemporaryFile`` (deleted when the response is closed, PEP
    3333 ``close()``) arrives whole, on every server."""
    with client_for(admin) as client:
        expected = "id,title\n" + "".join(
            f"{pk},{title}\n" for pk, title in client.get("/stats/").json()["documents"]
        )
        for _ in range(3):
            export = client.get("/export/")
            assert export.status_code == 200, export.text
            assert export.headers["content-disposition"] == 'attachment; filename="documents.csv"'
            assert export.text == expected


# --- Pyramid, no exception view -----------------------------------------------------------------


def test_pyramid_routes_session_and_redirect(frameworks: Served) -> None:
    """Pyramid under a ``SCRIPT_NAME`` (PEP 3333): route matching on ``PATH_INFO``, URLs built
    with the prefix, a signed-cookie session, and a form POST answered with a redirect."""
    with client_for(frameworks) as client:
        assert client.get("/pyramid/").text == "hello from pyramid"
        item = client.get("/pyramid/items/a%20b", params={"q": "ü"}).json()
        assert item == {
            "name": "a b",
            "q": "ü",
            "script_name": "/pyramid",
            "url": f"{frameworks.url}/pyramid/items/a%20b",
        }
        assert [client.get("/pyramid/visit").json()["visits"] for _ in range(3)] == [1, 2, 3]
        answer = client.post("/pyramid/login", data={"user": "ada"})
        assert answer.status_code == 302
        assert answer.headers["location"] == f"{frameworks.url}/pyramid/items/ada"


def test_pyramid_exception_is_a_500_logged_once(frameworks: Served) -> None:
    """A view exception that no exception view handles escapes the WSGI app: the client gets a
    500 and the server's log shows the traceback exactly once."""
    token = uuid.uuid4().hex
    with client_for(frameworks) as client:
        assert client.get("/pyramid/boom", params={"token": token}).status_code == 500
    assert real_apps.logged_once(frameworks, f"RuntimeError: pyramid view failed {token}")


def test_pyramid_500_keeps_the_keep_alive_connection(frameworks: Served) -> None:
    """RFC 9112 9.3: "If the "close" connection option is present, the connection will not persist
    after the current response; else, if the received protocol is HTTP/1.1 (or later), the
    connection will persist after the current response." So after the 500 of an escaped Pyramid
    exception, the next request on the same connection gets its 200, or, if the 500 said
    ``Connection: close``, on a new connection."""
    with RawConnection(frameworks.port, timeout=TIMEOUT) as connection:
        failed = connection.request("GET", f"/pyramid/boom?token={uuid.uuid4().hex}")
        assert failed.status == 500
        closing = failed.header(b"connection") == b"close"
        if not closing:
            for _ in range(3):
                assert connection.request("GET", "/pyramid/").body == b"hello from pyramid"
    if closing:
        with RawConnection(frameworks.port, timeout=TIMEOUT) as connection:
            assert connection.request("GET", "/pyramid/").body == b"hello from pyramid"


# --- Falcon -------------------------------------------------------------------------------------


def test_falcon_json_media_and_errors(frameworks: Served) -> None:
    """Falcon reads JSON media from ``wsgi.input`` (bounded by ``CONTENT_LENGTH``), answers 201
    with a ``Location`` under its ``root_path`` (``SCRIPT_NAME``), and a JSON 400 for bad media."""
    text = f"note é {uuid.uuid4().hex}"
    with client_for(frameworks) as client:
        created = client.post("/falcon/notes", json={"text": text})
        assert created.status_code == 201
        note = created.json()
        assert created.headers["location"] == f"/falcon/notes/{note['id']}"
        listed = client.get("/falcon/notes", params={"limit": "5"}).json()
        assert note in listed["notes"]
        assert (listed["root_path"], listed["limit"]) == ("/falcon", 5)
        refused = client.post("/falcon/notes", json={"title": "no text"})
        assert refused.status_code == 400
        assert refused.json()["title"] == "bad note"
        assert client.get("/falcon/nowhere").status_code == 404


def test_falcon_streams_from_a_file_like_and_a_generator(frameworks: Served) -> None:
    """PEP 3333 ``wsgi.file_wrapper`` over a ``BytesIO`` (no file descriptor: it must be read, not
    sent by path) and an iterable of unknown length: both bodies whole."""
    size = 1024 * 1024 + 3
    with client_for(frameworks) as client:
        report = client.get("/falcon/report", params={"size": size})
        assert report.status_code == 200
        assert hashlib.sha256(report.content).hexdigest() == patterns.sha256_of(size)
        ticks = client.get("/falcon/ticks", params={"n": 500})
        assert ticks.text == "".join(f"tick {number}\n" for number in range(500))


# --- Bottle -------------------------------------------------------------------------------------


def test_bottle_template_upload_cookie_and_redirect(frameworks: Served) -> None:
    """Bottle parses a multipart upload from ``wsgi.input``, renders a template with the full path
    (``SCRIPT_NAME`` + ``PATH_INFO``), and sets a signed cookie before a redirect."""
    data = b"".join(patterns.blocks(300 * 1024 + 8))
    with client_for(frameworks) as client:
        page = client.get("/bottle/hello/ada")
        assert page.text == "<p>hello ada at /bottle/hello/ada</p>"
        upload = client.post(
            "/bottle/upload", data={"note": "für"}, files={"document": ("data.bin", data)}
        )
        assert upload.json() == {
            "filename": "data.bin",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "note": "für",
        }
        login = client.post("/bottle/login", data={"user": "ada"})
        assert login.status_code == 303
        assert client.get(login.headers["location"]).json() == {"user": "ada"}


def test_bottle_static_file_whole_and_range(frameworks: Served) -> None:
    """Bottle's ``static_file``: the whole file through ``wsgi.file_wrapper``, and a Range
    request answered 206 with exactly the bytes asked for."""
    content = large_file()
    with client_for(frameworks) as client:
        whole = client.get("/bottle/static/large.bin")
        assert whole.status_code == 200
        assert whole.content == content
        part = client.get("/bottle/static/large.bin", headers={"Range": "bytes=65530-65545"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 65530-65545/{LARGE_SIZE}"
        assert part.content == content[65530:65546]


# --- Werkzeug's SharedDataMiddleware --------------------------------------------------------------


def test_shared_data_serves_a_large_file_on_a_keep_alive_connection(frameworks: Served) -> None:
    """``SharedDataMiddleware`` sends an 8 MiB file (``wsgi.file_wrapper``; by path where the
    server supports ``http.response.pathsend``): byte for byte, with its ``Content-Length``; then
    a conditional GET with its ETag is a 304 (RFC 9110 13.1.2), and the connection still serves
    the next request (RFC 9112 9.3)."""
    with RawConnection(frameworks.port, timeout=TIMEOUT) as connection:
        whole = connection.request("GET", "/files/large.bin")
        assert whole.status == 200
        assert whole.header(b"content-length") == str(LARGE_SIZE).encode()
        assert whole.body == large_file()
        etag = whole.header(b"etag")
        assert etag is not None
        cached = connection.request("GET", "/files/large.bin", [("If-None-Match", etag.decode())])
        assert (cached.status, cached.body) == (304, b"")
        missing = connection.request("GET", "/files/no-such.bin")
        assert (missing.status, missing.body) == (404, b"not found")
