"""Flask and Django under both WsgiToAsgi runners, for the limits the compatibility page names.

``/thread/...`` runs the apps in worker threads, ``/greenlet/...`` in greenlets on the event-loop
thread; below each, ``/flask/async`` is a Flask ``async def`` view and ``/django/notes/`` reads
Django's ORM (the e2e test project, ``tests/e2e/apps/django_site``).
"""

from __future__ import annotations

import logging

from django_site.wsgi import application as django_app
from flask import Flask

from bridge import Router

# Django logs a view's exception on django.request, which has no console handler when DEBUG is
# off; the test reads the exception's name from the server's log.
logging.getLogger("django.request").addHandler(logging.StreamHandler())

flask_app = Flask(__name__)


@flask_app.get("/async")
async def async_view() -> str:
    return "the async view ran\n"


def _both(runner: str) -> Router:
    return Router({"/flask": flask_app, "/django": django_app}, wsgi_to_asgi={"runner": runner})


app = Router({"/thread": _both("thread"), "/greenlet": _both("greenlet")})
