"""The admin project on a WSGI server: Django's ASGI handler through ``bridge.AsgiToWsgi``."""

from __future__ import annotations

from admin_site.project import configure

configure()

from django.core.asgi import get_asgi_application  # noqa: E402  (after configure)

from bridge import AsgiToWsgi  # noqa: E402

application = AsgiToWsgi(get_asgi_application())
