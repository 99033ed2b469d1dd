"""Gunicorn settings for AsgiToWsgi WebSockets: close them with 1001 when a worker is told to stop.

Gunicorn tells an app nothing when a graceful stop begins (SIGTERM): open WebSockets would hold
the worker until ``graceful_timeout`` and then be killed with it. This hook closes the adapter
first, which closes every open WebSocket with 1001 ("going away") at once.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any


def post_worker_init(worker: Any) -> None:
    """On SIGTERM, close the AsgiToWsgi app (its WebSockets get 1001), then stop as usual."""
    stop = signal.getsignal(signal.SIGTERM)

    def close_then_stop(signum: int, frame: FrameType | None) -> None:
        worker.wsgi.close()
        if callable(stop):
            stop(signum, frame)

    signal.signal(signal.SIGTERM, close_then_stop)
