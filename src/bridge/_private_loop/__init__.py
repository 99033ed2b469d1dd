"""The private event loop: one loop per process and backend, shared by every AsgiToWsgi.

=================  ==========================================================================
module             what it holds
=================  ==========================================================================
``loops``          :class:`LoopThread`: what bridge needs of a loop, a loop in its own thread,
                   and the trio loop
``asyncio_loop``   ``AsyncioLoop``: an asyncio or uvloop loop, in its own thread, or run
                   *inline* by the server's thread while it serves a request
``registry``       :data:`REGISTRY`: this process's loops and the leases that keep them running
=================  ==========================================================================

Theory of operation
===================
A WSGI server calls the app from its own threads (one in a Gunicorn sync worker, many in gthread,
Waitress or mod_wsgi). ASGI apps need a running event loop. bridge keeps exactly one loop per
process and backend (``asyncio``, ``uvloop`` or ``trio``), running forever in a daemon thread named
``bridge-<backend>-loop``; every :class:`~bridge.AsgiToWsgi` of the process and every WSGI thread
share it. A server that calls the app from one thread (a Gunicorn sync worker) can instead run
an asyncio loop *inline*, itself, while it waits for the loop: then no thread hand-off happens at
all (see ``asyncio_loop`` for how the waits become turns of the loop, and what runs between
requests). The waits go through the loop object either way: ``result`` (a future the loop
resolves), ``new_queue`` (a request's items), ``settle`` (let a request's task end).

Who may call what, from where:

==================  =================  ========================================================
method              called from        what it does
==================  =================  ========================================================
``call_soon``       any thread         schedule a plain callback on the loop (one wake-up)
``call_soon_local`` the loop thread    schedule a callback for the next loop iteration
``call_later``      the loop thread    run a callback after a delay; returns its cancel function
``spawn``           the loop thread    start a task; returns a function that cancels it
``start_task``      the loop thread    ``spawn`` without bookkeeping, for per-request tasks
``waiting``         any thread         the set of :class:`Waiter` objects a stop must fail
``new_event``       any thread         a native event, set and awaited on the loop only
``stop``            any other thread   cancel every task, stop the loop, join the thread
==================  =================  ========================================================

A thread that blocks waiting for the loop adds a :class:`Waiter` to ``waiting`` first and
checks ``stopped`` after: when the loop thread ends (stopped, or its tasks ignored cancellation)
it sets ``stopped`` and calls ``loop_stopped()`` on every waiter, so no wait outlives the loop.

Lifetime: :data:`REGISTRY` hands out :class:`Lease` objects. The first lease of a backend starts
its loop thread (lazily: never at import or in a constructor); releasing the last lease stops the
loop and joins its thread. At interpreter exit (before Python joins its non-daemon threads, and
with :mod:`atexit` as a fallback) every lease still held is given its ``on_exit`` callback (each
AsgiToWsgi runs its lifespan shutdown there), then every loop is stopped and joined.

Fork: a process forked after first use (Gunicorn ``--preload``, Passenger) inherits the registry
but not the loop threads. ``os.register_at_fork(after_in_child=...)`` gives the child a fresh
lock and empty tables, and the pid recorded in the registry catches forks that bypass that hook.
The parent's loops, leases and lock are kept in a list, never used, never closed and never
garbage-collected (their destructors would close file descriptors the parent still uses), so the
child starts its own loop without acquiring any lock some parent thread may have held.

The registry is the only module-level mutable state in bridge: "one loop per process" is process
state by definition.
"""

from .loops import BACKENDS, Event, ItemQueue, LoopThread, Waiter, resolve_backend
from .registry import REGISTRY, Lease

__all__ = [
    "BACKENDS",
    "REGISTRY",
    "Event",
    "ItemQueue",
    "Lease",
    "LoopThread",
    "Waiter",
    "resolve_backend",
]
