"""One WebSocket of :class:`~bridge.AsgiToWsgi`, its half facing the ASGI app.

:class:`WebSocketAppTask`
 runs on the private loop. It calls the app with a ``websocket`` scope, answers the
handshake on the socket the WSGI server handed over, and from then on owns that socket: a reader
task turns the client's frames into ``websocket.receive`` messages, and ``send`` turns the app's
messages into frames (:class:`~bridge._websocket.Wire` and :class:`~bridge._websocket.frames.Peer`).
The server call on the WSGI thread only waits (see :mod:`.websocket_handoff`).

States: ``connecting`` until the app accepts (the 101 goes out) or refuses (the server call
answers the HTTP response: ``websocket.close`` -> 403, or the app's own
``websocket.http.response.*``); then ``open``; ``closing`` once the app sent its close. The
socket is the task's alone from the 101 until :class:`~.websocket_handoff.Ended` is handed over.

Endings (ASGI spec, "WebSocket"): the client's close or a dropped connection gives the app
``websocket.disconnect`` (with the client's code and reason, 1005 without a code, 1006 when the
connection dropped) and makes ``send`` raise :class:`~bridge.ClientDisconnected`; an app that
returns without closing closes with 1000 (1011 if it raised). ``cancel()`` (the adapter's
``close()``, interpreter exit) closes an open WebSocket with 1001 "going away" and gives the app
``disconnect_grace`` seconds to return before its task is cancelled.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import anyio

from .._errors import ApplicationError, ClientDisconnected, ServerError
from .._websocket import Wire
from .._websocket.frames import GOING_AWAY, INTERNAL_ERROR, NORMAL, Closed, Peer
from .websocket_handoff import ACCEPTED, Denied, Ended, Failed, WebSocketHandoff

if TYPE_CHECKING:
    from anyio.abc import TaskGroup
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
    from asgiref.typing import ASGIReceiveEvent, ASGISendEvent, WebSocketScope

    from .._private_loop import Event
    from .._websocket.handshake import ClientHandshake
    from .runtime import Runtime

__all__ = ["MAX_MESSAGE_SIZE", "WebSocketAppTask"]

_logger = logging.getLogger("bridge.asgi")
#: The largest message accepted from a client (Uvicorn's ``--ws-max-size`` default); a bigger
#: one closes the WebSocket with 1009.
MAX_MESSAGE_SIZE = 16 * 1024 * 1024
#: Whole messages read ahead of the app's ``receive()``; the reader waits beyond that.
_READ_AHEAD = 16
_DROPPED = {"type": "websocket.disconnect", "code": 1006, "reason": ""}


class WebSocketAppTask:
    """One WebSocket's ASGI app task (loop thread only; see the module docstring).

    :param runtime: the adapter's runtime in this process (app, loop, options, running tasks).
    :param scope: the ``websocket`` scope.
    :param handoff: the hand-off to the WSGI thread.
    :param handshake: the client's checked upgrade request.
    :param sock: the connection's socket, handed over by the WSGI server.
    """

    def __init__(
        self,
        runtime: Runtime,
        scope: WebSocketScope,
        handoff: WebSocketHandoff,
        handshake: ClientHandshake,
        sock: socket.socket,
    ) -> None:
        self._runtime = runtime
        self._loop = runtime.loop
        self._scope = scope
        self._handoff = handoff
        self._handshake = handshake
        self._sock = sock
        self._state = "connecting"
        self._connect_sent = self._going_away = self._finished = False
        self._cancel: Callable[[], None] | None = None
        self._timer: Callable[[], None] | None = None
        self._group: TaskGroup | None = None
        self._wire: Wire | None = None
        self._peer: Peer | None = None
        self._denial: tuple[int, list[tuple[bytes, bytes]], bytearray] | None = None
        self._disconnect: dict[str, Any] | None = None
        self._closed: Event | None = None
        self._inbox: MemoryObjectSendStream[str | bytes] | None = None
        self._outbox: MemoryObjectReceiveStream[str | bytes] | None = None

    # --- the task ------------------------------------------------------------------------------

    def begin(self) -> None:
        """Start the app's task, or fail the WebSocket if the adapter is closing."""
        if self._runtime.closing:
            self._handoff.put(Failed(ServerError("the AsgiToWsgi adapter is closing")))
            return
        self._runtime.tasks.add(self)
        self._runtime.sessions.add(self)
        self._cancel = self._loop.spawn(self._run, on_done=self._finish)

    async def _run(self) -> None:
        self._closed = self._loop.new_event()
        self._inbox, self._outbox = anyio.create_memory_object_stream[str | bytes](_READ_AHEAD)
        try:
            async with anyio.create_task_group() as group:
                self._group = group
                error: Exception | None = None
                try:
                    await self._runtime.app(cast("Any", self._scope), self.receive, self.send)
                except Exception as exc:
                    error = exc
                await self._after_app(error)
                group.cancel_scope.cancel()
        finally:
            self._inbox.close()
            self._outbox.close()

    async def _after_app(self, error: Exception | None) -> None:
        """The app returned or raised: answer for it, or end the open WebSocket cleanly."""
        if self._state == "connecting":
            if error is None:
                what = "started an HTTP answer it did not finish" if self._denial else "answered"
                error = ApplicationError(f"the ASGI app returned before it {what} the WebSocket")
            self._state = "failed"
            self._handoff.put(Failed(error))
            return
        if error is not None and not isinstance(error, OSError):
            _logger.error("the ASGI app raised during a WebSocket", exc_info=error)
        if self._state in ("open", "closing"):
            await self._send_close(INTERNAL_ERROR if error is not None else NORMAL, "")
            with anyio.move_on_after(self._runtime.options.disconnect_grace):
                await cast("Event", self._closed).wait()

    def _finish(self) -> None:
        """The task ended (loop thread): hand the socket back to the WSGI thread."""
        if self._finished:
            return
        self._finished = True
        if self._timer is not None:
            self._timer()
        if self._state == "connecting":
            self._handoff.put(Failed(ServerError("the ASGI app was cancelled: the adapter closed")))
        elif self._state != "failed":
            self._handoff.put(Ended())
        self._runtime.sessions.discard(self)
        self._runtime.task_done(self)

    def cancel(self) -> None:
        """Close an open WebSocket with 1001 (going away), then cancel the task if it lingers."""
        if self._finished or self._cancel is None:
            return
        if self._state == "open" and not self._going_away:
            self._going_away = True
            self._loop.spawn(self._go_away)  # a task of its own: this is a plain callback
            grace = self._runtime.options.disconnect_grace
            self._timer = self._loop.call_later(grace, self._cancel)
        else:
            self._cancel()

    async def _go_away(self) -> None:
        """Send 1001 and tell the app; the reader still waits for the client's answer."""
        await self._send_close(GOING_AWAY, "the server is closing")
        self._ended(Closed(GOING_AWAY, "the server is closing"), answered=False)

    # --- the client's side: the reader task ----------------------------------------------------

    async def _read(self) -> None:
        wire, peer = cast("Wire", self._wire), cast("Peer", self._peer)
        inbox = cast("MemoryObjectSendStream[str | bytes]", self._inbox)
        found = peer.feed(b"")  # what came with the handshake, if anything
        while True:
            for item in found:
                if isinstance(item, Closed):
                    await wire.send_if_open(peer.take_outgoing())
                    self._ended(item)
                    return
                # Dropped when the app is gone, or told already that the WebSocket is over.
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await inbox.send(item)
            await wire.send_if_open(peer.take_outgoing())
            data = await wire.recv()
            found = peer.feed(data or None)

    def _ended(self, closed: Closed, *, answered: bool = True) -> None:
        """The client closed, the connection dropped, or we are going away: tell the app.

        :param answered: whether the closing handshake is over (else the reader waits on).
        """
        if self._disconnect is None:
            self._disconnect = {
                "type": "websocket.disconnect", "code": closed.code, "reason": closed.reason,
            }  # fmt: skip
        cast("MemoryObjectSendStream[str | bytes]", self._inbox).close()
        if answered:
            cast("Event", self._closed).set()

    # --- the ASGI receive and send callables ----------------------------------------------------

    async def receive(self) -> ASGIReceiveEvent:
        """The app's ``receive``: ``websocket.connect``, then messages, then the disconnect."""
        if not self._connect_sent:
            self._connect_sent = True
            return {"type": "websocket.connect"}
        if self._disconnect is None and self._state != "denied":
            try:
                data = await cast("MemoryObjectReceiveStream[str | bytes]", self._outbox).receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                pass
            else:
                if isinstance(data, str):
                    return {"type": "websocket.receive", "bytes": None, "text": data}
                return {"type": "websocket.receive", "bytes": data, "text": None}
        return cast("ASGIReceiveEvent", self._disconnect or _DROPPED)

    async def send(self, message: ASGISendEvent) -> None:
        """The app's ``send``: accept or refuse the handshake, then send messages and the close.

        :raises ClientDisconnected: the WebSocket is closed or the client went away.
        :raises ApplicationError: the message breaks the ASGI WebSocket protocol.
        """
        fields: Mapping[str, Any] = message
        kind = fields.get("type")
        if self._state == "connecting":
            await self._send_handshake(kind, fields)
        elif self._state != "open" or self._disconnect is not None:
            raise ClientDisconnected(f"cannot send {kind!r}: the WebSocket is closed")
        elif kind == "websocket.send":
            await self._send_message(fields)
        elif kind == "websocket.close":
            self._state = "closing"
            await self._send_close(_close_code(fields), fields.get("reason") or "")
        else:
            raise ApplicationError(f"unexpected ASGI message type {kind!r} on an open WebSocket")

    async def _send_handshake(self, kind: object, fields: Mapping[str, Any]) -> None:
        if kind == "websocket.accept" and self._denial is None:
            await self._accept(fields)
        elif kind == "websocket.close" and self._denial is None:
            _close_code(fields)
            self._deny(403, [], b"")
        elif kind == "websocket.http.response.start" and self._denial is None:
            status = fields.get("status")
            if isinstance(status, bool) or not isinstance(status, int):
                raise ApplicationError(f"'websocket.http.response.start' status: {status!r}")
            headers = [(bytes(name), bytes(value)) for name, value in fields.get("headers", ())]
            self._denial = (status, headers, bytearray())
        elif kind == "websocket.http.response.body" and self._denial is not None:
            body = fields.get("body", b"")
            if not isinstance(body, bytes):
                raise ApplicationError(f"'websocket.http.response.body' body: {type(body)}")
            self._denial[2].extend(body)
            if not fields.get("more_body", False):
                self._deny(self._denial[0], self._denial[1], bytes(self._denial[2]))
        else:
            raise ApplicationError(f"unexpected ASGI message type {kind!r} before an accept")

    async def _accept(self, fields: Mapping[str, Any]) -> None:
        subprotocol = fields.get("subprotocol")
        if subprotocol is not None and not isinstance(subprotocol, str):
            raise ApplicationError(f"'websocket.accept' subprotocol: {subprotocol!r}")
        headers = [(bytes(name).lower(), bytes(value)) for name, value in fields.get("headers", ())]
        answer, connection = self._handshake.accept(subprotocol, headers)
        self._peer = Peer(connection, max_size=MAX_MESSAGE_SIZE)
        self._wire = wire = Wire(self._sock)
        self._state = "open"
        self._handoff.put(ACCEPTED)
        try:
            await wire.send(answer)
        except OSError:
            self._ended(Closed(1006, ""))
            return
        cast("TaskGroup", self._group).start_soon(self._read)

    def _deny(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self._state = "denied"
        self._disconnect = dict(_DROPPED)
        self._handoff.put(Denied(status, headers, body))

    async def _send_message(self, fields: Mapping[str, Any]) -> None:
        data, text = fields.get("bytes"), fields.get("text")
        payload = data if text is None else text
        if (data is None) == (text is None) or not isinstance(payload, str | bytes):
            raise ApplicationError("'websocket.send' needs exactly one of bytes and text")
        frame = cast("Peer", self._peer).message(payload)
        try:
            await cast("Wire", self._wire).send(frame)
        except OSError as exc:
            self._ended(Closed(1006, ""))
            raise ClientDisconnected("the client went away during the WebSocket") from exc

    async def _send_close(self, code: int, reason: str) -> None:
        """Send our close frame once (no-op if sent, or the connection already ended)."""
        peer, wire = self._peer, self._wire
        if peer is None or wire is None or wire.broken:
            return
        frame = peer.close(code, reason)
        if frame:
            try:
                await wire.send(frame)
            except OSError:
                self._ended(Closed(1006, ""))


def _close_code(fields: Mapping[str, Any]) -> int:
    code = fields.get("code", 1000)
    if isinstance(code, bool) or not isinstance(code, int):
        raise ApplicationError(f"'websocket.close' code must be an int, got {code!r}")
    return code
