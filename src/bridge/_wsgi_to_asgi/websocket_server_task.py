"""One WebSocket of :class:`~bridge.WsgiToAsgi`, its half facing the ASGI server.

:class:`WebSocketServerTask` runs on the server's loop (asyncio or trio). It gives the WSGI app
one end of a ``socket.socketpair()`` (:mod:`.websocket_app_call`) and relays between the other
end and the ASGI connection, as the WebSocket *client* of the app:

1. After ``websocket.connect`` it checks that WebSockets can work here (wsproto installed, the
   thread runner); if not, it refuses with an HTTP 501 (``websocket.http.response``, or a close
   before accept, which the server answers with 403) and one WARNING per adapter.
2. It starts the app call in a worker thread and reads the socket. The app's answer to the
   handshake (:class:`~bridge._websocket.handshake.AppAnswer`) becomes ``websocket.accept``
   (with the app's subprotocol and headers) or the app's HTTP refusal; an app that never writes
   to its socket is refused with the WSGI response it returned (a 404 from an unknown path).
3. Then two relays run until the WebSocket ends: the app's frames become ``websocket.send`` and,
   for its close frame, ``websocket.close`` with the app's code and reason (1011 when the app's
   socket closed without a close frame); the client's ``websocket.receive`` messages become
   frames to the app, and ``websocket.disconnect`` a close frame with the client's code and
   reason (a dropped connection, 1006, shuts the app's socket down instead: the app reads EOF).

The task waits for the app call to return, even when cancelled (server shutdown): the
cancellation shuts the socket down, so the app reads EOF and ends. The worker thread is held for
the WebSocket's whole life. The greenlet runner is refused: the app would run on the loop's own
thread, and its blocking reads on the socket would stop the loop that must feed them.
"""

from __future__ import annotations

import base64
import io
import os
import socket
import sys
from typing import TYPE_CHECKING

import anyio

from .._errors import ClientError
from .._runners import Runner, ThreadRunner
from .._translate import error_response, parse_status, wsgi_headers_to_asgi
from .._translate.websocket import WEBSOCKET_DENIAL, build_websocket_environ
from .._websocket import Refusals, Wire, wsproto_missing
from .websocket_app_call import Reply, WebSocketAppCall

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

    from anyio.abc import TaskGroup
    from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, WebSocketScope

    from .._websocket.frames import Closed, Peer
    from .._websocket.handshake import AppAccepted, AppAnswer

__all__ = ["WebSocketServerTask"]

_ABNORMAL = 1006
_INTERNAL_ERROR = 1011


