"""The four ASGI server set-ups every WsgiToAsgi end-to-end test runs under, and their app process.

``KINDS`` names them for ``pytest.mark.parametrize`` ids; :func:`command` builds the command line
for one of them serving an ``apps/`` ASGI app; :func:`app_pid` finds the process that runs the app
(Hypercorn runs it in a spawned worker, Uvicorn in the process it started).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tests.e2e import servers

KINDS = ("uvicorn-h11", "uvicorn-httptools", "hypercorn-asyncio", "hypercorn-trio")


def command(kind: str, app: str, *, extra: Sequence[str] = ()) -> list[str]:
    """Return the command line of server set-up ``kind`` (one of :data:`KINDS`, or ``granian``)
    serving ``app``."""
    server, _, flavour = kind.partition("-")
    if server == "uvicorn":
        return servers.uvicorn(app, http=flavour, extra=extra)
    if server == "hypercorn":
        return servers.hypercorn(app, worker_class=flavour, extra=extra)
    if server == "granian":
        return servers.granian(app, extra=extra)
    raise ValueError(f"unknown server kind {kind!r}")


def app_pid(server: servers.Server) -> int:
    """Return the PID of the process running the app: a spawned worker if any, else the server."""
    for child in servers.children(server.pid):
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
            return child
    return server.pid
