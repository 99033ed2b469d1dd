"""The ASGI ``receive`` and ``send`` of one request: protocol checks and items for the WSGI side.

:class:`Channel` holds the state both halves of a request share (see :mod:`bridge._exchange`
for the theory of operation and the queue items) and runs on the loop thread only, except for
the fields ``queue``, ``taken`` and ``drain_event``.
"""

from __future__ import annotations

import os
import queue
from collections import deque
from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, cast

from asgiref.typing import ASGIReceiveEvent, ASGISendEvent

from ._errors import ApplicationError, ClientDisconnected
from ._loop import Event
from ._translate import (
    asgi_headers_to_wsgi,
    response_content_length,
    response_has_body,
    status_line,
)
from ._types import WsgiHeaders

if TYPE_CHECKING:
    from ._asgi_to_wsgi import Runtime

__all__ = [
    "BODY", "FAILED", "FILE", "READ", "READ_AHEAD", "RESPONSE", "START", "Channel", "Steps",
]  # fmt: skip

#: Queue item tags (loop -> WSGI thread); see :mod:`bridge._exchange`.
START, RESPONSE, BODY, FILE, READ, FAILED = range(6)
#: Request body bytes the WSGI thread reads ahead of the app's ``receive()`` calls.
READ_AHEAD = 256 * 1024


