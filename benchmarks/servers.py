"""Process control: start one server on a free 127.0.0.1 port, wait until it answers, stop it.

Every server is a child process of the harness started with an explicit argv; :func:`running`
stops it on every path (SIGTERM to its PID, SIGKILL after a timeout, then SIGKILL to any worker
process it forked that is still the same process). Memory is read from ``/proc/PID/status`` of
the process that serves requests (Gunicorn's worker, Uvicorn's single process).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
_MIB = 1024 * 1024
_PR_SET_PDEATHSIG = 1


class ServerFailed(RuntimeError):
    """The server exited or never answered; the message ends with its log's tail."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def uvicorn_argv(target: str, port: int) -> list[str]:
    """Uvicorn: uvloop, httptools, 1 worker, no access log, no lifespan, no websockets."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        HOST,
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--ws",
        "none",
        "--workers",
        "1",
        "--lifespan",
        "off",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def granian_argv(target: str, port: int) -> list[str]:
    """Granian's WSGI interface: 1 worker, HTTP/1 only, no websockets, its default threads."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
        "--http",
        "1",
        "--no-ws",
        "--log-level",
        "warning",
        target,
    ]


def gunicorn_argv(target: str, port: int, worker: str) -> list[str]:
    """Gunicorn with 1 worker of class ``worker`` (sync, gthread with 8 threads, or asgi)."""
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        target,
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        "1",
        "--worker-class",
        worker,
        "--timeout",
        "120",
        "--graceful-timeout",
        "3",
        "--log-level",
        "warning",
    ]
    if worker == "gthread":
        argv += ["--threads", "8"]
    return argv


@dataclass
class Server:
    """A started server process, with the workers it forked once they are known."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    workers: list[tuple[int, str]] = field(default_factory=list)

    @property
    def serving_pid(self) -> int:
        """The PID that serves requests: the single worker if it forked one, else itself."""
        return self.workers[0][0] if self.workers else self.process.pid

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the server wrote to stdout/stderr."""
        text = self.log.read_text(errors="replace").strip().splitlines()
        return "\n".join(text[-lines:])

    def find_workers(self) -> None:
        """Record the processes the server forked (PID and start time, to kill them safely)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        with contextlib.suppress(OSError):
            for child in children.read_text().split():
                start = _start_time(int(child))
                if start and (int(child), start) not in self.workers:
                    self.workers.append((int(child), start))


@contextlib.contextmanager
def running(
    argv_for_port: Callable[[int], list[str]],
    probe: Callable[[int], bool],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """Start a server, yield it once ``probe(port)`` says it is ready, and always stop it.

    ``env`` holds variables to set in the server's environment on top of the harness's own.

    :raises ServerFailed: the process exited early or was not ready within READY_TIMEOUT.
    """
    port = free_port()
    with tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False) as log:
        try:
            process = subprocess.Popen(
                argv_for_port(port),
                cwd=cwd,
                env={**os.environ, **env} if env else None,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        except OSError:
            Path(log.name).unlink()
            raise
    server = Server(process, port, Path(log.name))
    try:
        _wait_ready(server, probe)
        yield server
    finally:
        stop(server)
        server.log.unlink(missing_ok=True)


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the harness dies, even by SIGKILL (Linux PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_ready(server: Server, probe: Callable[[int], bool]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerFailed(
                f"server exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        server.find_workers()
        with contextlib.suppress(OSError):
            if probe(server.port):
                server.find_workers()
                return
        time.sleep(0.05)
    raise ServerFailed(f"server not ready after {READY_TIMEOUT:.0f} s:\n{server.log_tail()}")


def stop(server: Server) -> None:
    """SIGTERM the server, SIGKILL it after STOP_TIMEOUT, then SIGKILL surviving workers."""
    process = server.process
    server.find_workers()
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for pid, start in server.workers:
        if _start_time(pid) == start:  # still the worker we saw, not a reused PID
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _start_time(pid: int) -> str:
    """Field 22 of /proc/PID/stat (start time in clock ticks), or "" if the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def memory_mib(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of a process, in MiB; empty if it is gone."""
    values: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024 / _MIB
    return values


def reset_peak_rss(pid: int) -> bool:
    """Reset VmHWM to the current VmRSS (``clear_refs`` value 5, Linux 4.0+); say if it worked."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True
