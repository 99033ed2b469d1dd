"""Where ``AsgiToWsgi``'s private loop runs under real servers, and what that means while idle.

PEP 3333: ``wsgi.multithread`` "should evaluate true if the application object may be
simultaneously invoked by another thread in the same process". A Gunicorn sync worker says false:
there, by default (``loop_thread="auto"``), the worker's own thread runs the loop while it serves a
request, and no loop thread exists. Gunicorn's gthread worker says true: a loop thread runs it.
The trade-off the docs state is checked too: on the worker's thread, a ticker task started in
lifespan stands still between requests; with ``loop_thread="always"`` it goes on.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.e2e import servers

CLIENT_TIMEOUT = 15.0
#: How long the worker stays idle between the two ``/ticks`` requests.
IDLE = 1.0
#: The ticker ticks every 10 ms: about 100 ticks in IDLE if a loop thread runs it. On the
#: worker's thread, the second request's turn runs the overdue timer once or twice.
STANDING_STILL = 10
GOING_ON = 30

LOOP_THREADS = {"bridge-asyncio-loop", "bridge-uvloop-loop", "bridge-trio-loop"}


def served(argv: list[str]) -> tuple[list[dict[str, Any]], str]:
    """Start ``argv``, send 12 requests to ``/where``, stop it; the answers and the server log."""
    with (
        servers.running(argv) as server,
        httpx.Client(base_url=server.url, timeout=CLIENT_TIMEOUT) as client,
    ):
        answers = []
        for _ in range(12):
            response = client.get("/where", headers={"Connection": "close"})
            assert response.status_code == 200, server.log()[-2000:]
            answers.append(response.json())
        return answers, server.log()


@pytest.mark.parametrize(
    ("workers", "extra"), [(1, []), (4, ["--preload"])], ids=["sync-1", "sync-4-preload"]
)
def test_sync_worker_runs_the_app_on_its_own_thread(workers: int, extra: list[str]) -> None:
    """A sync worker (``wsgi.multithread`` false) runs the app on the thread that called it: the
    worker's main thread, with no loop thread started in the process, forked or not."""
    answers, log = served(servers.gunicorn("loop_placement:app", workers=workers, extra=extra))
    for answer in answers:
        assert answer["main"] is True, (answer, log[-2000:])
        assert not LOOP_THREADS & set(answer["threads"]), answer


def test_uwsgi_without_threads_runs_the_app_on_the_workers_thread() -> None:
    """uWSGI without ``--threads`` says ``wsgi.multithread`` is false, as a sync worker does."""
    answers, log = served(servers.uwsgi("loop_placement:app"))
    for answer in answers:
        assert answer["main"] is True, (answer, log[-2000:])
        assert not LOOP_THREADS & set(answer["threads"]), (answer, log[-2000:])


def test_gthread_worker_hands_the_app_to_a_loop_thread() -> None:
    """A gthread worker (``wsgi.multithread`` true) runs the app in the process's loop thread."""
    argv = servers.gunicorn("loop_placement:app", worker_class="gthread", extra=["--threads", "4"])
    answers, _ = served(argv)
    assert {answer["thread"] for answer in answers} <= LOOP_THREADS
    assert len({answer["thread"] for answer in answers}) == 1


def test_loop_thread_always_on_a_sync_worker() -> None:
    """``loop_thread="always"`` keeps a loop thread even where the worker could run the loop."""
    answers, _ = served(servers.gunicorn("loop_placement:app_loop_thread"))
    assert {answer["thread"] for answer in answers} <= LOOP_THREADS


def ticks_while_idle(app: str) -> int:
    """Ticks the lifespan's ticker makes while a one-worker sync server sits idle for IDLE."""
    with (
        servers.running(servers.gunicorn(app)) as server,
        httpx.Client(base_url=server.url, timeout=CLIENT_TIMEOUT) as client,
    ):
        before = client.get("/ticks").json()
        time.sleep(IDLE)
        after = client.get("/ticks").json()
    assert before["pid"] == after["pid"]
    return int(after["ticks"]) - int(before["ticks"])


def test_lifespan_tasks_stand_still_between_requests_on_the_worker_thread() -> None:
    """The documented trade-off: on the worker's thread the loop runs only while the worker waits
    for bridge (a request, ``close()``), so a periodic task started in lifespan does not advance
    while the worker is idle."""
    assert ticks_while_idle("loop_placement:app") <= STANDING_STILL


def test_lifespan_tasks_go_on_between_requests_with_a_loop_thread() -> None:
    """With ``loop_thread="always"``, the loop thread runs the periodic task while idle."""
    assert ticks_while_idle("loop_placement:app_loop_thread") >= GOING_ON
