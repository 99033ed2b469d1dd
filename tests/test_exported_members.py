"""The public API is exactly ``bridge.__all__``; this test pins it (house style rule 11)."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

import bridge


def test_all_is_pinned() -> None:
    assert bridge.__all__ == (
        "ApplicationError",
        "ApplicationTimeout",
        "AsgiApp",
        "AsgiToWsgi",
        "BridgeError",
        "ClientDisconnected",
        "ClientError",
        "LifespanError",
        "RequestTooLarge",
        "Router",
        "ServerError",
        "WsgiApp",
        "WsgiToAsgi",
        "await_",
    )


def test_every_exported_member_exists_and_has_a_docstring() -> None:
    for name in bridge.__all__:
        member = getattr(bridge, name)
        assert member.__doc__, name
        assert member.__module__ == "bridge", name  # whichever file defines it


def test_public_classes_say_bridge_in_reprs() -> None:
    """Reprs, tracebacks and the API docs name the module users import from, not a file."""
    assert repr(bridge.WsgiToAsgi) == "<class 'bridge.WsgiToAsgi'>"
    assert repr(bridge.AsgiToWsgi) == "<class 'bridge.AsgiToWsgi'>"
    assert bridge.Router.__qualname__ == "Router"


ERRORS = [member for member in map(bridge.__dict__.get, bridge.__all__)
          if isinstance(member, type) and issubclass(member, bridge.BridgeError)]  # fmt: skip


@pytest.mark.parametrize("error", ERRORS, ids=lambda error: error.__name__)
def test_errors_survive_a_pickle_round_trip(error: type[bridge.BridgeError]) -> None:
    """An error raised in a worker process (multiprocessing, a task queue) unpickles as itself."""
    again = pickle.loads(pickle.dumps(error("the message")))
    assert type(again) is error
    assert str(again) == "the message"


def test_import_bridge_imports_no_greenlet_until_the_greenlet_runner_is_used() -> None:
    """greenlet stays a dependency, but only ``runner="greenlet"`` loads it."""
    code = (
        "import sys, bridge\n"
        "assert 'greenlet' not in sys.modules, 'imported by import bridge'\n"
        "bridge.WsgiToAsgi(lambda e, s: [], runner='greenlet')\n"
        "assert 'greenlet' in sys.modules, 'not imported by the greenlet runner'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
