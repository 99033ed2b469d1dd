"""Serve a PEP 3333 (WSGI) application to ASGI servers: :class:`~bridge.WsgiToAsgi`.

=================  ==========================================================================
module             what it holds
=================  ==========================================================================
``adapter``        :class:`WsgiToAsgi`, the app object: options, the runner, and dispatch by
                   scope type (``http``; ``lifespan`` and ``websocket`` answered there)
``server_task``    :class:`ServerTask`: one request's half facing the ASGI server, a task on
                   the server's loop (receives, sends, runs the app call through the runner)
``app_call``       :class:`AppCall`: one request's half facing the WSGI app, a call in a worker
                   thread or greenlet (the app, ``start_response``, ``write``, the iterable)
``wsgi_io``        the file objects the app sees: ``wsgi.input`` and ``wsgi.file_wrapper``
``websocket_*``    a WebSocket's two halves: the app call gives the app one end of a socket
                   pair, the server task relays the other end (see :mod:`.websocket_server_task`)
=================  ==========================================================================

Theory of operation
===================
A :class:`ServerTask` and its :class:`AppCall` hold one request's state and die with it:

* the **server task** (the request task and its helper tasks, on the loop thread): receives
  the first request message, builds the environ (``_translate.build_environ``), runs the app
  call through a :class:`~bridge._runners.Runner` and sends what it produced;
* the **app call** (one worker thread, or one greenlet): calls the app, ``start_response``,
  ``write``, every ``next()`` and ``close()``, in that one thread.

A short response costs one hand-off to the worker and back: the worker leaves every message in
``pending`` and the request task sends them; no helper task exists. On the greenlet runner it
costs no task group either: :meth:`~bridge._runners.Runner.start` runs the whole app before
the request task has anything to await, and the task group opens only if the app is still
running, or asked for a helper meanwhile (kept in ``_deferred`` until the group opens). Helper
tasks start only when needed, in a task group that is cheap to enter (``asyncio.TaskGroup`` on
asyncio, anyio's on trio):

* the **sender**, started by the worker's first flush (a streamed response), is the only caller
  of ``send()`` from then on; it sends what the worker puts in the outbox;
* the **pump** is the only caller of ``receive()`` after the first message. It feeds body bytes
  into an :class:`~bridge._runners.Inbox` (read lazily by ``wsgi.input``, at most
  ``RECEIVE_WINDOW`` bytes ahead) and, once the body is complete, waits for ``http.disconnect``.
  It starts with the request when the body did not fit in the first message, or when the
  response starts streaming.

A disconnect (``http.disconnect``, or ``send()`` raising ``OSError``) or a cancellation stops
both channels: the worker stops pulling the iterable before its next ``next()``, ``wsgi.input``
and ``write()`` raise :class:`~bridge.ClientDisconnected`, and ``close()`` runs in the worker as
on every other path. The request task always waits for the worker, even against a native
asyncio ``Task.cancel()`` (see :meth:`~bridge._runners.Runner.run`), so no thread outlives it.

Helpers never raise into the task group: a ``send()`` or ``receive()`` failing with anything but
``OSError`` is kept and re-raised by the request task itself, so the server sees the original
exception, not an exception group.
"""

from .adapter import WsgiToAsgi

__all__ = ["WsgiToAsgi"]
