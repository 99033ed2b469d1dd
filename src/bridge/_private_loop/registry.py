"""This process's private loops and the leases that keep them running: :data:`REGISTRY`.

See the package docstring (:mod:`bridge._private_loop`) for the lifetime, fork and exit rules.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
from collections.abc import Callable

from .asyncio_loop import AsyncioLoop
from .loops import BACKENDS, LoopThread, TrioLoop

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

    def acquire(
        self,
        backend: str,
        on_exit: Callable[[], None],
        *,
        inline: bool = False,
        promotable: bool = True,
    ) -> Lease:
        """Return a lease on this process's ``backend`` loop, starting the loop if needed.

        :param backend: one of :data:`BACKENDS`.
        :param on_exit: called at interpreter exit if the lease is still held then.
        :param inline: run the loop inline (asyncio and uvloop only), unless it runs in a
            thread already; ``False`` moves an inline loop into a thread.
        :param promotable: whether a new inline loop moves into a thread once a second thread
            needs it at the same time (else the threads take turns).
        """
        with self.lock():
            loop = self._loops.get(backend)
            if loop is None:
                loop = (
                    TrioLoop()
                    if backend == "trio"
                    else AsyncioLoop(backend, inline=inline, promotable=promotable)
                )
                loop.start()
                self._loops[backend] = loop
            elif not inline and isinstance(loop, AsyncioLoop):
                loop.promote()
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
# At exit, before Python joins the non-daemon threads: a loop run inline gets its last turns then,
# and what they end (anyio's worker threads, say) must not be joined first. threading's own
# hook (concurrent.futures uses it); atexit as well, for an interpreter without it.
with contextlib.suppress(AttributeError, RuntimeError):
    threading._register_atexit(REGISTRY.close_all)  # type: ignore[attr-defined]  # noqa: SLF001
atexit.register(REGISTRY.close_all)
