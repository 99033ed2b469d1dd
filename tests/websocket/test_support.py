"""``bridge._websocket.support``: wsproto is optional, and a refusal is logged once per adapter."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from bridge._websocket import Refusals, wsproto_missing


def test_wsproto_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    assert wsproto_missing() is None
    monkeypatch.setitem(sys.modules, "wsproto", None)
    reason = wsproto_missing()
    assert reason is not None
    assert "pip install 'wsgi-asgi-bridge[websockets]'" in reason


def test_import_bridge_needs_no_wsproto() -> None:
    """``import bridge`` and both adapters work in a process where wsproto cannot be imported."""
    code = (
        "import sys; sys.modules['wsproto'] = None; sys.modules['h11'] = None\n"
        "import bridge\n"
        "bridge.AsgiToWsgi(lambda s, r, t: None); bridge.WsgiToAsgi(lambda e, s: [])\n"
        "assert 'wsproto' not in [m.split('.')[0] for m in sys.modules if sys.modules[m]]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_one_warning_per_adapter(caplog: pytest.LogCaptureFixture) -> None:
    """One WARNING per adapter instance that says why; later refusals at DEBUG."""
    caplog.set_level(logging.DEBUG, logger="bridge.test")
    refusals = Refusals(logging.getLogger("bridge.test"))
    refusals.refuse("/ws", "no socket")
    refusals.refuse("/ws", "no socket")
    Refusals(logging.getLogger("bridge.test")).refuse("/other", "no socket")
    levels = [(record.levelname, record.getMessage()) for record in caplog.records]
    assert levels == [
        ("WARNING", "refused a WebSocket request to /ws (answered 501; further refusals are "
         "logged at DEBUG): no socket"),
        ("DEBUG", "refused a WebSocket request to /ws: no socket"),
        ("WARNING", "refused a WebSocket request to /other (answered 501; further refusals "
         "are logged at DEBUG): no socket"),
    ]  # fmt: skip
