"""One WebSocket's hand-off from its app task to its server call: :class:`WebSocketHandoff`.

The app task (:mod:`.websocket_app_task`, on the loop) puts at most two items; the server call
(:mod:`.websocket_server_call`, on the WSGI server's thread) blocks on them:

====================  ========================================  ============================
item                  put when                                  the server call then
====================  ========================================  ============================
:data:`ACCEPTED`      the app accepted and the 101 was sent     waits for the end, unbounded
:class:`Denied`       the app refused: ``websocket.close``      answers that HTTP response
                      (403) or ``websocket.http.response.*``
:class:`Ended`        the WebSocket is over; the loop no        shuts the socket down and
                      longer touches the socket                 ends the WSGI request
:class:`Failed`       the app raised or broke the protocol      answers 500 (or the error's
                      before it answered, or the loop stopped   status), or just ends
====================  ========================================  ============================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .._errors import ServerError
from .._types import AsgiHeaders

if TYPE_CHECKING:
    from .._private_loop import ItemQueue, LoopThread

__all__ = ["ACCEPTED", "Accepted", "Denied", "Ended", "Failed", "Item", "WebSocketHandoff"]


class Accepted:
    """The app accepted the WebSocket; its ``101`` answer is on the wire."""

    __slots__ = ()


#: The one :class:`Accepted` item.
ACCEPTED: Final = Accepted()


class Denied:
    """The app refused the WebSocket with this HTTP response (not written yet)."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: AsgiHeaders, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


class Ended:
    """The WebSocket is over and the loop is done with the socket."""

    __slots__ = ()


class Failed:
    """The WebSocket failed before the app answered its handshake (or the loop stopped)."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


Item = Accepted | Denied | Ended | Failed


class WebSocketHandoff:
    """The items of one WebSocket, from the loop to the WSGI thread (see the module docstring)."""

    __slots__ = ("_queue",)

    def __init__(self, loop: LoopThread) -> None:
        # The loop's own queue: where the server's thread runs the loop (inline), waiting for an
        # item runs it, so the whole WebSocket is served in that thread's turns.
        self._queue: ItemQueue[Item] = loop.new_queue()

    def put(self, item: Item) -> None:
        """Hand ``item`` to the WSGI thread (the loop, or a waiter told that it stopped)."""
        self._queue.put(item)

    def get(self, timeout: float | None = None) -> Item:
        """Wait for the next item, at most ``timeout`` seconds when given.

        :raises queue.Empty: the timeout passed.
        """
        return self._queue.get(timeout=timeout)

    def loop_stopped(self) -> None:
        """End the WSGI thread's wait: the loop stopped (the loop's ``Waiter`` protocol)."""
        self.put(Failed(ServerError("the AsgiToWsgi event loop stopped during a WebSocket")))
