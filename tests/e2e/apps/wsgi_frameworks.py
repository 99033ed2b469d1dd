"""Third-party WSGI apps in one process, composed by Werkzeug and served through ``WsgiToAsgi``.

``wsgi_frameworks:application`` is the ASGI app the servers import. Werkzeug's
``DispatcherMiddleware`` mounts each app at a prefix (so each one sees a ``SCRIPT_NAME``):

==============  ===========================================================================
``/pyramid``    ``pyramid_site``: routes, JSON renderer, session, no exception view
``/falcon``     ``falcon_site``: JSON media, errors, ``BytesIO`` and generator streams
``/bottle``     ``bottle_site``: templates, upload, signed cookies, ``static_file``
``/files``      Werkzeug's ``SharedDataMiddleware`` over the files directory
==============  ===========================================================================

The files directory is made on import and holds ``large.bin``: ``BRIDGE_E2E_LARGE_SIZE`` bytes
(default 8 MiB) of :func:`patterns.blocks`, so the tests can check every byte of it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import bottle_site
import falcon_site
import pyramid_site
from patterns import blocks
from plain import wsgi_not_found
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.shared_data import SharedDataMiddleware

from bridge import WsgiToAsgi


def make_files() -> Path:
    """Make the files directory (removed at exit) with ``large.bin`` in it."""
    files = Path(tempfile.mkdtemp(prefix="bridge-e2e-files-"))
    atexit.register(shutil.rmtree, files, ignore_errors=True)
    size = int(os.environ.get("BRIDGE_E2E_LARGE_SIZE", 8 * 1024 * 1024))
    with (files / "large.bin").open("wb") as out:
        out.writelines(blocks(size))
    return files


FILES = make_files()

wsgi_app = DispatcherMiddleware(
    wsgi_not_found,
    {
        "/pyramid": pyramid_site.app,
        "/falcon": falcon_site.app,
        "/bottle": bottle_site.make_app(FILES),
        "/files": SharedDataMiddleware(wsgi_not_found, {"/": str(FILES)}),
    },
)
application = WsgiToAsgi(wsgi_app)
