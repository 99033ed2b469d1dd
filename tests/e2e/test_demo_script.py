"""``scripts/demo``, the README's first command: it serves every example through bridge on
127.0.0.1 and stops every process it started on Ctrl-C; and how the scripts fail fast.

One run covers all four demos (each on a free port, each database a temp file), so the script is
started once per test session, not once per example. The failures run in a bare copy of the
scripts (no ``.venv``), so a check that did not stop its script would be seen making one.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e import servers

DEMO = servers.REPO_ROOT / "scripts" / "demo"
TIMEOUT = 20.0
DEMOS = ("FLASK", "FASTAPI", "DJANGO_ASGI", "DJANGO_WSGI")
SCRIPTS = ("demo", "test", "bench", "docs")
FAIL_FAST = 30.0  # seconds: a bound for checks that take well under one


@pytest.mark.timeout(240)
def test_demo_serves_every_example_and_ctrl_c_stops_every_process(tmp_path: Path) -> None:
    ports = {name: servers.free_port() for name in DEMOS}
    env = {f"BRIDGE_DEMO_{name}_PORT": str(port) for name, port in ports.items()}
    env |= {"HELPDESK_DB": str(tmp_path / "helpdesk.db"), "NOTES_DB": str(tmp_path / "notes.db")}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    log = tmp_path / "demo.log"
    with log.open("wb") as output:
        demo = subprocess.Popen(
            [str(DEMO)], env={**os.environ, **env}, stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        ready = servers.wait_for(lambda: "Press Ctrl-C" in log.read_text(), timeout=180)
        assert ready, log.read_text()
        for name in DEMOS:
            assert url[name] + "/" in log.read_text(), name

        flask = httpx.get(url["FLASK"] + "/", timeout=TIMEOUT).text
        assert re.search(r'id="served-by">uvicorn/[\d.]+, through bridge\.WsgiToAsgi<', flask)
        fastapi = httpx.get(url["FASTAPI"] + "/", headers={"Accept": "text/html"}, timeout=TIMEOUT)
        assert re.search(
            r'id="served-by">gunicorn/[\d.]+, through bridge\.AsgiToWsgi<', fastapi.text
        )
        _assert_docs_work_offline(url["FASTAPI"] + "/docs")
        worker = httpx.get(url["FASTAPI"] + "/", timeout=TIMEOUT).json()["worker_pid"]
        for name, interface in (("DJANGO_ASGI", "WsgiToAsgi"), ("DJANGO_WSGI", "natively")):
            assert interface in httpx.get(url[name] + "/", timeout=TIMEOUT).text
            tickets = httpx.get(url[name] + "/api/v2/tickets", timeout=TIMEOUT)
            assert tickets.json() == []  # the demo migrated the (temp) database first

        started = _descendants(demo.pid)
        assert worker in started
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 130, log.read_text()
        for pid in started:
            assert servers.wait_for(lambda pid=pid: not _alive(pid), timeout=TIMEOUT), pid
        assert f"worker {worker} closed the store" in log.read_text()  # lifespan shutdown ran
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(demo.pid, signal.SIGKILL)  # whatever the script left behind, if anything
        demo.wait(timeout=TIMEOUT)


def _assert_docs_work_offline(docs: str) -> None:
    """Swagger UI's script and stylesheet come from the app itself, not from another host."""
    page = httpx.get(docs, timeout=TIMEOUT).text
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+\.(?:js|css))['"]""", page)
    assert {Path(asset).name for asset in assets} == {"swagger-ui-bundle.js", "swagger-ui.css"}
    for asset in assets:
        assert asset.startswith("/"), asset
        assert httpx.get(httpx.URL(docs).join(asset), timeout=TIMEOUT).status_code == 200


def test_a_busy_port_stops_the_demo_before_it_installs_or_starts_anything(tmp_path: Path) -> None:
    """Another process on a demo's port: exit 1 at once, naming the port, its holder, and the
    variable that moves the demo elsewhere."""
    checkout = _bare_checkout(tmp_path)
    env = {f"BRIDGE_DEMO_{name}_PORT": str(servers.free_port()) for name in DEMOS}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env |= {"BRIDGE_DEMO_FASTAPI_PORT": str(port), "PYTHON": sys.executable}
        done = _run(checkout / "scripts" / "demo", env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.startswith(
        f"scripts/demo: port {port} on 127.0.0.1 is in use (PID {os.getpid()}: "
    )
    assert done.stderr.endswith(
        "give this demo another port: BRIDGE_DEMO_FASTAPI_PORT=<port> scripts/demo\n"
    )
    assert done.stderr.count("\n") == 1
    assert not (checkout / ".venv").exists()


def _old_python() -> str | None:
    """Return a CPython older than 3.11 found on this machine (pyenv's, or on PATH), or None."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [str(path) for path in sorted(pyenv.glob("versions/3.*/bin/python3"))]
    candidates += [found for minor in range(7, 11) if (found := shutil.which(f"python3.{minor}"))]
    for candidate in candidates:
        version = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info < (3, 11))"],
            capture_output=True, text=True, timeout=TIMEOUT, check=False,
        )  # fmt: skip
        if version.stdout.strip() == "True":
            return candidate
    return None


OLD_PYTHON = _old_python()
needs_old_python = pytest.mark.skipif(
    OLD_PYTHON is None, reason="no CPython older than 3.11 here (pyenv's, or python3.X on PATH)"
)


@needs_old_python
@pytest.mark.parametrize("script", SCRIPTS)
def test_a_too_old_python_in_PYTHON_stops_every_script_at_once(script: str, tmp_path: Path) -> None:
    """Each script checks the interpreter before anything else, and says what to do."""
    assert OLD_PYTHON is not None
    checkout = _bare_checkout(tmp_path)
    done = _run(checkout / "scripts" / script, {"PYTHON": OLD_PYTHON})
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.fullmatch(
        rf"scripts/{script}: bridge needs Python 3\.11 or newer, and PYTHON=\S+ is 3\.\d+\.\d+;"
        rf" install one, or name one: PYTHON=/path/to/python3\.11 scripts/{script}\n",
        done.stderr,
    )
    assert not (checkout / ".venv").exists()


@needs_old_python
def test_a_too_old_python3_on_path_stops_the_demo_at_once(tmp_path: Path) -> None:
    """A fresh clone, where ``python3`` is too old: the demo says so instead of installing."""
    assert OLD_PYTHON is not None
    checkout = _bare_checkout(tmp_path)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python3").symlink_to(OLD_PYTHON)
    done = _run(checkout / "scripts" / "demo", {"PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "scripts/demo: bridge needs Python 3.11 or newer, and python3 on PATH is 3." in done.stderr
    )
    assert not (checkout / ".venv").exists()


def _bare_checkout(tmp_path: Path) -> Path:
    """A copy of ``scripts/`` and ``pyproject.toml`` in a folder named ``bridge``, no ``.venv``."""
    checkout = tmp_path / "bridge"
    shutil.copytree(servers.REPO_ROOT / "scripts", checkout / "scripts")
    shutil.copy(servers.REPO_ROOT / "pyproject.toml", checkout)
    return checkout


def _run(script: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with ``env`` added (and no PYTHON unless given), bounded by FAIL_FAST."""
    base = {key: value for key, value in os.environ.items() if key != "PYTHON"}
    return subprocess.run(
        [str(script)], env=base | env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=FAIL_FAST, check=False,
    )  # fmt: skip


def _descendants(pid: int) -> list[int]:
    """Return the PIDs of ``pid``'s children, their children, and so on (bounded depth)."""
    found: list[int] = []
    generation = [pid]
    for _ in range(4):
        generation = [child for parent in generation for child in servers.children(parent)]
        found.extend(generation)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()
