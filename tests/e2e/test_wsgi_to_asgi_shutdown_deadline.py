"""Uvicorn's graceful-shutdown deadline with WSGI calls that block past it (thread runner).

``uvicorn --timeout-graceful-shutdown N`` cancels the request tasks still running after N
seconds, then runs lifespan shutdown and exits (``uvicorn/server.py``, ``shutdown``: ``for t in
self.server_state.tasks: t.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")``
then ``await self.lifespan.shutdown()``, 0.55). A worker thread cannot be cancelled: WsgiToAsgi
must not turn the server's deadline into "whenever the slowest call returns", which a container
orchestrator's kill deadline (``docker stop``: 10 s) would cut short with SIGKILL.

The app's calls block until the test creates a release file, so every ordering checked here is
one of events, not of durations.
"""

from __future__ import annotations

import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.e2e import servers
from tests.e2e.rawhttp import RawConnection

CALLS = 3
GRACE = "1"  # seconds Uvicorn waits before it cancels the request tasks
#: How long the test waits for each client's answer and for the exit; the calls block far longer.
BOUND = 15.0


def outcome(connection: RawConnection) -> str:
    """The status the client got, or ``"closed"`` if the connection ended without one."""
    try:
        return str(connection.read_head().status)
    except ConnectionError:
        return "closed"


@pytest.mark.parametrize("target", ["wsgi_edge_apps:app", "wsgi_edge_apps:routed"])
def test_blocked_calls_do_not_hold_the_process_past_the_deadline(
    tmp_path: Path, target: str
) -> None:
    """ASGI lifespan ``lifespan.shutdown`` and Uvicorn's graceful-shutdown deadline: once the
    server cancelled the requests, each client is answered (a 5xx) or its connection closed at
    once, while the server still runs; the process then exits within bridge's bounded wait,
    though the WSGI calls are still blocked; and the log names the calls left running. The same
    behind a ``Router``, whose lifespan reaches the WsgiToAsgi it calls WSGI apps through."""
    release = tmp_path / "release"
    token = uuid.uuid4().hex
    argv = servers.uvicorn(target, http="httptools", extra=["--timeout-graceful-shutdown", GRACE])
    with servers.running(argv, env={"BRIDGE_E2E_RELEASE": str(release)}) as server:
        clients = [RawConnection(server.port, timeout=BOUND) for _ in range(CALLS)]
        try:
            for index, client in enumerate(clients):
                client.send_head("GET", f"/block?token={token}-{index}")
                client.send_end()
            entered = lambda: server.log().count(f"entered {token}") == CALLS  # noqa: E731
            assert servers.wait_for(entered), server.log()
            server.process.send_signal(signal.SIGTERM)
            answers = [(outcome(client), server.process.poll() is None) for client in clients]
            try:
                server.process.wait(timeout=BOUND)
            except subprocess.TimeoutExpired:
                pytest.fail(f"still running {BOUND} s after SIGTERM:\n{server.log()[-3000:]}")
            log = server.log()
        finally:
            release.touch()  # let the blocked calls end, whatever happened
            for client in clients:
                client.abort()
    assert all(status in ("500", "503", "closed") for status, _ in answers), answers
    assert all(running for _, running in answers), "a client was answered only by the exit"
    assert f"returned {token}" not in log, "the process waited for the calls to return"
    running_calls = [line for line in log.splitlines() if line.startswith("WARNING bridge")]
    assert any("/block" in line for line in running_calls), log[-3000:]
