"""Serve a WSGI app with Werkzeug's development server (threaded), which hands over the socket.

Usage: ``python serve_werkzeug.py module:attribute PORT`` (binds 127.0.0.1). Stops on SIGTERM.
"""

from __future__ import annotations

import importlib
import signal
import sys
from types import FrameType

from werkzeug.serving import make_server


def main() -> None:
    module_name, _, attribute = sys.argv[1].partition(":")
    app = getattr(importlib.import_module(module_name), attribute)
    server = make_server("127.0.0.1", int(sys.argv[2]), app, threaded=True)

    def shut_down(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, shut_down)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