class WebSocketServerTask:
    """One WebSocket's half facing the ASGI server, on its loop (see the module docstring).

    :param app: the WSGI application.
    :param runner: runs the app call (only the thread runner can carry a WebSocket).
    :param duplicate_header_limit: how often one request header may repeat.
    :param refusals: the adapter's refusal log (one WARNING per adapter).
    :param scope: the ``websocket`` scope.
    """

    def __init__(
        self,
        app: WSGIApplication,
        runner: Runner,
        duplicate_header_limit: int,
        refusals: Refusals,
        scope: WebSocketScope,
        receive: ASGIReceiveCallable,
        send: ASGISendCallable,
    ) -> None:
        self._app = app
        self._runner = runner
        self._limit = duplicate_header_limit
        self._refusals = refusals
        self._scope = scope
        self._receive = receive
        self._send = send
        self._took_socket = False  # the app wrote to its socket: it answered there
        self._accepted = False
        self._client_gone = False
        self._closed_sent = False
        self._relay_done: anyio.Event | None = None
        self._failure: Exception | None = None  # the relay's, re-raised by the task itself

    async def serve(self) -> None:
        """Serve the WebSocket; re-raise the app's exception once the connection is dealt with."""
        if (await self._receive())["type"] != "websocket.connect":
            return
        reason = self._refusal()
        if reason is not None:
            self._refusals.refuse(self._scope.get("path", "/"), reason)
            await self._deny(501, *error_response(501))
            return
        app_socket, relay_socket = socket.socketpair()
        try:
            reply = await self._serve(app_socket, Wire(relay_socket))
        finally:
            app_socket.close()
            relay_socket.close()
        error = self._failure or (reply.error if reply is not None else None)
        if error is not None:
            raise error

    def _refusal(self) -> str | None:
        if not isinstance(self._runner, ThreadRunner):
            return (
                "the greenlet runner cannot carry WebSockets: the app's blocking reads on its "
                "socket would stop the event loop that feeds them; use runner='thread'"
            )
        return wsproto_missing()

    async def _serve(self, app_socket: socket.socket, wire: Wire) -> Reply | None:
        from .._websocket.handshake import AppAnswer  # imports wsproto

        key = base64.b64encode(os.urandom(16)).decode("ascii")
        try:
            environ = build_websocket_environ(
                self._scope,
                key=key,
                wsgi_input=io.BytesIO(),
                wsgi_errors=sys.stderr,
                duplicate_header_limit=self._limit,
            )
        except ClientError as exc:
            await self._deny(exc.status_code, *error_response(exc.status_code))
            return None
        environ["werkzeug.socket"] = app_socket
        subprotocols = list(self._scope.get("subprotocols") or ())
        answer = AppAnswer(environ["HTTP_SEC_WEBSOCKET_KEY"], subprotocols)
        call = WebSocketAppCall(self._app, environ, app_socket)
        self._relay_done = anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(self._relay_from_app, wire, answer, group)
            reply = await self._runner.run(call.run, on_cancel=wire.shutdown)
            await self._relay_done.wait()  # the app's socket is closed: EOF comes
            group.cancel_scope.cancel()
        if self._client_gone:
            pass  # nothing more can reach the client
        elif not self._took_socket:
            await self._deny_with(reply)
        elif not self._accepted:
            await self._deny(500, *error_response(500))
        else:
            failed = reply.error is not None or self._failure is not None
            await self._close(_INTERNAL_ERROR if failed else 1000, "")
        return reply

    # --- the app's side: its handshake answer, then its frames ---------------------------------

    async def _relay_from_app(self, wire: Wire, answer: AppAnswer, group: TaskGroup) -> None:
        """Relay what the app writes, until its close frame or EOF; keep any failure."""
        try:
            await self._read_app(wire, answer, group)
        except OSError:  # the server's send() failed: the client is gone (ASGI 2.4)
            self._client_gone = True
        except Exception as exc:  # the app broke the protocol: fail the WebSocket
            self._took_socket = True
            self._failure = exc
        finally:
            wire.shutdown()
            assert self._relay_done is not None
            self._relay_done.set()

    async def _read_app(self, wire: Wire, answer: AppAnswer, group: TaskGroup) -> None:
        from .._websocket.handshake import AppDenied

        result = None
        while result is None:
            data = await wire.recv()
            if not data and not self._took_socket:
                return  # the app answered through WSGI, if at all
            self._took_socket = True
            result = answer.feed(data)
        if isinstance(result, AppDenied):
            await self._deny(result.status, result.headers, result.body)
        else:
            await self._accept(result, wire, group)

    async def _accept(self, accepted: AppAccepted, wire: Wire, group: TaskGroup) -> None:
        from .._websocket.frames import Closed, Peer

        await self._send(
            {
                "type": "websocket.accept",
                "subprotocol": accepted.subprotocol,
                "headers": accepted.headers,
            }
        )
        self._accepted = True
        peer = Peer(accepted.connection)
        group.start_soon(self._relay_to_app, wire, peer)
        found = peer.feed(b"")
        while True:
            for item in found:
                if isinstance(item, Closed):
                    await wire.send_if_open(peer.take_outgoing())
                    await self._app_closed(item)
                    return
                await self._send_message(item)
            await wire.send_if_open(peer.take_outgoing())
            data = await wire.recv()
            found = peer.feed(data or None)

    async def _send_message(self, data: str | bytes) -> None:
        if self._client_gone:
            return
        if isinstance(data, str):
            await self._send({"type": "websocket.send", "bytes": None, "text": data})
        else:
            await self._send({"type": "websocket.send", "bytes": data, "text": None})

    async def _app_closed(self, closed: Closed) -> None:
        code = _INTERNAL_ERROR if closed.code == _ABNORMAL else closed.code
        await self._close(1000 if code == 1005 else code, closed.reason)

    # --- the client's side ----------------------------------------------------------------------

    async def _relay_to_app(self, wire: Wire, peer: Peer) -> None:
        """Relay the client's messages and disconnect to the app; keep any server failure."""
        try:
            await self._read_client(wire, peer)
        except Exception as exc:  # the server's receive() failed: end the WebSocket as failed
            self._failure = self._failure or exc
            wire.shutdown()

    async def _read_client(self, wire: Wire, peer: Peer) -> None:
        while True:
            message = await self._receive()
            if message["type"] == "websocket.receive":
                text = message.get("text")
                frame = peer.message(text if text is not None else message.get("bytes") or b"")
            elif message["type"] == "websocket.disconnect":
                self._client_gone = True
                code = message.get("code", 1005)
                if code == _ABNORMAL:
                    wire.shutdown()
                    return
                frame = peer.close(code, message.get("reason") or "")
            else:
                continue
            try:
                await wire.send(frame)
            except OSError:
                return
            if self._client_gone:
                return

    # --- messages to the ASGI server -----------------------------------------------------------

    async def _close(self, code: int, reason: str) -> None:
        if not (self._client_gone or self._closed_sent):
            self._closed_sent = True
            await self._send({"type": "websocket.close", "code": code, "reason": reason})

    async def _deny_with(self, reply: Reply) -> None:
        """Refuse with the app's WSGI response (500 if it raised or answered nothing)."""
        if reply.status is None:
            await self._deny(500, *error_response(500))
            return
        try:
            status = parse_status(reply.status)
            headers = wsgi_headers_to_asgi(reply.headers).headers
        except Exception:
            await self._deny(500, *error_response(500))
            raise
        await self._deny(status, headers, reply.body)

    async def _deny(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """Refuse the WebSocket with an HTTP response if the server can, else a close (403)."""
        if self._closed_sent:
            return
        self._closed_sent = True
        if WEBSOCKET_DENIAL not in (self._scope.get("extensions") or {}):
            await self._send({"type": "websocket.close", "code": 1000, "reason": ""})
            return
        start = {"type": "websocket.http.response.start", "status": status, "headers": headers}
        await self._send(start)  # type: ignore[arg-type]
        await self._send({"type": "websocket.http.response.body", "body": body, "more_body": False})
