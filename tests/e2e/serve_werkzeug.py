"""Serve a WSGI app with Werkzeug's development server (threaded), which hands over the socket.

Usage: ``python serve_werkzeug.py module:attribute PORT`` (binds 127.0.0.1). SIGTERM's default
action stops it.
"""

from __future__ import annotations

import importlib
import sys

from werkzeug.serving import make_server

if __name__ == "__main__":
    module_name, _, attribute = sys.argv[1].partition(":")
    app = getattr(importlib.import_module(module_name), attribute)
    make_server("127.0.0.1", int(sys.argv[2]), app, threaded=True).serve_forever()
