"""How sync code runs beside a running event loop, and reaches back into it.

WsgiToAsgi runs the WSGI app (sync code) beside the ASGI server's loop; this package is the only
place that knows how the two share a process. The adapters talk to it through a
:class:`~.base.Runner` and the :class:`~.base.Link` it hands the sync code.

=================  ==========================================================================
module             what it holds
=================  ==========================================================================
``base``           the contract: :class:`Runner`, :class:`Started`, :class:`Link`, and
                   :data:`CURRENT_LINK` (how ``bridge.await_`` finds the request's loop)
``wakeups``        :class:`Signal` (wakes tasks) and :class:`Gate` (blocks the sync side until
                   the loop opens it)
``channels``       the byte-bounded :class:`Outbox` (sync side -> a task) and :class:`Inbox`
                   (a task -> sync side)
``thread_pool``    the lazy, bounded pool of worker threads, joined at close and at exit
``threads``        :class:`ThreadRunner`: each call in a worker thread (the default)
``greenlets``      ``GreenletRunner``: each call in a greenlet on the loop thread itself;
                   imported only when used, so ``import bridge`` does not import greenlet
``asgiref_loop``   :func:`lend_loop` and :class:`Coroutines`: asgiref's ``async_to_sync`` in
                   sync code runs on the loop bridge chose (the request's, or the private one)
=================  ==========================================================================

Theory of operation
===================
A :class:`Runner` runs one sync callable *beside* the running loop and hands it a :class:`Link`,
the callable's only way back into the loop:

* ``link.call_soon(func)`` schedules the plain function ``func`` on the loop thread and returns
  at once (it never waits, so it is cheap enough for every body chunk);
* ``link.call(afunc)`` runs ``afunc()`` on the loop and blocks the sync side until it returns
  (``bridge.await_``). ``afunc`` runs shielded from cancellation: the loop-side task that feeds
  or drains a channel is what gets cancelled, and it stops the channel, which ends the wait;
* ``link.gate()`` makes a :class:`Gate`: the sync side blocks on it (for room in the outbox, or
  for request body bytes) until the loop opens it. A worker thread's gate is a lock the loop
  releases, so a wait costs one thread wake-up and nothing on the loop.

:meth:`Runner.start` splits :meth:`Runner.run` in two for the caller that can skip work when
the callable needs no waiting: it begins the callable now if the runner can (the greenlet
runner runs it until its first wait, a short response to its end) and returns a
:class:`Started` handle whose ``finish()`` waits for the rest. The thread runner begins nothing
early: its handle's ``finish()`` is ``run()``.

Cancellation: :meth:`Runner.run` never returns before the callable has finished, whatever
cancels the waiting task (a cancel scope, trio, or a native asyncio ``Task.cancel()``, which
anyio's shields do not hold back). It calls ``on_cancel`` once so that the caller can stop the
channels the callable may wait on, waits on, and re-raises the cancellation at the end.

Who may call what: a :class:`Link` is used only by the sync callable it was given (and the
channels that callable waits on); :class:`Signal` and the channels' loop-side methods only on the
loop thread; a :class:`Gate` is waited on by its sync side and opened by the loop.
"""

from .asgiref_loop import Coroutines, lend_loop
from .base import CURRENT_LINK, Link, Runner, Started
from .channels import Inbox, Outbox
from .threads import ThreadRunner
from .wakeups import Gate, Signal, cancellation_check, current_asyncio_task, running_on_asyncio

__all__ = [
    "CURRENT_LINK",
    "Coroutines",
    "Gate",
    "Inbox",
    "Link",
    "Outbox",
    "Runner",
    "Signal",
    "Started",
    "ThreadRunner",
    "cancellation_check",
    "current_asyncio_task",
    "lend_loop",
    "running_on_asyncio",
]
