"""The Django admin, driven as a browser would: CSRF-protected login, add and edit with uploads.

Used by both directions of the real-application matrix (``apps/admin_site``): the same flow runs
against Django's WSGI handler through ``WsgiToAsgi`` and its ASGI handler through ``AsgiToWsgi``.
Every function takes an ``httpx.Client`` that keeps the cookies (``csrftoken``, ``sessionid``) and
the ``prefix`` the project is mounted at.
"""

from __future__ import annotations

import html
import re
import uuid
from pathlib import Path

import django
import httpx

#: The superuser of ``apps/admin_site/project.py``.
USERNAME = "admin"
PASSWORD = "e2e-only-password"
CHANGELIST = "/admin/admin_site/document/"
#: A static file of the admin app, served by WhiteNoise at ``/static/`` + this path.
ADMIN_CSS = "admin/css/base.css"

_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_CHANGE_LINK = re.compile(r'href="([^"]*/admin/admin_site/document/\d+/change/)"')
_CURRENT_FILE = re.compile(r'Currently: <a href="([^"]+)"')


def log_in_add_and_edit(client: httpx.Client, first: bytes, second: bytes) -> None:
    """Log in, add a document with the file ``first``, then edit its title and replace the file
    with ``second``; check that each stored file downloads byte for byte."""
    title = f"report {uuid.uuid4().hex[:8]}"
    log_in(client, "")
    save_document(client, f"{CHANGELIST}add/", title, "first.bin", first)
    url = change_url(client, "", title)
    assert attachment(client, url) == first
    save_document(client, url, f"{title} v2", "second.bin", second)
    assert change_url(client, "", f"{title} v2") == url
    assert attachment(client, url) == second


def csrf_token(page: httpx.Response) -> str:
    """Return the CSRF form token of an admin page."""
    found = _CSRF_FIELD.search(page.text)
    assert found is not None, page.text[:2000]
    return found.group(1)


def log_in(client: httpx.Client, prefix: str) -> None:
    """Log in through the admin's login form (the index redirects there first)."""
    index = client.get(f"{prefix}/admin/")
    assert index.status_code == 302
    login_url = index.headers["location"]
    assert login_url == f"{prefix}/admin/login/?next={prefix}/admin/"
    form = client.get(login_url)
    assert form.status_code == 200
    assert "csrftoken" in client.cookies
    answer = client.post(
        login_url,
        data={
            "csrfmiddlewaretoken": csrf_token(form),
            "username": USERNAME,
            "password": PASSWORD,
            "next": f"{prefix}/admin/",
        },
    )
    assert answer.status_code == 302, answer.text[:2000]
    assert answer.headers["location"] == f"{prefix}/admin/"
    assert "sessionid" in client.cookies


def save_document(client: httpx.Client, url: str, title: str, name: str, data: bytes) -> None:
    """Submit the admin form at ``url`` (add or change) with a title and a file upload."""
    form = client.get(url)
    assert form.status_code == 200
    answer = client.post(
        url,
        data={"csrfmiddlewaretoken": csrf_token(form), "title": title, "_save": "Save"},
        files={"attachment": (name, data, "application/octet-stream")},
    )
    assert answer.status_code == 302, answer.text[:2000]


def change_url(client: httpx.Client, prefix: str, title: str) -> str:
    """Return the change page of the document titled ``title``, found on the change list."""
    page = client.get(f"{prefix}{CHANGELIST}", params={"q": title})
    assert page.status_code == 200
    assert html.escape(title) in page.text
    links = set(_CHANGE_LINK.findall(page.text))
    assert len(links) == 1, links
    return links.pop()


def attachment(client: httpx.Client, url: str) -> bytes:
    """Download the file the change page at ``url`` shows as "Currently"."""
    page = client.get(url)
    found = _CURRENT_FILE.search(page.text)
    assert found is not None, page.text[:2000]
    download = client.get(html.unescape(found.group(1)))
    assert download.status_code == 200
    return download.content


def static_file(name: str) -> bytes:
    """Return the admin app's static file ``name`` as it is on disk."""
    return (Path(django.__file__).parent / "contrib/admin/static" / name).read_bytes()
