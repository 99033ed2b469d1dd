"""A real Django app with one sync view answering ``/hello`` (the ``django-hello`` scenario).

``wsgi`` is Django's WSGI handler (``get_wsgi_application()``), served natively by Gunicorn and
Granian and through the WsgiToAsgi adapters on Uvicorn; ``asgi`` is Django's own ASGI handler
(``get_asgi_application()``), which runs the same sync view in a thread of its own. Each is built
only when a server asks for it. Settings: :mod:`benchmarks.apps.django_settings`.
"""

from __future__ import annotations

import os
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path

from benchmarks.apps import HELLO

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.apps.django_settings")


def hello(request: HttpRequest) -> HttpResponse:
    """The 13-byte greeting from a plain sync view."""
    return HttpResponse(HELLO, content_type="text/plain")


urlpatterns = [path("hello", hello)]


def __getattr__(name: str) -> Any:
    if name == "wsgi":
        from django.core.wsgi import get_wsgi_application

        return get_wsgi_application()
    if name == "asgi":
        from django.core.asgi import get_asgi_application

        return get_asgi_application()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
