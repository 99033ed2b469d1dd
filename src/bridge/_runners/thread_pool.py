"""Worker threads for :class:`~.threads.ThreadRunner`: a small, bounded, lazy thread pool.

Why not ``anyio.to_thread`` or ``loop.run_in_executor``: a request needs one hand-off to a thread
and one wake-up of the loop, and nothing else (no capacity-limiter task bookkeeping, no
``concurrent.futures.Future``). This pool runs plain callables; the runner wakes its loop itself.

Lifetime: a pool starts no thread until the first :meth:`ThreadPool.submit`, runs at most
``max_threads`` worker threads, and a thread that waited ``idle_timeout`` seconds for work exits.
Every thread has a join path: :meth:`ThreadPool.close` (also run at interpreter exit, before
Python joins its non-daemon threads) asks idle threads to exit and joins them all. A process
forked after first use must not use its parent's pool (its threads did not survive the fork): the
runner checks :attr:`ThreadPool.pid` and makes a fresh pool.

Theory of operation
===================
Hand-off, under one lock: an idle thread waits on its own lock, on a stack. A job goes to the
most recently idle thread (so a light load keeps reusing the same few threads and the others
really are idle, and retire). With no idle thread the job joins a backlog, stamped with its time;
a thread that finishes a job takes the oldest backlogged job before it goes idle.

Spawn policy: a new thread costs little, but every runnable thread competes for the GIL, so
short CPU-bound requests run fastest on a few threads, while apps that block (sleep, slow
database calls) need many. So a backlogged job gets a new thread only once it is clear that the
busy threads will not soon take it, and at once if nothing will:

* at once when the pool has no thread, or when every thread has been busy for ``spawn_delay``
  (:data:`SPAWN_DELAY`, 10 ms: no job was handed to a thread for that long);
* else once the job has waited ``spawn_delay`` and no thread took a job for as long (the
  threads are blocked, not merely waiting for the GIL), or ``PATIENCE`` times that in any case
  (the threads do take jobs, but too few to keep up).

The waiting jobs are watched by one *spawner* thread, since busy workers may be blocked for long:
it sleeps on a condition until the oldest job is due (or without a deadline while no job waits),
starts a thread for every job due, and exits after ``idle_timeout`` seconds with nothing to watch
or when the pool closes. It is started by the first job that has to wait, and the submitting side
only wakes it when the backlog was empty. So a job always runs: a thread exists once a job is
submitted, and a waiting job gets a new one within ``PATIENCE`` spawn delays while fewer than
``max_threads`` exist (beyond that, the backlog is the bound on concurrency).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable

__all__ = ["ThreadPool"]

#: Seconds an idle thread waits for work before it exits (anyio's worker threads use 10 too).
IDLE_TIMEOUT = 10.0

#: Seconds a job waits for busy threads that take no job either before the pool starts one more
#: thread for it: twice CPython's default GIL switch interval, since a runnable thread may wait
#: that long for the GIL alone.
SPAWN_DELAY = 0.01

#: A job that waited this many spawn delays gets a new thread even while others take jobs.
PATIENCE = 4


class _Worker:
    """One pool thread's wake-up: its lock is released to hand it a job (``None``: exit)."""

    __slots__ = ("job", "wake")

    def __init__(self) -> None:
        self.wake = threading.Lock()
        self.wake.acquire()  # held until a job is handed over
        self.job: Callable[[], object] | None = None


