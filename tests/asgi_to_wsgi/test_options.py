"""``bridge._asgi_to_wsgi.options``: AsgiToWsgi's options, their documented defaults and their
checks (wrong types, values out of range, a backend whose package is missing)."""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

import pytest

from bridge import AsgiToWsgi
from tests.asgi_to_wsgi.helpers import hello

pytestmark = pytest.mark.usefixtures("no_asgi_to_wsgi_leaks")


def test_defaults_are_documented_values() -> None:
    options = AsgiToWsgi(hello).options
    assert (options.lifespan, options.request_timeout) == ("auto", None)
    assert options.backend == ("uvloop" if find_spec("uvloop") else "asyncio")
    assert (options.startup_timeout, options.shutdown_timeout) == (60.0, 10.0)
    assert (options.background_timeout, options.disconnect_grace) == (60.0, 5.0)
    assert options.send_window == 512 * 1024


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"lifespan": 1}, "lifespan must be a str", id="lifespan-type"),
        pytest.param({"backend": None}, "backend must be a str", id="backend-type"),
        pytest.param({"startup_timeout": "1"}, "startup_timeout must be a number", id="str"),
        pytest.param({"shutdown_timeout": True}, "shutdown_timeout must be a number", id="bool"),
        pytest.param({"send_window": 1.5}, "send_window must be an int", id="window-float"),
        pytest.param({"send_window": False}, "send_window must be an int", id="window-bool"),
    ],
)
def test_options_of_the_wrong_type_raise_type_error(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(TypeError, match=match):
        AsgiToWsgi(hello, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"lifespan": "yes"}, "lifespan must be one of", id="lifespan"),
        pytest.param({"backend": "curio"}, "backend must be one of", id="backend"),
        pytest.param({"request_timeout": 0}, "request_timeout must be a positive", id="zero"),
        pytest.param({"disconnect_grace": -1.0}, "disconnect_grace must be", id="negative"),
        pytest.param({"background_timeout": float("inf")}, "background_timeout", id="inf"),
        pytest.param({"send_window": -1}, "send_window must be zero or more", id="window"),
    ],
)
def test_options_out_of_range_raise_value_error(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        AsgiToWsgi(hello, **kwargs)


@pytest.mark.parametrize("backend", ["trio", "uvloop"])
def test_a_backend_needs_its_package(monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    monkeypatch.setattr("bridge._private_loop.loops.find_spec", lambda name: None)
    with pytest.raises(ValueError, match=f"needs the {backend} package"):
        AsgiToWsgi(hello, backend=backend)  # type: ignore[arg-type]


def test_auto_backend_is_uvloop_when_installed_else_asyncio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Uvicorn's ``--loop auto`` rule: the cheaper loop when it is there, never a hard need."""
    monkeypatch.setattr("bridge._private_loop.loops.find_spec", lambda name: object())
    assert AsgiToWsgi(hello).options.backend == "uvloop"
    monkeypatch.setattr("bridge._private_loop.loops.find_spec", lambda name: None)
    assert AsgiToWsgi(hello).options.backend == "asyncio"
    assert AsgiToWsgi(hello, backend="asyncio").options.backend == "asyncio"
