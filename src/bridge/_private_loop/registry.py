"""This process's private loops and the leases that keep them running: :data:`REGISTRY`.

See the package docstring (:mod:`bridge._private_loop`) for the lifetime, fork and exit rules.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable

from .loops import BACKENDS, LOOP_CLASSES, LoopThread

__all__ = ["REGISTRY", "Lease", "Registry"]

_logger = logging.getLogger("bridge.asgi")


class Lease:
    """A claim on a running loop; the loop stops when its last lease is released."""

    def __init__(self, registry: Registry, loop: LoopThread, on_exit: Callable[[], None]) -> None:
        self.loop = loop
        self.on_exit = on_exit
        self._registry = registry

    def release(self) -> None:
        """Give the loop back; idempotent. Stops and joins the loop if this was its last lease."""
        self._registry.release(self)


class Registry:
    """The process's loop threads, by backend, with the leases that keep them running."""

    def __init__(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self._loops: dict[str, LoopThread] = {}
        self._leases: dict[Lease, None] = {}
        self._orphans: list[object] = []

    def lock(self) -> threading.RLock:
        """Return this process's registry lock (a fresh one after a fork)."""
        if self._pid != os.getpid():
            self.after_fork_in_child()
        return self._lock

    def acquire(self, backend: str, on_exit: Callable[[], None]) -> Lease:
        """Return a lease on this process's ``backend`` loop, starting the loop if needed.

        :param backend: one of :data:`BACKENDS`.
        :param on_exit: called at interpreter exit if the lease is still held then.
        """
        with self.lock():
            loop = self._loops.get(backend)
            if loop is None:
                loop = LOOP_CLASSES[backend]()
                loop.start()
                self._loops[backend] = loop
            lease = Lease(self, loop, on_exit)
            self._leases[lease] = None
            return lease

    def running(self) -> list[LoopThread]:
        """Return this process's running loops, in :data:`BACKENDS` order (for ``await_``)."""
        with self.lock():
            return [self._loops[backend] for backend in BACKENDS if backend in self._loops]

    def release(self, lease: Lease) -> None:
        """Drop ``lease``; stop its loop (outside the lock) when no lease uses it any more."""
        with self.lock():
            if self._leases.pop(lease, False) is False:
                return
            loop = lease.loop
            last = all(other.loop is not loop for other in self._leases)
            if last and self._loops.get(loop.backend) is loop:
                del self._loops[loop.backend]
        if last:
            loop.stop()

    def after_fork_in_child(self) -> None:
        """Forget the parent's loops without touching them (see the module docstring)."""
        self._orphans.append((self._lock, self._loops, self._leases))
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self._loops = {}
        self._leases = {}

    def close_all(self) -> None:
        """Run every held lease's ``on_exit``, then stop every loop (at interpreter exit)."""
        with self.lock():
            leases = list(self._leases)
        for lease in leases:
            try:
                lease.on_exit()
            except Exception:
                _logger.exception("error while closing an AsgiToWsgi at exit")
            lease.release()
        with self.lock():
            loops = list(self._loops.values())
            self._loops.clear()
        for loop in loops:
            loop.stop()


#: The one registry of the process.
REGISTRY = Registry()
os.register_at_fork(after_in_child=REGISTRY.after_fork_in_child)
atexit.register(REGISTRY.close_all)
