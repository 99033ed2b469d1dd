"""A Django project with the admin, for the real-application matrix: served both ways.

``admin_site.on_asgi:application`` is Django's WSGI handler through ``bridge.WsgiToAsgi`` (for
ASGI servers); ``admin_site.on_wsgi:application`` is Django's ASGI handler
(``get_asgi_application``) through ``bridge.AsgiToWsgi`` (for WSGI servers). Settings, a fresh
sqlite database with its migrations, a superuser and the media directory are made on import
(:mod:`admin_site.project`). Static files are served by WhiteNoise's middleware.
"""
