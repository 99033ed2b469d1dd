"""Smoke tests of ``examples/django_app``, deployed both ways its README gives, on a temp database.

Uvicorn serves ``asgi_entry:app`` (Django through WsgiToAsgi, the API natively); Gunicorn sync
workers serve ``wsgi_entry:application`` with the example's ``gunicorn.conf.py`` (Django natively,
the API through AsgiToWsgi). Each server gets a fresh sqlite file (``HELPDESK_DB``), migrated with
the committed migrations and holding one superuser, so the example's own ``db.sqlite3`` is never
touched. Clients keep cookies and send the token as a browser would (CSRF is on).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e import servers

EXAMPLE_DIR = servers.REPO_ROOT / "examples" / "django_app"
TIMEOUT = 20.0
ADMIN_USER = "admin"
ADMIN_PASSWORD = secrets.token_urlsafe(16)
# Uvicorn as the demo runs it (``--http auto`` picks httptools); h11 is in its own test below.
SETUPS = {
    "uvicorn": servers.uvicorn(
        "asgi_entry:app", http="httptools", extra=["--app-dir", str(EXAMPLE_DIR)]
    ),
    "gunicorn-sync": servers.gunicorn(
        "wsgi_entry:application", workers=2, extra=["-c", "gunicorn.conf.py"]
    ),
}


def example_env(database: Path) -> dict[str, str]:
    """The environment the example runs in here: its settings, on the given sqlite file."""
    return {"DJANGO_SETTINGS_MODULE": "helpdesk.settings", "HELPDESK_DB": str(database)}


def manage(database: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run ``manage.py`` of the example on ``database``; return its output, failing on errors."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=EXAMPLE_DIR,
        env={**os.environ, **example_env(database), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def make_database(directory: Path) -> Path:
    """A database made as the README says: ``migrate``, then ``createsuperuser``."""
    database = directory / "db.sqlite3"
    manage(database, "migrate", "--noinput")
    password = {"DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD}
    manage(database, "createsuperuser", "--noinput", "--username", ADMIN_USER,
           "--email", "admin@example.com", env=password)  # fmt: skip
    return database


@pytest.fixture(scope="module", params=sorted(SETUPS))
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[servers.Server]:
    """The example on one server, over its own fresh database."""
    database = make_database(tmp_path_factory.mktemp("helpdesk"))
    argv = SETUPS[request.param]
    with servers.running(argv, env=example_env(database), cwd=EXAMPLE_DIR) as running:
        yield running


@pytest.fixture
def client(server: servers.Server) -> Iterator[httpx.Client]:
    """A browser-like client: keeps cookies, sends ``Origin`` (Django's CSRF check reads it)."""
    headers = {"Origin": server.url}
    with httpx.Client(base_url=server.url, timeout=TIMEOUT, headers=headers) as http:
        yield http


def is_wsgi_server(server: servers.Server) -> bool:
    return "gunicorn" in server.process.args


def csrf_token(page: httpx.Response) -> str:
    """The hidden ``csrfmiddlewaretoken`` of the form on ``page``."""
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


# --- Django ---------------------------------------------------------------------------------------


def test_home_page_names_the_interface_and_links_with_url_tags(
    client: httpx.Client, server: servers.Server
) -> None:
    """Django at ``/`` names its server: natively on Gunicorn, through WsgiToAsgi on Uvicorn;
    ``{% url %}`` links come out unprefixed (empty SCRIPT_NAME)."""
    home = client.get("/")
    assert home.status_code == 200
    assert "text/html" in home.headers["Content-Type"]
    served_by = re.search(r'<strong id="served-by">([^<]+)</strong>', home.text)
    assert served_by
    if is_wsgi_server(server):
        assert served_by.group(1).startswith("gunicorn/")
        assert "natively" in served_by.group(1)
    else:
        assert served_by.group(1).startswith("uvicorn/")
        assert served_by.group(1).endswith(", through bridge.WsgiToAsgi")
    for href in ("/tickets/", "/tickets/new/", "/admin/", "/api/v2/", "/api/v2/stats"):
        assert f'href="{href}"' in home.text


def test_ticket_form_needs_the_csrf_token_and_files_the_ticket(client: httpx.Client) -> None:
    """The browser flow: GET the form (cookie + token), POST it, follow the redirect."""
    form = client.get("/tickets/new/")
    assert form.status_code == 200
    assert "csrftoken" in client.cookies
    title = f"printer on fire {uuid.uuid4().hex[:8]}"
    data = {"title": title, "description": "smoke\nand flames", "priority": "high"}

    forged = client.post("/tickets/new/", data=data)
    assert forged.status_code == 403
    assert "CSRF verification failed" in forged.text

    token = csrf_token(form)
    created = client.post("/tickets/new/", data={**data, "csrfmiddlewaretoken": token})
    assert created.status_code == 302
    location = created.headers["Location"]
    assert re.fullmatch(r"/tickets/\d+/", location), location
    detail = client.get(location)
    assert detail.status_code == 200
    assert f"{title}</h1>" in detail.text
    assert '<dd id="priority">High</dd>' in detail.text
    assert "smoke<br>and flames" in detail.text
    assert re.search(r"Ticket #\d+ filed\.", detail.text)  # the message survived the redirect
    assert f'<a href="{location}">' in client.get("/tickets/").text


def test_ticket_form_shows_errors(client: httpx.Client) -> None:
    token = csrf_token(client.get("/tickets/new/"))
    invalid = client.post("/tickets/new/", data={"title": "", "csrfmiddlewaretoken": token})
    assert invalid.status_code == 200
    assert "This field is required." in invalid.text


def test_admin_login_page_its_css_and_a_login(client: httpx.Client) -> None:
    """The admin redirects to its login page, whose stylesheet is served from /static/; the
    superuser made with ``createsuperuser`` logs in (session and CSRF across requests)."""
    entry = client.get("/admin/")
    assert (entry.status_code, entry.headers["Location"]) == (302, "/admin/login/?next=/admin/")
    login = client.get("/admin/login/", params={"next": "/admin/"})
    assert login.status_code == 200
    assert 'href="/static/admin/css/base.css"' in login.text
    css = client.get("/static/admin/css/base.css")
    assert css.status_code == 200
    assert css.headers["Content-Type"].startswith("text/css")
    assert "--body-bg" in css.text

    form = {"username": ADMIN_USER, "password": ADMIN_PASSWORD, "next": "/admin/",
            "csrfmiddlewaretoken": csrf_token(login)}  # fmt: skip
    logged_in = client.post("/admin/login/?next=/admin/", data=form)
    assert (logged_in.status_code, logged_in.headers["Location"]) == (302, "/admin/")
    tickets = client.get("/admin/tickets/ticket/")
    assert tickets.status_code == 200
    assert "Select ticket to change" in tickets.text


# --- the async API, and what falls through to Django ----------------------------------------------


def test_api_v2_is_the_async_app_and_builds_urls_under_its_mount(
    client: httpx.Client, server: servers.Server
) -> None:
    about = client.get("/api/v2/").json()
    assert about == {
        "api": "v2",
        "served_by": "starlette",
        "root_path": "/api/v2",
        "tickets": f"{server.url}/api/v2/tickets",
    }


def test_api_v2_files_tickets_that_django_shows(
    client: httpx.Client, server: servers.Server
) -> None:
    """One database for both worlds: a ticket filed through the API (async ORM, Django's form
    for validation) is on Django's pages, and Django's ``reverse`` gives the API its page URL."""
    title = f"filed by the api {uuid.uuid4().hex[:8]}"
    created = client.post("/api/v2/tickets", json={"title": title, "priority": "low"})
    assert created.status_code == 201
    ticket = created.json()
    assert (ticket["title"], ticket["priority"], ticket["open"]) == (title, "low", True)
    assert ticket["url"] == f"{server.url}/api/v2/tickets/{ticket['id']}"
    assert ticket["page"] == f"/tickets/{ticket['id']}/"

    assert client.get(ticket["url"]).json() == ticket
    assert ticket["id"] in [item["id"] for item in client.get("/api/v2/tickets").json()]
    assert f"{title}</h1>" in client.get(ticket["page"]).text

    invalid = client.post("/api/v2/tickets", json={"priority": "urgent"})
    assert invalid.status_code == 422
    assert set(invalid.json()["errors"]) == {"title", "priority"}
    assert client.post("/api/v2/tickets", content=b"not json").status_code == 400
    assert client.post("/api/v2/tickets", json=["a list"]).status_code == 400


def test_route_not_moved_yet_falls_through_to_django(client: httpx.Client) -> None:
    """The API has no /stats: its 404 is replayed to Django, which still serves it, with the
    original SCRIPT_NAME (empty: the prefix is not Django's) and its own ``reverse``."""
    stats = client.get("/api/v2/stats")
    assert stats.status_code == 200
    body = stats.json()
    assert (body["served_by"], body["script_name"], body["tickets_page"]) == (
        "django", "", "/tickets/"
    )  # fmt: skip
    assert isinstance(body["open"], int)


@pytest.mark.parametrize(
    "target",
    ["/api/v2/no-such-route", "/api/v2/tickets/999999999", "/no-such-page/"],
    ids=["unknown-api-route", "api-404-replayed", "unknown-page"],
)
def test_what_nobody_serves_gets_djangos_404_page(client: httpx.Client, target: str) -> None:
    """Every 404 the API answers is replayed, even its own "no such ticket": the client sees
    Django's 404 page, and only one response."""
    missing = client.get(target)
    assert missing.status_code == 404
    assert "text/html" in missing.headers["Content-Type"]
    assert '<h1 id="not-found">Not found</h1>' in missing.text
    assert f"<code>{target}</code>" in missing.text


# Behind a proxy that mounts the whole site at /desk: Uvicorn is told so with --root-path (the
# proxy strips /desk from the request), Gunicorn with SCRIPT_NAME (the request keeps it).
PROXIED = {
    "uvicorn": (SETUPS["uvicorn"] + ["--root-path", "/desk"], {}, ""),
    "gunicorn-sync": (SETUPS["gunicorn-sync"], {"SCRIPT_NAME": "/desk"}, "/desk"),
}


@pytest.mark.parametrize("setup", sorted(PROXIED))
def test_urls_carry_the_prefix_of_a_proxy(setup: str, tmp_path: Path) -> None:
    """Django's ``{% url %}`` and ``reverse``, Starlette's ``url_for``, and the API's ``reverse``
    of a Django page all start with the proxy's prefix, on both sides of the Router."""
    argv, extra_env, sent = PROXIED[setup]
    env = {**example_env(make_database(tmp_path)), **extra_env}
    with (
        servers.running(argv, env=env, cwd=EXAMPLE_DIR) as server,
        httpx.Client(base_url=server.url + sent, timeout=TIMEOUT) as client,
    ):
        home = client.get("/").text
        about = client.get("/api/v2/").json()
        ticket = client.post("/api/v2/tickets", json={"title": "behind a proxy"}).json()
        stats = client.get("/api/v2/stats").json()
    for href in ("/desk/tickets/", "/desk/tickets/new/", "/desk/admin/"):
        assert f'href="{href}"' in home
    assert about["root_path"] == "/desk/api/v2"
    assert about["tickets"] == f"{server.url}/desk/api/v2/tickets"
    assert ticket["url"] == f"{server.url}/desk/api/v2/tickets/{ticket['id']}"
    assert ticket["page"] == f"/desk/tickets/{ticket['id']}/"
    assert (stats["script_name"], stats["tickets_page"]) == ("/desk", "/desk/tickets/")


# --- the project itself ---------------------------------------------------------------------------


def test_committed_migrations_match_the_models(tmp_path: Path) -> None:
    assert "No changes detected" in manage(tmp_path / "db.sqlite3", "makemigrations", "--check",
                                           "--dry-run")  # fmt: skip


def test_importing_the_entry_points_starts_nothing(tmp_path: Path) -> None:
    """Both entry modules import (Django set up, router built) without a thread or a database."""
    database = tmp_path / "db.sqlite3"
    code = (
        "import threading, asgi_entry, wsgi_entry; "
        "assert threading.active_count() == 1, threading.enumerate(); "
        "print(type(asgi_entry.app).__name__, type(wsgi_entry.application).__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=EXAMPLE_DIR, capture_output=True, text=True,
        env={**os.environ, **example_env(database)}, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Router", "RouterWsgi"]
    assert not database.exists()


def test_djangos_set_cookie_reaches_the_client_on_uvicorn_h11(tmp_path: Path) -> None:
    """Django writes each ``Set-Cookie`` value with a leading space (``" csrftoken=..."``, from
    ``SimpleCookie.output(header="")``). WSGI servers send that as optional whitespace; through
    WsgiToAsgi it must reach the ASGI server without it (RFC 9110 5.5: a field value has no
    leading or trailing whitespace), or h11 (Uvicorn ``--http h11``, Hypercorn) refuses the
    response and drops the connection. Known bug: WsgiToAsgi passes the value as is."""
    argv = servers.uvicorn("asgi_entry:app", http="h11", extra=["--app-dir", str(EXAMPLE_DIR)])
    env = example_env(make_database(tmp_path))
    with (
        servers.running(argv, env=env, cwd=EXAMPLE_DIR) as server,
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as client,
    ):
        try:
            form = client.get("/tickets/new/")
        except httpx.RemoteProtocolError:
            pytest.fail(f"the server dropped the connection; its log:\n{server.log()}")
    assert form.status_code == 200
    assert "csrftoken" in form.cookies
