"""Run a console block of the docs as written: ``$`` lines are commands, the lines after one are
the output it must print.

- A command whose program is a server (Uvicorn, Hypercorn, Gunicorn, Granian, Waitress, uWSGI) is
  started
  with :func:`tests.e2e.servers.running` on a free port of 127.0.0.1, in its own process group,
  and stopped by PID when the block ends or when a later command claims the same port. The port
  the page shows (``--port 8000``, ``--bind 127.0.0.1:8001``, ``HELPDESK_PORT=8003``, or the
  server's default) is replaced by the free one; the server must answer ``GET /`` (any status
  below 500).
- Any other command runs in bash, with the shown ports of the running servers replaced by
  theirs. It must exit 0; a ``curl`` at the end of a pipeline must get a status below 400 unless
  the page shows its output, which it must then print (``...`` stands for any text).
- ``cd DIR`` on a line of its own moves the commands after it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.e2e import servers

COMMAND_TIMEOUT = 60.0
#: Server program -> (the option that sets its port, its default port).
SERVERS = {
    "uvicorn": ("--port {port}", 8000),
    "hypercorn": ("--bind 127.0.0.1:{port}", 8000),
    "gunicorn": ("--bind 127.0.0.1:{port}", 8000),
    "granian": ("--port {port}", 8000),
    "waitress-serve": ("--listen=127.0.0.1:{port}", 8080),
    "uwsgi": ("--http 127.0.0.1:{port}", 8000),
}
_SHOWN_PORT = re.compile(
    r"(?:--port[ =]|--bind[ =]\S*:|-b \S*:|--listen=\S*:|--http[ =]\S*:|_PORT=)(\d+)\b"
)
_URL_PORT = re.compile(r"(?:127\.0\.0\.1|localhost):(\d+)")
_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_STATUS_SUFFIX = " --silent --show-error --write-out '\\n%{http_code}'"


@dataclass(frozen=True)
class Command:
    """One ``$`` line of a console block and the output the page shows after it, if any."""

    line: str
    output: str | None


def commands(body: str) -> list[Command]:
    """Split a console block into its commands (comments after ``  #`` removed)."""
    found: list[Command] = []
    for text in body.splitlines():
        if text.startswith("$ "):
            found.append(Command(re.sub(r"\s+#\s.*$", "", text[2:]).strip(), None))
        elif found and text.strip():
            previous = found[-1]
            shown = f"{previous.output}\n{text}" if previous.output is not None else text
            found[-1] = Command(previous.line, shown)
    return found


def program_of(line: str) -> str:
    """The program the last ``&&`` step of ``line`` runs, after any ``NAME=value`` prefixes."""
    words = [word for word in shlex.split(line.split("&&")[-1]) if not _ENV_ASSIGNMENT.match(word)]
    return words[0] if words else ""


def matches(shown: str, printed: str) -> bool:
    """Whether ``printed`` is the output the page shows (``...`` is any text)."""
    pattern = ".*?".join(re.escape(part.strip()) for part in shown.strip().split("..."))
    return re.fullmatch(pattern, printed.strip(), flags=re.DOTALL) is not None


@dataclass
class Session:
    """The state of one console block: where commands run, and which servers it started."""

    cwd: Path
    env: dict[str, str]
    stack: contextlib.ExitStack
    running: dict[int, tuple[servers.Server, contextlib.ExitStack]] = field(default_factory=dict)

    def run(self, command: Command) -> None:
        program = program_of(command.line)
        if program == "cd" and "&&" not in command.line:
            self.cwd = (self.cwd / shlex.split(command.line)[1]).resolve()
        elif program in SERVERS:
            assert command.output is None, f"{command.line!r}: a server's output is not checked"
            self._serve(command.line, program)
        else:
            self._execute(command)

    def _serve(self, line: str, program: str) -> None:
        option, default = SERVERS[program]
        shown = _SHOWN_PORT.search(line)
        if shown:
            port = int(shown.group(1))
            line = re.sub(rf"(?<=[:=\s]){port}\b", "{port}", line)
        else:
            port = _configured_port(line, self.cwd) or default
            line = f"{line} {option}"
        if port in self.running:
            self.running.pop(port)[1].close()
        server_stack = contextlib.ExitStack()
        server = server_stack.enter_context(
            servers.running(["bash", "-c", line], env=self.env, cwd=self.cwd)
        )
        self.running[port] = (server, server_stack)
        self.stack.callback(server_stack.close)
        answer = httpx.get(server.url + "/", timeout=30.0)
        assert answer.status_code < 500, f"{line!r}: GET / answered {answer.status_code}"

    def _execute(self, command: Command) -> None:
        line = command.line
        for port in {int(found) for found in _URL_PORT.findall(line)}:
            assert port in self.running, f"{line!r}: no server of this block listens on {port}"
            line = re.sub(rf"(?<=[:=\s]){port}\b", str(self.running[port][0].port), line)
        is_curl = program_of(line.split("|")[-1]) == "curl"
        if is_curl:
            line += _STATUS_SUFFIX
        done = subprocess.run(
            ["bash", "-c", line], cwd=self.cwd, env=self.env, capture_output=True,
            text=True, timeout=COMMAND_TIMEOUT, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{command.line!r} exited {done.returncode}: {done.stderr}"
        printed = done.stdout
        if is_curl:
            printed, _, status = printed.rpartition("\n")
            if command.output is None:
                assert int(status) < 400, f"{command.line!r}: HTTP {status}\n{printed}"
        if command.output is not None:
            assert matches(command.output, printed), (
                f"{command.line!r} printed:\n{printed}\nthe page shows:\n{command.output}"
            )


def _configured_port(line: str, cwd: Path) -> int | None:
    """The port a Gunicorn ``-c FILE`` binds to, as that file says."""
    words = shlex.split(line.split("&&")[-1])
    if "-c" not in words:
        return None
    config = cwd / words[words.index("-c") + 1]
    for step in line.split("&&")[:-1]:  # `cd DIR && gunicorn -c FILE`
        if program_of(step) == "cd":
            config = cwd / shlex.split(step)[1] / words[words.index("-c") + 1]
    found = re.search(r"127\.0\.0\.1:(\d+)", config.read_text()) if config.exists() else None
    return int(found.group(1)) if found else None


@contextlib.contextmanager
def session(cwd: Path, env: dict[str, str]) -> Iterator[Session]:
    """A :class:`Session` whose servers are all stopped when it ends."""
    bin_dir = str(Path(sys.executable).parent)  # the suite's python and servers
    full_env = {**os.environ, **env, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    with contextlib.ExitStack() as stack:
        yield Session(cwd, full_env, stack)
