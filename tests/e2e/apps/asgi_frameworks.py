"""Third-party ASGI apps in one process, each through ``AsgiToWsgi``, composed by Werkzeug.

``asgi_frameworks:application`` is the PEP 3333 app the servers import. Werkzeug's
``DispatcherMiddleware`` mounts each adapter at a prefix (the ASGI app sees it as ``root_path``),
and Django's at the root, where it answers every other path; the adapters share the process's
private event loop, and each runs its app's lifespan:

==============  ===========================================================================
``/quart``      ``quart_site``: lifespan, JSON, upload, session, async stream
``/litestar``   ``litestar_site``: lifespan, validation, dependency injection, stream
``/fastapi``    ``fastapi_cleanup``: lifespan, (yield) dependencies, background work
``/``           ``admin_site.on_wsgi``: Django's ASGI handler, the admin, async views
==============  ===========================================================================

Django is not mounted at a prefix: it adds ``SCRIPT_NAME`` to a relative ``STATIC_URL`` or
``MEDIA_URL`` only if nothing read them before the first request, and its own start-up does.
"""

from __future__ import annotations

import fastapi_cleanup
import litestar_site
import quart_site
from admin_site import on_wsgi
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from bridge import AsgiToWsgi

application = DispatcherMiddleware(
    on_wsgi.application,
    {
        "/quart": AsgiToWsgi(quart_site.app),
        "/litestar": AsgiToWsgi(litestar_site.app),
        "/fastapi": AsgiToWsgi(fastapi_cleanup.app),
    },
)