class Channel:
    """The app's side of one request's hand-off: ``receive``, ``send`` and the item queue."""

    __slots__ = (
        "_body_sent", "_buffered", "_chunks", "_complete", "_data_event", "_declared",
        "_disconnected", "_end_event", "_eof", "_has_body", "_loop", "_options", "_reading",
        "_request_ended", "_runtime", "_scope", "_start", "_started", "_terminal", "consumed",
        "drain_event", "queue", "sent", "taken",
    )  # fmt: skip

    def __init__(self, runtime: Runtime, scope: Any, *, eof: bool) -> None:
        self._runtime = runtime
        self._loop = runtime.loop
        self._options = runtime.options
        self._scope = scope
        #: Items for the WSGI thread (see :mod:`bridge._exchange`).
        self.queue: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        #: Response body bytes the WSGI side has taken; written by the WSGI side only.
        self.taken = 0
        #: Response body bytes the app has sent; written by the loop side only.
        self.sent = 0
        #: Request body bytes the app has received; written by the loop side only.
        self.consumed = 0
        #: Set while a sender waits for the WSGI side; written by the loop side only.
        self.drain_event: Event | None = None
        # Loop side only from here on.
        self._start: tuple[str, WsgiHeaders] | None = None
        self._started = self._complete = self._terminal = False
        self._disconnected = self._request_ended = self._reading = False
        self._has_body = True
        self._declared: int | None = None
        self._body_sent = self._buffered = 0
        self._chunks: deque[bytes] = deque()
        self._eof = eof
        self._data_event: Event | None = None
        self._end_event: Event | None = None

    # --- the ASGI receive and send callables ----------------------------------------------------

    async def receive(self) -> ASGIReceiveEvent:
        """The app's ``receive``: the next request body chunk, or ``http.disconnect``."""
        if self._complete or self._disconnected:
            return {"type": "http.disconnect"}
        if not self._chunks and not self._eof:
            self._request_read()
            self._data_event = event = self._data_event or self._loop.new_event()
            try:
                await event.wait()
            finally:
                self._data_event = None
            if self._complete or self._disconnected:
                return {"type": "http.disconnect"}
        if self._chunks or not self._request_ended:
            body = self._chunks.popleft() if self._chunks else b""
            self._buffered -= len(body)
            self.consumed += len(body)
            more = bool(self._chunks) or not self._eof
            if more and self._buffered <= READ_AHEAD // 2:
                self._request_read()
            self._request_ended = not more
            return {"type": "http.request", "body": body, "more_body": more}
        self._end_event = event = self._end_event or self._loop.new_event()
        await event.wait()
        return {"type": "http.disconnect"}

    def _request_read(self) -> None:
        if not (self._reading or self._eof):
            self._reading = True
            self.queue.put((READ,))

    async def send(self, message: ASGISendEvent) -> None:
        """The app's ``send``: hand a response message to the WSGI thread.

        :raises ClientDisconnected: the client went away or the request timed out.
        :raises ApplicationError: the message breaks the ASGI HTTP protocol.
        """
        fields: Mapping[str, Any] = message
        kind = fields.get("type")
        if self._disconnected:
            raise ClientDisconnected(f"cannot send {kind!r}: the client disconnected")
        if self._complete:
            raise ApplicationError(f"{kind!r} sent after the response was complete")
        if kind == "http.response.body":
            await self._send_body(fields)
        elif kind == "http.response.start":
            self._send_start(fields)
        elif kind == "http.response.pathsend":
            self._send_path(fields)
        else:
            raise ApplicationError(f"unexpected ASGI message type {kind!r} in an HTTP response")

    def _send_start(self, fields: Mapping[str, Any]) -> None:
        if self._start is not None or self._started:
            raise ApplicationError("'http.response.start' sent twice")
        status = cast("int", fields.get("status"))  # status_line() checks it
        line = status_line(status)
        try:
            headers = list(fields.get("headers", ()))
        except TypeError as exc:
            raise ApplicationError(f"response headers must be iterable: {exc}") from exc
        translated = asgi_headers_to_wsgi(headers)
        if translated.dropped:
            self._runtime.warn_dropped(translated.dropped)
        self._declared = response_content_length(headers)
        self._has_body = response_has_body(status, self._scope["method"])
        self._start = (line, translated.headers)  # posted by _suspended() or with the body

    def _flush_start(self) -> None:
        if self._start is not None and not self._disconnected:
            self.queue.put((START, *self._start))
            self._start = None
            self._started = True

    async def _send_body(self, fields: Mapping[str, Any]) -> None:
        if self._start is None and not self._started:
            raise ApplicationError("'http.response.body' sent before 'http.response.start'")
        body = fields.get("body", b"")
        more = fields.get("more_body", False)
        if not isinstance(body, bytes) or not isinstance(more, bool):
            got = f"body={type(body).__name__}, more_body={type(more).__name__}"
            raise ApplicationError(f"'http.response.body' needs bytes and a bool, got {got}")
        self._check_length(len(body), more)
        if not self._has_body:
            body = b""
        self.sent += len(body)
        self._post_body(body, more)
        if more and self.sent - self.taken > self._options.send_window:
            await self._wait_drained()

    def _post_body(self, body: bytes, more: bool) -> None:
        if not more:
            self._end_response()
        start = self._start
        if start is not None:
            self._start = None
            self._started = True
            self.queue.put((RESPONSE, *start, body, more))
        elif body or not more:
            self.queue.put((BODY, body, more))

    def _send_path(self, fields: Mapping[str, Any]) -> None:
        if self._start is None and not self._started:
            raise ApplicationError("'http.response.pathsend' sent before 'http.response.start'")
        path = fields.get("path")
        if not isinstance(path, str) or not os.path.isabs(path):
            raise ApplicationError(f"'http.response.pathsend' needs an absolute path, got {path!r}")
        if not self._has_body:
            self._post_body(b"", False)
            return
        self._end_response()
        self.queue.put((FILE, self._start, path))
        self._start = None
        self._started = True

    def _end_response(self) -> None:
        self._complete = self._terminal = True
        self._wake_all()

    def _check_length(self, size: int, more: bool) -> None:
        declared = self._declared
        if declared is None or not self._has_body:
            return
        self._body_sent += size
        if self._body_sent > declared:
            message = f"response body exceeds its content-length {declared}: {self._body_sent}"
            raise ApplicationError(message + " bytes sent")
        if not more and self._body_sent < declared:
            message = f"response body ended after {self._body_sent} bytes"
            raise ApplicationError(f"{message} but its content-length is {declared}")

    async def _wait_drained(self) -> None:
        self.drain_event = event = self._loop.new_event()
        try:
            if self.sent - self.taken > self._options.send_window:
                await event.wait()
        finally:
            self.drain_event = None
        if self._disconnected:
            raise ClientDisconnected("the client disconnected while the response was sent")

    def _wake_all(self) -> None:
        for event in (self._data_event, self.drain_event, self._end_event):
            if event is not None:
                event.set()


class Steps:
    """Await an awaitable step by step, calling ``on_suspend()`` each time it yields to the loop.

    This is ``await awaitable`` (PEP 380 delegation, written out), plus the hook.
    """

    __slots__ = ("_awaitable", "_on_suspend")

    def __init__(self, awaitable: Awaitable[None], on_suspend: Callable[[], None]) -> None:
        self._awaitable = awaitable
        self._on_suspend = on_suspend

    def __await__(self) -> Generator[Any, Any, None]:
        coro = self._awaitable.__await__()
        try:
            yielded = coro.send(None)
            while True:
                self._on_suspend()
                try:
                    sent = yield yielded
                except GeneratorExit:
                    coro.close()
                    raise
                except BaseException as exc:  # cancellation and the like go to the app
                    yielded = coro.throw(exc)
                else:
                    yielded = coro.send(sent)
        except StopIteration:
            return
