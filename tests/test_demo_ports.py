"""``scripts/_ports.py``: the demo's port checks, before it starts (free) and after (ready).

The whole demo is run by ``tests/e2e/test_demo_script.py``; here are the answers it cannot easily
provoke: a port given twice or not a number, and a port that answers but from another process.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "_ports.py"


def load_ports() -> ModuleType:
    """Import ``scripts/_ports.py`` (a script, not a package module) by its path."""
    spec = importlib.util.spec_from_file_location("demo_ports", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ports = load_ports()


@pytest.fixture
def listening() -> Iterator[int]:
    """A port on 127.0.0.1 that this test process listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.fixture
def bystander() -> Iterator[int]:
    """The PID of a process that holds no port (standing in for a demo server)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    ("assignments", "problem"),
    [
        (["A_PORT=80x"], "A_PORT='80x' is not a port number (1 to 65535)"),
        (["A_PORT=70000"], "A_PORT='70000' is not a port number (1 to 65535)"),
        (["A_PORT=0"], "A_PORT='0' is not a port number (1 to 65535)"),
        (["A_PORT=8999", "B_PORT=8999"], "A_PORT and B_PORT are both 8999: give each its own port"),
    ],
    ids=["not-a-number", "too-large", "zero", "given-twice"],
)
def test_free_refuses_what_is_not_a_port_of_its_own(assignments: list[str], problem: str) -> None:
    assert problem in ports.free(assignments)


def test_free_names_the_holder_of_a_busy_port(listening: int) -> None:
    (problem,) = ports.free([f"A_PORT={listening}"])
    assert problem.startswith(f"port {listening} on 127.0.0.1 is in use (PID {os.getpid()}: ")
    assert problem.endswith("give this demo another port: A_PORT=<port> scripts/demo")


def test_ready_refuses_a_port_that_another_process_holds(listening: int, bystander: int) -> None:
    """The banner waits for the server the demo started: an answer on its port from another
    process (an old demo, say) does not count."""
    url = f"http://127.0.0.1:{listening}/"
    why = ports.ready("the demo", listening, bystander, url, ["demo"], timeout=0.3)
    assert why == (
        f"the demo did not answer within 0 s: port {listening} is held by PID {os.getpid()}:"
        f" {ports.describe(os.getpid()).split(': ', 1)[1]}, not by it"
    )


def test_ready_reports_a_server_that_exited(listening: int) -> None:
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait(timeout=10)
    why = ports.ready("the demo", listening, exited.pid, "http://127.0.0.1:1/", ["demo"])
    assert why == f"the demo exited before it answered on port {listening} (its output is above)"
