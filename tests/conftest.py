"""Shared fixtures: every async test runs on asyncio and on trio (anyio's pytest plugin)."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from tests.asgi_to_wsgi.helpers import assert_no_leaks

# A shell that starts the suite in the background (`scripts/test &`, nohup, a CI runner without
# job control) hands it SIGINT ignored, and an ignored signal survives exec: every server the
# tests start would then ignore the Ctrl-C that the shutdown tests send, and never exit. With
# Python's own handler here, children start with the default action, as from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run each ``@pytest.mark.anyio`` test once per backend."""
    return str(request.param)


@pytest.fixture(params=["asyncio", "uvloop", "trio"])
def backend(request: pytest.FixtureRequest) -> str:
    """The private-loop backend an ``AsgiToWsgi`` test runs on: each test runs on all three."""
    return str(request.param)


@pytest.fixture
def no_asgi_to_wsgi_leaks() -> Iterator[None]:
    """After the test, no AsgiToWsgi loop thread, task or request thread is left behind."""
    yield
    assert_no_leaks()
