"""One WebSocket of :class:`~bridge.WsgiToAsgi`, its half facing the WSGI app.

:class:`WebSocketAppCall` runs in a worker thread. It calls the WSGI app with the environ of
the upgrade request, in which ``environ["werkzeug.socket"]`` is one end of a
``socket.socketpair()``: an app that serves WebSockets from the socket it finds there
(flask-sock and simple-websocket look for ``werkzeug.socket`` first, then ``gunicorn.socket``)
does its handshake and framing on it, in this thread and any thread it starts, while the server
task relays the other end.

The app may also answer with an ordinary WSGI response (a 404 for an unknown path, a 401): the
call keeps it (up to :data:`~bridge._websocket.handshake.MAX_DENIAL` bytes of body) for the
server task to send as the refusal. After the app took the socket over, what it returns is
ignored (flask-sock returns an empty 200 in Werkzeug's mode), and a ``StopIteration`` it raises
(flask-sock's way to end the request on Gunicorn) is not an error.

When the app has returned (and its iterable is closed), its end of the pair is shut down and
closed, as a WSGI server closes the connection after the app returned: the relay then reads
what the app wrote up to EOF, and a helper thread the app left reading (simple-websocket's)
reads EOF and ends.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication, WSGIEnvironment

    from .._runners import Link

__all__ = ["Reply", "WebSocketAppCall"]

#: The most body bytes of an ordinary WSGI response kept as a WebSocket refusal.
_MAX_BODY = 1024 * 1024


class Reply(NamedTuple):
    """What the app returned through WSGI: status line, headers, body, and what it raised."""

    status: str | None
    headers: list[tuple[str, str]]
    body: bytes
    error: Exception | None


class WebSocketAppCall:
    """One WebSocket's call of the WSGI app, in a worker thread (see the module docstring).

    :param app: the WSGI application.
    :param environ: the upgrade request's environ, with the app's socket in it.
    :param app_socket: the app's end of the socket pair; shut down and closed when the app
        returns.
    """

    __slots__ = ("_app", "_app_socket", "_body", "_environ", "_headers", "_status")

    def __init__(
        self, app: WSGIApplication, environ: WSGIEnvironment, app_socket: socket.socket
    ) -> None:
        self._app = app
        self._environ = environ
        self._app_socket = app_socket
        self._status: str | None = None
        self._headers: list[tuple[str, str]] = []
        self._body = bytearray()

    def run(self, link: Link) -> Reply:
        """Call the app, pull and close its iterable, then close the app's socket."""
        error: Exception | None = None
        try:
            iterable = self._app(self._environ, self._start_response)
            try:
                for chunk in iterable:
                    self._write(chunk)
            finally:
                close: Callable[[], object] | None = getattr(iterable, "close", None)
                if close is not None:
                    close()
        except StopIteration:
            pass  # flask-sock's end of a WebSocket on Gunicorn
        except Exception as exc:
            error = exc
        finally:
            with contextlib.suppress(OSError):
                self._app_socket.shutdown(socket.SHUT_RDWR)
            self._app_socket.close()
        return Reply(self._status, self._headers, bytes(self._body), error)

    def _start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: object = None
    ) -> Callable[[bytes], object]:
        self._status, self._headers = status, list(headers)
        return self._write

    def _write(self, data: bytes) -> None:
        if len(self._body) < _MAX_BODY:
            self._body += data[: _MAX_BODY - len(self._body)]
