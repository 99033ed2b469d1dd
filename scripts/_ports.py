"""Check the demo's ports on 127.0.0.1: free before ``scripts/demo`` starts anything, then held
by the very servers it started.

``python scripts/_ports.py free NAME=PORT ...``
    Exit 1, with one line per problem on stderr, if a PORT is not a port number, is given to two
    NAMEs, or is in use (naming the process that holds it, where ``/proc`` tells).
``python scripts/_ports.py ready LABEL PORT PID URL TEXT...``
    Wait (bounded) until process PID, or one of its descendants, listens on PORT and a GET of URL
    answers 200 with each TEXT in its body; exit 1 saying why not (PID exited, another process holds
    the port, or the answer is not the demo's). Without ``/proc`` only the answer is checked.

Standard library only, so it runs before ``.venv`` exists.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

PREFIX = "scripts/demo:"
READY_TIMEOUT = 60.0
PROBE_TIMEOUT = 2.0
LISTEN = "0A"  # the TCP_LISTEN state in /proc/net/tcp


def is_free(port: int) -> bool:
    """Return whether a server could listen on 127.0.0.1:``port`` now (as Uvicorn would bind)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def listeners(port: int) -> set[int]:
    """Return the PIDs of the processes with a socket listening on ``port`` (that we may see)."""
    inodes = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        for line in table.read_text().splitlines()[1:] if table.exists() else []:
            fields = line.split()
            if fields[3] == LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    found = set()
    for process in Path("/proc").iterdir() if inodes else []:
        try:
            if process.name.isdigit() and any(
                os.readlink(fd) in inodes for fd in (process / "fd").iterdir()
            ):
                found.add(int(process.name))
        except OSError:
            continue  # gone, or another user's
    return found


def family(pid: int) -> set[int]:
    """Return ``pid`` and all its descendants (Gunicorn's workers, for one)."""
    found, generation = {pid}, [pid]
    while generation:
        children = []
        for parent in generation:
            for task in Path(f"/proc/{parent}/task").glob("*/children"):
                try:
                    children += [int(child) for child in task.read_text().split()]
                except OSError:
                    continue  # the task ended
        generation = [child for child in children if child not in found]
        found.update(generation)
    return found


def describe(pid: int) -> str:
    """Return ``PID n: its command line`` (or just ``PID n``)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").strip()
    except OSError:
        return f"PID {pid}"
    return f"PID {pid}: {command.decode(errors='replace')}"


def free(assignments: list[str]) -> list[str]:
    """Return one message per port in ``NAME=PORT`` ``assignments`` that cannot be used."""
    problems: list[str] = []
    seen: dict[int, str] = {}
    for assignment in assignments:
        name, _, value = assignment.partition("=")
        port = int(value) if value.isdigit() else 0
        if not 0 < port < 65536:
            problems.append(f"{name}={value!r} is not a port number (1 to 65535)")
        elif port in seen:
            problems.append(f"{seen[port]} and {name} are both {port}: give each its own port")
        elif not is_free(port):
            holders = ", ".join(describe(pid) for pid in sorted(listeners(port)))
            problems.append(
                f"port {port} on 127.0.0.1 is in use{f' ({holders})' if holders else ''}; stop"
                f" that, or give this demo another port: {name}=<port> scripts/demo"
            )
        seen.setdefault(port, name)
    return problems


def is_running(pid: int) -> bool:
    """Return whether process ``pid`` exists and has not exited (a zombie has)."""
    try:
        os.kill(pid, 0)
        status = Path(f"/proc/{pid}/status")
        return not status.exists() or "State:\tZ" not in status.read_text()
    except OSError:
        return False


class WrongAnswer(Exception):
    """The server answered, but not as the demo does: waiting longer will not change that."""


def answer(url: str, texts: list[str]) -> str | None:
    """GET ``url`` (no proxy); return None if it answers 200 with ``texts``, else why it does not
    yet (it refused or dropped the connection).

    :raises WrongAnswer: it answered with another status, or without one of ``texts``.
    """
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers={"Accept": "text/html"})
    try:
        with opener.open(request, timeout=PROBE_TIMEOUT) as response:
            body = response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        raise WrongAnswer(f"{url} answered {exc.code} {exc.reason}") from exc
    except OSError as exc:  # refused, reset or timed out: not serving yet
        return f"{url}: {exc}"
    missing = [text for text in texts if text not in body]
    if missing:
        raise WrongAnswer(f"{url} answered without {missing[0]!r}")
    return None


def ready(
    label: str, port: int, pid: int, url: str, texts: list[str], *, timeout: float = READY_TIMEOUT
) -> str | None:
    """Wait until ``pid``'s family serves ``url`` on ``port``; return None, or why it did not."""
    deadline = time.monotonic() + timeout
    while True:
        if not is_running(pid):
            return f"{label} exited before it answered on port {port} (its output is above)"
        holders = listeners(port) if Path("/proc/net/tcp").exists() else {pid}
        if holders & family(pid):
            try:
                why = answer(url, texts)
            except WrongAnswer as exc:
                return f"{label} does not work: {exc} (its output is above)"
            if why is None:
                return None
        elif holders:
            why = f"port {port} is held by {', '.join(map(describe, sorted(holders)))}, not by it"
        else:
            why = f"nothing listens on port {port}"
        if time.monotonic() > deadline:
            return f"{label} did not answer within {timeout:.0f} s: {why}"
        time.sleep(0.1)


def main(argv: list[str]) -> int:
    if argv[:1] == ["free"]:
        problems = free(argv[1:])
    elif argv[:1] == ["ready"] and len(argv) >= 6:
        failure = ready(argv[1], int(argv[2]), int(argv[3]), argv[4], argv[5:])
        problems = [failure] if failure else []
    else:
        problems = [f"usage: {__doc__}"]
    for problem in problems:
        print(PREFIX, problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
