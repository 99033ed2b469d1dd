"""WebSockets on the wire, for both adapters: handshakes, frames and non-blocking socket I/O.

Each adapter carries a WebSocket between a socket and an ASGI connection; this package holds what
both need, so the two directions share it instead of importing each other:

=================  ==========================================================================
module             what it holds
=================  ==========================================================================
``support``        :func:`wsproto_missing` and :class:`Refusals` (the one WARNING per adapter)
``wire``           :class:`Wire`: a socket read and written from an event loop (anyio)
``handshake``      the opening handshake as the server of a real client
                   (:class:`~.handshake.ClientHandshake`) and as the client of a WSGI app
                   (:class:`~.handshake.AppAnswer`); sans-IO, wsproto and h11
``frames``         :class:`~.frames.Peer`: an open WebSocket's frames, sans-IO (wsproto): bytes
                   in, whole messages and the close out; pings answered
=================  ==========================================================================

Theory of operation
===================
The roles, by direction:

* **AsgiToWsgi** (an ASGI app's WebSocket on a WSGI server): bridge is the WebSocket *server* of
  the real client. The WSGI server hands over the connection's socket (``gunicorn.socket``,
  ``werkzeug.socket``); bridge answers the handshake for the app and then moves frames on that
  socket from the private loop.
* **WsgiToAsgi** (a WSGI app that serves WebSockets through the socket it finds in the environ,
  such as flask-sock, on an ASGI server): the app is given one end of a ``socket.socketpair()``
  and does its own handshake and framing on it; bridge is the WebSocket *client* on the other
  end, and relays whole messages to and from the ASGI server.

``frames`` and ``handshake`` import wsproto, an optional extra: an adapter imports them only
after :func:`wsproto_missing` said it is there, and refuses the WebSocket (an HTTP 501 and one
WARNING per adapter) when it is not, so ``import bridge`` never needs wsproto.
"""

from .support import INSTALL_HINT, Refusals, wsproto_missing
from .wire import Wire

__all__ = ["INSTALL_HINT", "Refusals", "Wire", "wsproto_missing"]
