"""One WebSocket of :class:`~bridge.AsgiToWsgi`, its half facing the WSGI server.

:class:`WebSocketServerCall` runs on the WSGI server's thread.

PEP 3333 has no WebSockets, but Gunicorn's sync and gthread workers put the connection's socket
in ``environ["gunicorn.socket"]`` and Werkzeug's development server in
``environ["werkzeug.socket"]``; flask-sock and simple-websocket serve WebSockets on those servers
by taking that socket over ("Werkzeug, Gunicorn, Eventlet and Gevent are the only web servers
that are currently supported", simple-websocket's ``Server.accept``). bridge does the same for an
ASGI app:

1. On the server's thread, the server call checks that WebSockets can work here (a socket was
   handed over, HTTP/1.1, wsproto installed) and that the request is a valid RFC 6455 handshake
   (else 400/426, written by the server as any response). A refusal is an HTTP 501 and one
   WARNING per adapter (:class:`~bridge._websocket.Refusals`): never a hang, never the upgrade
   request passed to the app as plain HTTP.
2. It schedules the :class:`~.websocket_app_task.WebSocketAppTask` and waits for its answer
   (bounded by ``request_timeout``): a refusal is written by the WSGI server like any response;
   an accept means the loop now owns the socket, and the thread waits, unbounded, for the end.
   The WSGI worker thread is held for the WebSocket's whole life.
3. At the end it shuts the socket down and calls ``start_response("101 Switching Protocols",
   [])`` with an empty body: the server's attempt to write that status fails with ``EPIPE``,
   which Gunicorn ("Ignoring EPIPE") and Werkzeug (``connection_dropped``) treat as a client
   that left, and their access logs show the 101. (flask-sock instead raises ``StopIteration``
   on Gunicorn, which Gunicorn logs as "Closing connection" and leaves out of its access log.)

A client must not send frames before it has the 101 (RFC 6455 4.1: "Once the client's opening
handshake has been sent, the client MUST wait for a response from the server before sending any
further data"), so no frame can be stuck in the WSGI server's read buffer.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
from collections.abc import Iterable
from time import monotonic
from typing import TYPE_CHECKING, cast
from wsgiref.types import StartResponse, WSGIEnvironment

from .._errors import ApplicationTimeout, BridgeError, ClientError, LifespanError, ServerError
from .._translate import asgi_headers_to_wsgi, error_response, status_line
from .._translate.websocket import build_websocket_scope, handshake_headers
from .._websocket import Refusals, wsproto_missing
from .websocket_handoff import Accepted, Denied, Failed, Item, WebSocketHandoff

if TYPE_CHECKING:
    from _typeshed import OptExcInfo

    from .runtime import Runtime
    from .websocket_app_task import WebSocketAppTask

__all__ = ["SOCKET_KEYS", "WebSocketServerCall"]

_logger = logging.getLogger("bridge.asgi")
#: The environ keys under which WSGI servers hand over the connection's socket.
SOCKET_KEYS = ("gunicorn.socket", "werkzeug.socket")


class WebSocketServerCall:
    """One WebSocket request on the WSGI server's thread (see the module docstring).

    :param runtime: the adapter's runtime in this process.
    :param environ: the upgrade request's PEP 3333 environ.
    :param refusals: the adapter's refusal log (one WARNING per adapter).
    """

    __slots__ = ("_environ", "_handoff", "_refusals", "_runtime", "_task")

    def __init__(self, runtime: Runtime, environ: WSGIEnvironment, refusals: Refusals) -> None:
        self._runtime = runtime
        self._environ = environ
        self._refusals = refusals
        self._handoff = WebSocketHandoff(runtime.loop)
        self._task: WebSocketAppTask | None = None

    def respond(self, start_response: StartResponse) -> Iterable[bytes]:
        """Serve the WebSocket request; return the PEP 3333 response (see the module docstring)."""
        environ = self._environ
        sock = _handed_socket(environ)
        reason = _refusal(environ, sock)
        if reason is not None:
            self._refusals.refuse(_target(environ), reason)
            return self._answer(start_response, 501, *error_response(501))
        try:
            item = self._start(cast("socket.socket", sock))
            if type(item) is Accepted:
                self._wait_for_the_end()
        except ClientError as exc:
            return self._fail(start_response, exc)
        except Exception as exc:
            self._stop()
            return self._fail(start_response, exc)
        except BaseException:  # SystemExit in a Gunicorn sync worker told to quit: close first
            self._stop()
            raise
        if type(item) is Denied:
            return self._answer(start_response, item.status, item.headers, item.body)
        if type(item) is Failed:
            return self._fail(start_response, item.error)
        with contextlib.suppress(OSError):
            cast("socket.socket", sock).shutdown(socket.SHUT_RDWR)
        start_response("101 Switching Protocols", [])
        return []

    def _wait_for_the_end(self) -> None:
        """Wait, unbounded, until the open WebSocket is over (the 101 is on the wire: whatever
        ends the wait, the request can only end by closing the connection)."""
        item = self._wait(None)
        if type(item) is Failed:
            target = _target(self._environ)
            _logger.error("the WebSocket %s ended abnormally", target, exc_info=item.error)

    def _start(self, sock: socket.socket) -> Item:
        """Check the handshake, start the app's task, return its first answer."""
        from .._websocket.handshake import ClientHandshake  # imports wsproto
        from .websocket_app_task import WebSocketAppTask

        runtime = self._runtime
        lifespan = runtime.lifespan
        if lifespan.failure is not None:
            raise LifespanError(str(lifespan.failure)) from lifespan.failure
        environ = self._environ
        handshake = ClientHandshake(handshake_headers(environ), "/")
        scope = build_websocket_scope(environ)
        if lifespan.supported:
            scope["state"] = dict(lifespan.state)
        self._task = task = WebSocketAppTask(runtime, scope, self._handoff, handshake, sock)
        timeout = runtime.options.request_timeout
        try:
            runtime.loop.call_soon(task.begin)
        except RuntimeError as exc:
            raise ServerError("the AsgiToWsgi event loop has stopped") from exc
        return self._wait(None if timeout is None else monotonic() + timeout)

    def _wait(self, deadline: float | None) -> Item:
        """Wait for the app task's next item; a stopping loop ends the wait with :class:`Failed`."""
        waiting = self._runtime.loop.waiting
        waiting.add(self._handoff)
        try:
            if self._runtime.loop.stopped:
                self._handoff.loop_stopped()
            if deadline is None:
                return self._handoff.get()
            return self._handoff.get(timeout=max(deadline - monotonic(), 0.0))
        except queue.Empty:
            self._stop()
            timeout = self._runtime.options.request_timeout
            raise ApplicationTimeout(
                f"the ASGI app did not answer the WebSocket handshake within {timeout} seconds"
            ) from None
        finally:
            waiting.discard(self._handoff)

    def _stop(self) -> None:
        """Ask the app task to end (1001 if the WebSocket is open); its end is not awaited."""
        if self._task is not None:
            with contextlib.suppress(RuntimeError):
                self._runtime.loop.call_soon(self._task.cancel)

    def _answer(
        self,
        start_response: StartResponse,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        exc_info: OptExcInfo | None = None,
    ) -> list[bytes]:
        start_response(status_line(status), asgi_headers_to_wsgi(headers).headers, exc_info)
        return [body]

    def _fail(self, start_response: StartResponse, exc: Exception) -> list[bytes]:
        """Log ``exc`` once and answer with its status (before any answer was written)."""
        status = exc.status_code if isinstance(exc, BridgeError) else 500
        target = _target(self._environ)
        if isinstance(exc, ClientError):
            _logger.info("answered %d to the WebSocket request %s: %s", status, target, exc)
        else:
            _logger.error("answered %d to the WebSocket request %s", status, target, exc_info=exc)
        headers, body = error_response(status)
        headers = [*getattr(exc, "headers", []), *headers]
        exc_info = cast("OptExcInfo", (type(exc), exc, exc.__traceback__))
        return self._answer(start_response, status, headers, body, exc_info)


def _handed_socket(environ: WSGIEnvironment) -> socket.socket | None:
    for key in SOCKET_KEYS:
        sock = environ.get(key)
        if isinstance(sock, socket.socket):
            return sock
    return None


def _refusal(environ: WSGIEnvironment, sock: socket.socket | None) -> str | None:
    """Return why this server cannot carry the WebSocket, or ``None`` when it can."""
    if sock is None:
        server = environ.get("SERVER_SOFTWARE") or "this WSGI server"
        return (
            f"{server} does not hand the connection's socket to the app (no "
            f"{' or '.join(SOCKET_KEYS)} in the environ); serve WebSockets from Gunicorn's sync "
            "or gthread workers or Werkzeug's development server, or run the ASGI app on an ASGI "
            "server"
        )
    if environ.get("SERVER_PROTOCOL") != "HTTP/1.1":
        return f"a WebSocket upgrade needs HTTP/1.1, got {environ.get('SERVER_PROTOCOL')!r}"
    return wsproto_missing()


def _target(environ: WSGIEnvironment) -> str:
    return f"{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}" or "/"
