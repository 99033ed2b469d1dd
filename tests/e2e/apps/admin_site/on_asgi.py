"""The admin project on an ASGI server: Django's WSGI handler through ``bridge.WsgiToAsgi``."""

from __future__ import annotations

from admin_site.project import configure

configure()

from django.core.wsgi import get_wsgi_application  # noqa: E402  (after configure)

from bridge import WsgiToAsgi  # noqa: E402

application = WsgiToAsgi(get_wsgi_application())