class ThreadPool:
    """Runs submitted callables in at most ``max_threads`` threads, started on demand.

    :param max_threads: the most threads this pool runs at once.
    :param idle_timeout: seconds an idle thread waits for work before it exits.
    :param spawn_delay: seconds a job waits for a busy thread before a new thread is started.
    """

    def __init__(
        self,
        *,
        max_threads: int,
        idle_timeout: float = IDLE_TIMEOUT,
        spawn_delay: float = SPAWN_DELAY,
    ) -> None:
        self.pid = os.getpid()
        self._max_threads = max_threads
        self._idle_timeout = idle_timeout
        self._spawn_delay = spawn_delay
        self._lock = threading.Lock()
        # Everything below is guarded by _lock.
        self._threads: set[threading.Thread] = set()  # the worker threads
        self._idle: list[_Worker] = []  # the most recently idle last
        self._backlog: deque[tuple[Callable[[], object], float]] = deque()  # (job, queued at)
        self._last_start = 0.0  # when the latest job was handed to a thread (monotonic)
        self._spawner: threading.Thread | None = None
        self._spawner_waits = False  # without a deadline: the backlog was empty
        self._spawner_wake = threading.Condition(self._lock)
        self._closed = False
        self._gave_up = False  # a close() ran out of time: later joins do not wait again
        #: The job each thread runs right now (written by that thread only).
        self._running: dict[int, Callable[[], object]] = {}
        _close_at_exit(self)

    def submit(self, job: Callable[[], object]) -> None:
        """Run ``job()`` in a pool thread as soon as one is free; never blocks.

        ``job`` must not raise: it reports its own outcome.

        :raises RuntimeError: the pool was closed.
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("the thread pool is closed")
            now = time.monotonic()
            if self._idle:
                self._last_start = now
                worker = self._idle.pop()
                worker.job = job
                worker.wake.release()
                return
            self._backlog.append((job, now))
            if len(self._threads) >= self._max_threads:
                return
            if not self._threads or now - self._last_start >= self._spawn_delay:
                self._start_worker(now)
            elif self._spawner is None:
                self._spawner = threading.Thread(
                    target=self._spawn_when_due, name=f"bridge-spawner-{id(self):x}", daemon=True
                )
                self._spawner.start()
            elif self._spawner_waits:
                self._spawner_waits = False
                self._spawner_wake.notify()

    def close(self, timeout: float | None = None) -> list[Callable[[], object]]:
        """Let every thread finish its job, then exit; join them all. Idempotent.

        Jobs still in the backlog get threads at once (up to ``max_threads``) and run first.

        :param timeout: seconds to wait for the threads at most (``None``: no limit). The
            threads are daemons: those still running are left to end on their own, and later
            calls (the one at interpreter exit too) no longer wait for them.
        :returns: the jobs still running when the wait ended.
        """
        with self._lock:
            self._closed = True
            self._spawner_waits = False
            self._spawner_wake.notify()
            spawner = self._spawner
            for worker in self._idle:  # idle threads: the backlog is empty
                worker.job = None
                worker.wake.release()
            self._idle.clear()
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._gave_up:
            deadline = time.monotonic()
        if spawner is not None:  # first: it starts threads for the backlog as the pool closes
            spawner.join(self._left(deadline))
        for thread in self._threads_now():
            if thread is not threading.current_thread():
                thread.join(self._left(deadline))
        running = list(self._running.values())
        if running:
            self._gave_up = True
        return running

    def _threads_now(self) -> list[threading.Thread]:
        with self._lock:
            return list(self._threads)

    @staticmethod
    def _left(deadline: float | None) -> float | None:
        """Seconds until ``deadline`` (``None``: no limit), never negative."""
        return None if deadline is None else max(0.0, deadline - time.monotonic())

    def _start_worker(self, now: float) -> None:
        """Start a thread for the oldest backlogged job (under ``_lock``)."""
        job, _ = self._backlog.popleft()
        self._last_start = now
        thread = threading.Thread(
            target=self._serve, args=(job,), name=f"bridge-worker-{id(self):x}", daemon=True
        )
        self._threads.add(thread)
        thread.start()

    def _serve(self, job: Callable[[], object] | None) -> None:
        """A pool thread: run jobs until closed, or idle for ``idle_timeout`` seconds."""
        worker = _Worker()
        ident = threading.get_ident()
        while job is not None:
            self._running[ident] = job
            try:
                job()
            finally:
                del self._running[ident]
            job = self._next_job(worker)

    def _next_job(self, worker: _Worker) -> Callable[[], object] | None:
        """Take a backlogged job, or wait idle for one; ``None`` when this thread should exit."""
        with self._lock:
            if self._backlog:
                self._last_start = time.monotonic()
                return self._backlog.popleft()[0]
            if self._closed:
                self._threads.discard(threading.current_thread())
                return None
            self._idle.append(worker)
        if not worker.wake.acquire(timeout=self._idle_timeout):
            with self._lock:
                if worker in self._idle:  # nobody handed it a job: exit
                    self._idle.remove(worker)
                    self._threads.discard(threading.current_thread())
                    return None
            worker.wake.acquire()  # a job was handed over just as the wait ran out
        if worker.job is None:  # close() let this idle thread go
            with self._lock:
                self._threads.discard(threading.current_thread())
        return worker.job

    def _spawn_when_due(self) -> None:
        """The spawner thread: start a thread for each job that is due (module docstring)."""
        with self._lock:
            while True:
                deadline = self._spawn_due_jobs()
                if deadline is not None:
                    self._spawner_wake.wait(max(0.0, deadline - time.monotonic()))
                    continue
                if self._closed:
                    break
                self._spawner_waits = True
                woken = self._spawner_wake.wait(self._idle_timeout)
                if not woken and self._spawner_waits:  # nothing to watch for idle_timeout
                    break
                self._spawner_waits = False
            self._spawner_waits = False
            self._spawner = None

    def _spawn_due_jobs(self) -> float | None:
        """Start threads for the due jobs (all, once closed) up to ``max_threads`` (under
        ``_lock``); return when the next one is due, or ``None`` if no job may get a thread."""
        now = time.monotonic()
        while self._backlog and len(self._threads) < self._max_threads:
            queued = self._backlog[0][1]
            stalled = max(queued, self._last_start) + self._spawn_delay
            due = min(stalled, queued + PATIENCE * self._spawn_delay)
            if due > now and not self._closed:
                return due
            self._start_worker(now)
        return None


def _close_at_exit(pool: ThreadPool) -> None:
    """Join ``pool``'s threads at interpreter exit, as ``concurrent.futures`` does."""
    reference = weakref.ref(pool)

    def close() -> None:
        alive = reference()
        if alive is not None and alive.pid == os.getpid():
            alive.close()

    # threading's own hook, run before it joins non-daemon threads (concurrent.futures uses it;
    # atexit would run too late). RuntimeError: already shutting down; the threads are daemons.
    with contextlib.suppress(RuntimeError):
        threading._register_atexit(close)  # type: ignore[attr-defined]  # noqa: SLF001
