"""Start real HTTP servers on 127.0.0.1 for end-to-end tests, and always stop them by PID.

Every server runs in its own process group, started by :func:`running` (a context manager): it
picks a free port, waits (bounded) until the port accepts connections, and on exit sends SIGTERM to
the group, then SIGKILL after a bounded grace period, so no test leaves a server behind even when it
fails. The server's output goes to a log file whose tail is shown when a server dies or never
comes up.

Apps are named ``"module:attribute"`` and imported by the server from ``tests/e2e/apps``.
The /proc helpers (:func:`thread_count`, :func:`fd_count`, :func:`rss_kib`, :func:`children`) let
leak tests compare a server process against its own baseline.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

APPS_DIR = Path(__file__).parent / "apps"
REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
# Gunicorn 27 opens a control socket at one fixed path shared by every instance; servers that the
# tests run side by side must not share it.
_GUNICORN_PRIVATE_CONTROL = (
    ["--no-control-socket"]
    if int(importlib.metadata.version("gunicorn").split(".")[0]) >= 27
    else []
)


@dataclass(frozen=True)
class Server:
    """A running server process: where to reach it and where its output goes."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """Return what the server printed so far."""
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def uvicorn(app: str, *, http: str = "h11", extra: Sequence[str] = ()) -> list[str]:
    """Command line for Uvicorn serving ``app`` (``http`` is ``h11`` or ``httptools``)."""
    return [
        sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", "{port}",
        "--http", http, "--lifespan", "on", "--no-access-log", "--log-level", "warning", *extra,
    ]  # fmt: skip


def hypercorn(app: str, *, worker_class: str = "asyncio", extra: Sequence[str] = ()) -> list[str]:
    """Command line for Hypercorn serving ``app`` with the ``asyncio`` or ``trio`` worker."""
    return [
        sys.executable, "-m", "hypercorn", app, "--bind", "127.0.0.1:{port}",
        "--worker-class", worker_class, *extra,
    ]  # fmt: skip


def granian(app: str, *, extra: Sequence[str] = ()) -> list[str]:
    """Command line for Granian serving ``app`` with its ``asgi`` interface (one worker)."""
    return [
        sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
        "--port", "{port}", "--workers", "1", "--no-ws", *extra, app,
    ]  # fmt: skip


def gunicorn(
    app: str, *, worker_class: str = "sync", workers: int = 1, extra: Sequence[str] = ()
) -> list[str]:
    """Command line for Gunicorn serving ``app`` with ``sync`` or ``gthread`` workers."""
    return [
        sys.executable, "-m", "gunicorn", app, "--bind", "127.0.0.1:{port}",
        "--worker-class", worker_class, "--workers", str(workers), "--graceful-timeout", "5",
        "--log-level", "warning", *_GUNICORN_PRIVATE_CONTROL, *extra,
    ]  # fmt: skip


def waitress(app: str, *, extra: Sequence[str] = ()) -> list[str]:
    """Command line for Waitress serving ``app``."""
    return [sys.executable, "-m", "waitress", "--listen=127.0.0.1:{port}", *extra, app]


def uwsgi(app: str) -> list[str]:
    """Command line for uWSGI (one worker, Python threads on) serving ``app``, if installed."""
    return [
        str(Path(sys.executable).parent / "uwsgi"), "--http-socket", "127.0.0.1:{port}",
        "--module", app, "--master", "--processes", "1", "--enable-threads", "--die-on-term",
        "--need-app", "--disable-logging",
    ]  # fmt: skip


def wsgiref(app: str) -> list[str]:
    """Command line for the standard library's wsgiref server (threaded) serving ``app``."""
    return [sys.executable, str(Path(__file__).parent / "serve_wsgiref.py"), app, "{port}"]


@contextlib.contextmanager
def running(
    argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Iterator[Server]:
    """Start the server ``argv`` (``{port}`` is replaced), yield it once it accepts, then stop it.

    :param argv: the command line; every ``{port}`` in it becomes the chosen port.
    :param env: extra environment variables for the server.
    :param cwd: the working directory (default: ``tests/e2e/apps``).
    :raises RuntimeError: the server exited or did not accept connections in time.
    """
    port = free_port()
    log_file = tempfile.NamedTemporaryFile(prefix="bridge-e2e-", suffix=".log", delete=False)  # noqa: SIM115
    full_env = {**os.environ, "PYTHONPATH": _pythonpath(), "PYTHONUNBUFFERED": "1", **(env or {})}
    process = subprocess.Popen(
        [part.replace("{port}", str(port)) for part in argv],
        cwd=cwd or APPS_DIR,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log_file.close()
    server = Server(process, port, Path(log_file.name))
    try:
        _wait_until_accepting(server)
        yield server
    finally:
        stop(server)


def stop(server: Server, *, timeout: float = STOP_TIMEOUT) -> int:
    """Stop ``server``'s process group: SIGTERM, then SIGKILL after ``timeout``; return its code."""
    if server.process.poll() is None:
        _signal_group(server.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(server.pid, signal.SIGKILL)
            server.process.wait(timeout=timeout)
    _signal_group(server.pid, signal.SIGKILL)  # workers a master left behind, if any
    return server.process.returncode


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _pythonpath() -> str:
    parts = [str(APPS_DIR), str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]
    return os.pathsep.join(part for part in parts if part)


def _wait_until_accepting(server: Server, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.log()}")
        address = ("127.0.0.1", server.port)
        with contextlib.suppress(OSError), socket.create_connection(address, timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not accept connections within {timeout} s:\n{server.log()}")


# --- /proc readings, for leak and memory checks --------------------------------------------------


def _status_field(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(f"no {field} in /proc/{pid}/status")


def thread_count(pid: int) -> int:
    """Return how many threads process ``pid`` has."""
    return _status_field(pid, "Threads")


def rss_kib(pid: int) -> int:
    """Return the resident set size of process ``pid`` in KiB."""
    return _status_field(pid, "VmRSS")


def peak_rss_kib(pid: int) -> int:
    """Return the peak resident set size (high-water mark) of process ``pid`` in KiB."""
    return _status_field(pid, "VmHWM")


def fd_count(pid: int) -> int:
    """Return how many file descriptors process ``pid`` has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def children(pid: int) -> list[int]:
    """Return the PIDs of the direct children of process ``pid`` (e.g. Gunicorn's workers)."""
    found: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        text = Path(f"/proc/{pid}/task/{task}/children").read_text()
        found.extend(int(part) for part in text.split())
    return found


def wait_for(predicate: object, *, timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout`` passes; return its last verdict.

    For conditions in another process that no event can signal (thread counts, files).
    """
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
