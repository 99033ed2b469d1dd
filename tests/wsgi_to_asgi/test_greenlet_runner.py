"""The runner-agnostic WsgiToAsgi tests again, with ``runner="greenlet"`` (asyncio and trio).

Issue 5: the greenlet runner gives the same PEP 3333 guarantees as the thread runner, so the
very same tests run here: every ``test_*`` of the four WsgiToAsgi modules in :data:`_MODULES`
is collected again, with ``bridge.WsgiToAsgi`` replaced by a subclass whose default runner is
``"greenlet"`` (the tests build their adapters through ``bridge.WsgiToAsgi`` or the ``wsgi()``
helper, so they pick it up). :data:`THREAD_ONLY` lists the tests that cannot run in a greenlet,
each with why; their greenlet counterparts are in ``tests/runners/test_greenlets.py``. Here
bridge may start no thread at all.
"""

from __future__ import annotations

from typing import Any

import pytest

import bridge
from tests.runners.test_greenlets import no_bridge_thread
from tests.wsgi_to_asgi import test_adapter, test_app_call, test_server_task, test_wsgi_io
from tests.wsgi_to_asgi.test_wsgi_io import data_file

pytestmark = pytest.mark.anyio

_BLOCKS_THE_APP_THREAD = "the app waits on a threading.Event, which in a greenlet blocks the loop"
_WATCHES_THREADS = "it inspects worker threads or the thread pool"

#: Tests of the thread runner that cannot run in a greenlet, and why.
THREAD_ONLY = {
    "test_init_starts_no_thread": _WATCHES_THREADS,
    "test_pep3333_each_block_is_sent_before_the_next_is_requested": _BLOCKS_THE_APP_THREAD,
    "test_issue3_backpressure_pauses_the_app_thread_after_send_window_bytes": _WATCHES_THREADS,
    "test_issue3_app_starts_before_the_upload_ends": "the app calls anyio.from_thread",
    "test_issue3_upload_read_ahead_is_bounded": "the app calls anyio.from_thread",
    "test_asgi_http_disconnect_while_the_app_computes_stops_before_the_next_chunk": (
        _BLOCKS_THE_APP_THREAD
    ),
    "test_issue3_cancelled_while_the_app_call_blocks_still_closes_once": _BLOCKS_THE_APP_THREAD,
    "test_issue3_server_shutdown_while_the_app_waits_for_body_bytes": _WATCHES_THREADS,
    "test_issue3_native_task_cancel_closes_in_the_worker_before_the_task_ends": (
        _BLOCKS_THE_APP_THREAD
    ),
    "test_issue3_native_cancel_before_a_thread_is_free_never_calls_the_app": _WATCHES_THREADS,
    "test_pep3333_close_is_called_exactly_once_in_the_app_thread_on_every_path": (
        "it checks that the app ran in another thread"
    ),
    "test_issue3_max_threads_bounds_concurrent_app_calls_per_loop": _WATCHES_THREADS,
    "test_issue3_no_thread_outlives_aborted_requests_on_asyncio": _WATCHES_THREADS,
}

_MODULES = (test_adapter, test_app_call, test_wsgi_io, test_server_task)
_COLLECTED = {
    name: test
    for module in _MODULES
    for name, test in vars(module).items()
    if name.startswith("test_") and callable(test) and name not in THREAD_ONLY
}
globals().update(_COLLECTED)
__all__ = ["data_file", "no_bridge_thread", *_COLLECTED]


class _GreenletWsgiToAsgi(bridge.WsgiToAsgi):
    """``WsgiToAsgi`` whose default runner is the greenlet runner."""

    def __init__(self, app: Any, /, **options: Any) -> None:
        super().__init__(app, **{"runner": "greenlet", **options})


@pytest.fixture(autouse=True)
def _greenlet_runner(monkeypatch: pytest.MonkeyPatch, no_bridge_thread: None) -> None:
    monkeypatch.setattr(bridge, "WsgiToAsgi", _GreenletWsgiToAsgi)


def test_every_excluded_test_exists() -> None:
    """A renamed thread-runner test must not silently drop out of this list."""
    tests = {name for module in _MODULES for name in vars(module) if name.startswith("test_")}
    assert set(THREAD_ONLY) <= tests
    assert tests == set(THREAD_ONLY) | set(_COLLECTED)
