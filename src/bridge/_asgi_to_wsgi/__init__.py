"""Serve an ASGI application from any PEP 3333 (WSGI) server: :class:`~bridge.AsgiToWsgi`.

=================  ==========================================================================
module             what it holds
=================  ==========================================================================
``adapter``        :class:`AsgiToWsgi`, the app object: validated options, and the runtime of
                   the current process
``options``        the validated options and their checks
``runtime``        what one adapter owns in one process: a lease on the private loop, the
                   lifespan, the app tasks still running (drained at ``close()``)
``lifespan``       the app's lifespan on the private loop: startup once, shutdown at close
``server_call``    :class:`~.server_call.ServerCall`: one request's half facing the WSGI
                   server, a call on the server's thread
``response_body``  the PEP 3333 response iterable of a streamed response
``handoff``        one request's typed items and byte counts between the two halves
``app_task``       :class:`~.app_task.AppTask`: one request's half facing the ASGI app, a task
                   on the private loop (``receive`` and ``send``)
``websocket_*``    a WebSocket's two halves and their hand-off: the server call waits on the
                   server's thread while the app task owns the socket the server handed over
                   (see :mod:`.websocket_server_call`)
=================  ==========================================================================

Theory of operation
===================
A request has two halves that share one :class:`~.handoff.Handoff`:

* **the server call** (the WSGI server's thread) builds the scope, schedules
  :meth:`AppTask.begin <.app_task.AppTask.begin>` on the loop (``call_soon``, wake-up 1) and
  blocks on the hand-off until the app hands over its response (wake-up 2). It does all blocking
  I/O: it reads ``wsgi.input`` when the app asks, calls ``start_response`` and yields the body
  chunks (through the :class:`~.response_body.ResponseBody` iterable once the response streams).
* **the app task** (the private loop): ``receive`` and ``send`` never block a thread. They put
  typed items in the hand-off (see :mod:`.handoff` for the table) and wait on native events
  that the server call sets through ``call_soon`` (``on_body``, ``on_timeout``,
  ``on_wsgi_gone``, and the hand-off's own wake-up of a sender waiting for room).

Who may call what: the server call and its response iterable run only on the server's thread;
the app task's methods only on the loop (the server call reaches them with ``call_soon``); the
hand-off's loop-side and WSGI-side methods are marked as such, and each byte count is written by
one side only.

A short response costs two thread wake-ups and two loop iterations (one to create the task, one
to run it): the app's coroutine runs under :class:`~.app_task.Steps`, which sees each point where
the app suspends, so a pending start is handed over there (or with the first body, as one item)
and the background timer is armed there, without extra callbacks. The task's own ``finally``
does its bookkeeping, so no done-callback runs after the response.

Request body: the server call reads ``wsgi.input`` only for a ``READ`` item, which the first
``receive()`` puts. It then reads chunk after chunk, handing each over with ``on_body``, until
``READ_AHEAD`` bytes wait unreceived (it compares what it read with the hand-off's ``consumed``)
or the body ends; ``receive`` puts the next ``READ`` once at most half of that is left. So
reading overlaps the app's work, and a steady upload costs a queue wake-up per half window, not
per chunk.

Backpressure: ``send`` returns at once while at most ``send_window`` bytes wait in the hand-off;
beyond that it waits until the server call has taken enough for half the window to be free.

Response end and disconnect: the response ends with ``more_body: False`` (or pathsend); the task
may go on (background work) for ``background_timeout`` seconds. If the server closes the iterable
before that, or the app misses ``request_timeout``, ``on_wsgi_gone`` makes ``receive`` return
``http.disconnect`` and ``send`` raise :class:`~bridge.ClientDisconnected` (an ``OSError``, ASGI
2.4), and the task is cancelled after ``disconnect_grace`` seconds (at once on a timeout).

The private loop itself, shared by every adapter of the process, is :mod:`bridge._private_loop`.
"""

from .adapter import AsgiToWsgi

__all__ = ["AsgiToWsgi"]
