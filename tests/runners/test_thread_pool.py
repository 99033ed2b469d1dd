"""``_thread_pool``: hand-off, the spawn policy, idle retirement and joining every thread."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest

from bridge._runners.thread_pool import ThreadPool

#: A spawn delay that never runs out during a test: only the policy's other rules start threads.
NEVER = 60.0
WAIT = 10.0  # the bound on every wait in this module


class Jobs:
    """Jobs that record which thread ran them, and how often each ran."""

    def __init__(self) -> None:
        self.runs: Counter[int] = Counter()
        self.threads: dict[int, int] = {}
        self.lock = threading.Lock()
        self.all_done = threading.Condition(self.lock)
        self.started = threading.Semaphore(0)  # released as each job starts

    def job(self, number: int, gate: threading.Event | None = None) -> Callable[[], None]:
        """Job ``number``: wait for ``gate`` (if any), then record the run."""

        def run() -> None:
            self.started.release()
            if gate is not None:
                assert gate.wait(WAIT)
            with self.lock:
                self.runs[number] += 1
                self.threads[number] = threading.get_ident()
                self.all_done.notify_all()

        return run

    def wait_started(self, count: int) -> bool:
        """Wait until ``count`` more jobs started (bounded)."""
        return all(self.started.acquire(timeout=WAIT) for _ in range(count))

    def wait_for(self, count: int) -> bool:
        """Wait until ``count`` jobs ran (bounded)."""
        with self.lock:
            return self.all_done.wait_for(lambda: sum(self.runs.values()) >= count, WAIT)


def blocked_job(entered: threading.Event, gate: threading.Event) -> Callable[[], None]:
    """A job that says it started, then blocks until ``gate`` opens."""

    def run() -> None:
        entered.set()
        assert gate.wait(WAIT)

    return run


def test_the_first_job_gets_a_thread_at_once() -> None:
    """No deadlock: a pool without threads starts one for the first job, whatever the delay."""
    pool = ThreadPool(max_threads=4, spawn_delay=NEVER)
    jobs = Jobs()
    pool.submit(jobs.job(1))
    assert jobs.wait_for(1)
    assert len(pool._threads) == 1
    pool.close()


def test_a_job_waiting_past_the_delay_gets_a_second_thread_while_the_first_is_blocked() -> None:
    """A blocking app (sleep, slow database) must not hold back the next request: a job that
    waited ``spawn_delay`` gets a new thread, started by the spawner, not by the busy worker."""
    pool = ThreadPool(max_threads=4)
    entered, gate = threading.Event(), threading.Event()
    jobs = Jobs()
    pool.submit(blocked_job(entered, gate))
    assert entered.wait(WAIT)
    pool.submit(jobs.job(1))
    assert jobs.wait_for(1)  # while the first job is still blocked
    assert not gate.is_set()
    assert len(pool._threads) == 2
    assert jobs.threads[1] != threading.get_ident()
    gate.set()
    pool.close()
    assert not pool._threads


def test_jobs_that_queue_behind_a_busy_thread_start_no_thread_before_the_delay() -> None:
    """Short CPU-bound requests: jobs that a busy thread takes before the delay runs out all run
    in that one thread (more threads would only fight over the GIL); each runs exactly once."""
    pool = ThreadPool(max_threads=8, spawn_delay=NEVER)
    entered, gate = threading.Event(), threading.Event()
    jobs = Jobs()
    pool.submit(blocked_job(entered, gate))
    assert entered.wait(WAIT)
    for number in range(50):
        pool.submit(jobs.job(number))
    assert len(pool._threads) == 1
    assert pool._spawner is not None  # watching the waiting jobs
    gate.set()
    assert jobs.wait_for(50)
    assert jobs.runs == Counter(range(50))
    assert len(set(jobs.threads.values())) == 1
    assert len(pool._threads) == 1
    pool.close()


def test_blocked_jobs_get_threads_up_to_max_threads_and_the_rest_wait() -> None:
    """``max_threads`` bounds the threads; jobs beyond it wait in the backlog and each runs once."""
    pool = ThreadPool(max_threads=3)
    gate = threading.Event()
    jobs = Jobs()
    for number in range(10):
        pool.submit(jobs.job(number, gate))
    assert jobs.wait_started(3)
    assert len(pool._threads) == 3
    assert not jobs.runs
    gate.set()
    assert jobs.wait_for(10)
    assert jobs.runs == Counter(range(10))
    assert len(pool._threads) <= 3
    pool.close()


def test_close_starts_threads_for_waiting_jobs_and_joins_them_and_the_spawner() -> None:
    """House rule 5: close() runs every submitted job (waiting ones get threads at once, not
    after the delay or behind a blocked thread), then joins every thread, the spawner too."""
    pool = ThreadPool(max_threads=4, spawn_delay=NEVER)
    entered, gate = threading.Event(), threading.Event()
    jobs = Jobs()
    pool.submit(blocked_job(entered, gate))
    assert entered.wait(WAIT)
    for number in range(3):
        pool.submit(jobs.job(number))
    spawner = pool._spawner
    assert spawner is not None
    closing = threading.Thread(target=pool.close)
    closing.start()
    assert jobs.wait_for(3)  # while the first job is still blocked
    assert not gate.is_set()
    assert len(set(jobs.threads.values())) == 3
    gate.set()
    closing.join(WAIT)
    assert not closing.is_alive()
    assert not spawner.is_alive()
    assert pool._spawner is None
    assert not pool._threads
    assert jobs.runs == Counter(range(3))
    with pytest.raises(RuntimeError, match="closed"):
        pool.submit(jobs.job(99))


def test_the_spawner_exits_when_no_job_waited_for_the_idle_timeout() -> None:
    """The spawner is one more thread, so it retires like the workers when nothing waits."""
    pool = ThreadPool(max_threads=2, idle_timeout=0.1)
    entered, gate = threading.Event(), threading.Event()
    jobs = Jobs()
    pool.submit(blocked_job(entered, gate))
    assert entered.wait(WAIT)
    pool.submit(jobs.job(1))
    spawner = pool._spawner  # None only if it already came and went
    assert jobs.wait_for(1)
    gate.set()
    if spawner is not None:
        spawner.join(WAIT)
        assert not spawner.is_alive()
    assert pool._spawner is None
    pool.close()


def test_pool_threads_retire_when_idle_and_close_joins_them() -> None:
    """House rule 5: every thread has a join path; idle threads exit on their own."""
    pool = ThreadPool(max_threads=2, idle_timeout=0.01)
    done = threading.Event()
    ran: list[threading.Thread] = []
    pool.submit(lambda: (ran.append(threading.current_thread()), done.set()))
    assert done.wait(WAIT)
    ran[0].join(WAIT)  # it exits on its own after the idle timeout
    assert not ran[0].is_alive()
    assert not pool._threads
    pool.submit(done.clear)  # a new thread starts on demand
    pool.close()
    assert not pool._threads
    assert not done.is_set()
    with pytest.raises(RuntimeError, match="closed"):
        pool.submit(done.set)


def test_pool_reuses_the_most_recently_idle_thread_so_extra_threads_retire() -> None:
    """Under a light steady load one thread serves every job, so the threads a burst started
    stay idle and exit (a FIFO wake-up would rotate through them all and keep them alive)."""
    pool = ThreadPool(max_threads=3, idle_timeout=0.2)
    gate = threading.Event()
    jobs = Jobs()
    for number in range(3):  # a burst of blocked jobs: three threads
        pool.submit(jobs.job(number, gate))
    assert jobs.wait_started(3)
    gate.set()
    assert jobs.wait_for(3)
    assert len(set(jobs.threads.values())) == 3
    steady: list[int] = []
    for _ in range(40):  # 0.4 s of one job every 10 ms: longer than the idle timeout
        done = threading.Event()
        pool.submit(lambda done=done: (steady.append(threading.get_ident()), done.set()))
        assert done.wait(WAIT)
        time.sleep(0.01)
    assert len(set(steady[-10:])) == 1  # the first ones may race a burst thread going idle
    assert len(pool._threads) == 1
    pool.close()


def test_close_with_a_timeout_returns_the_jobs_still_running_and_waits_no_more() -> None:
    """A bounded close (a server's shutdown deadline): the jobs still running when it ends are
    returned, their threads (daemons) are left to end on their own, and a later close (the one
    at interpreter exit too) does not wait for them again."""
    pool = ThreadPool(max_threads=2, spawn_delay=NEVER)
    gate = threading.Event()
    jobs = Jobs()
    blocked = jobs.job(1, gate)
    pool.submit(blocked)
    assert jobs.started.acquire(timeout=WAIT)
    try:
        assert pool.close(timeout=0.05) == [blocked]
        again: list[object] = []
        closer = threading.Thread(target=lambda: again.append(pool.close()))
        closer.start()
        closer.join(WAIT)  # the job stays blocked meanwhile: a waiting close would not return
        assert again == [[blocked]]
    finally:
        gate.set()
    assert jobs.wait_for(1)
    assert pool.close() == []
