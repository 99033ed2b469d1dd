"""One request of :class:`~bridge.AsgiToWsgi`, its half facing the ASGI app: :class:`AppTask`.

The app task runs on the private loop: it calls the app with its ``receive`` and ``send``, checks
each message against the ASGI HTTP spec, and hands the response to the WSGI thread through the
request's :class:`~.handoff.Handoff`. See the package docstring for the whole request.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
from collections import deque
from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, cast

from .._errors import ApplicationError, ClientDisconnected, ServerError
from .._translate import (
    asgi_headers_to_wsgi,
    early_hint_headers,
    response_content_length,
    response_has_body,
    status_line,
)
from .handoff import READ, READ_AHEAD, Chunk, Failed, Handoff, Hint, PathSend, Start

if TYPE_CHECKING:
    from asgiref.typing import ASGIReceiveEvent, ASGISendEvent, HTTPScope

    from .._private_loop import Event
    from .runtime import Runtime

__all__ = ["AppTask", "Steps"]

_logger = logging.getLogger("bridge.asgi")


class AppTask:
    """One request's ASGI app task and the callbacks its WSGI side schedules (loop thread only).

    :param runtime: the adapter's runtime in this process (app, loop, options, running tasks).
    :param scope: the request's ``http`` scope.
    :param handoff: the request's hand-off to the WSGI thread.
    :param eof: whether the request has no body at all.
    """

    __slots__ = (
        "_began", "_body_sent", "_buffered", "_cancel", "_chunks", "_complete", "_data_event",
        "_declared", "_disconnected", "_end_event", "_ended", "_eof", "_finished", "_handoff",
        "_has_body",
        "_loop", "_options", "_reading", "_request_ended", "_runtime", "_scope", "_start",
        "_started", "_terminal", "_timer",
    )  # fmt: skip

    def __init__(self, runtime: Runtime, scope: HTTPScope, handoff: Handoff, *, eof: bool) -> None:
        self._runtime = runtime
        self._loop = runtime.loop
        self._options = runtime.options
        self._scope = scope
        self._handoff = handoff
        self._cancel: Callable[[], None] | None = None
        self._timer: Callable[[], None] | None = None
        self._began = self._finished = False
        self._ended: concurrent.futures.Future[None] | None = None  # made by when_finished()
        # Response state: a start the app sent, kept until it suspends or sends a body.
        self._start: Start | None = None
        self._started = self._complete = self._terminal = False
        self._disconnected = self._request_ended = self._reading = False
        self._has_body = True
        self._declared: int | None = None
        self._body_sent = self._buffered = 0
        # Request body chunks read by the WSGI side, not yet received by the app.
        self._chunks: deque[bytes] = deque()
        self._eof = eof
        self._data_event: Event | None = None
        self._end_event: Event | None = None

    # --- the task ------------------------------------------------------------------------------

    def begin(self) -> None:
        """Start the app's task, or refuse the request if the adapter is closing."""
        if self._runtime.closing:
            self._post_failure(ServerError("the AsgiToWsgi adapter is closing"))
            return
        self._runtime.tasks.add(self)
        self._cancel = self._loop.start_task(self._run)

    async def _run(self) -> None:
        self._began = True
        if self._finished:
            return  # cancelled before it started (trio runs it anyway)
        try:
            app = self._runtime.app(cast("Any", self._scope), self.receive, self.send)
            await Steps(app, self._suspended)
        except Exception as exc:
            self._app_failed(exc)
        else:
            if not (self._complete or self._disconnected):
                started = self._started or self._start is not None
                sent = "without completing" if started else "without starting"
                self._app_failed(ApplicationError(f"the ASGI app returned {sent} the response"))
        finally:
            self._finish()

    def _suspended(self) -> None:
        """The app awaits something: hand over a pending start, or time its background work."""
        if self._start is not None:
            self._flush_start()
        elif self._terminal and self._timer is None:
            timeout = self._options.background_timeout
            self._timer = self._loop.call_later(timeout, self._background_timed_out)

    @property
    def finished(self) -> bool:
        """Whether the app's task has ended (its background work too)."""
        return self._finished

    def when_finished(self) -> concurrent.futures.Future[None]:
        """A future resolved once the app's task has ended (for a caller that runs the loop)."""
        if self._ended is None:
            self._ended = concurrent.futures.Future()
            if self._finished:
                self._ended.set_result(None)
        return self._ended

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if self._ended is not None:
            self._ended.set_result(None)
        if not (self._terminal or self._disconnected):
            self._post_failure(ServerError("the ASGI app was cancelled: the adapter closed"))
        self._stop_timer()
        self._runtime.task_done(self)

    def _app_failed(self, exc: Exception) -> None:
        if not (self._terminal or self._disconnected):
            self._post_failure(exc)
        elif not isinstance(exc, OSError):
            after = "after its response ended" if self._terminal else "after the client left"
            _logger.error("the ASGI app raised %s", after, exc_info=exc)

    def _post_failure(self, exc: Exception) -> None:
        self._terminal = self._complete = True
        self._start = None
        self._handoff.put(Failed(exc))

    def cancel(self) -> None:
        """Cancel the app's task if it still runs."""
        if self._cancel is not None and not self._finished:
            self._cancel()
            if not self._began:
                self._finish()  # asyncio never runs a task cancelled before its first step

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer()
            self._timer = None

    def _background_timed_out(self) -> None:
        timeout = self._options.background_timeout
        _logger.warning("cancelled background work still running %s seconds after", timeout)
        self.cancel()

    # --- callbacks from the WSGI thread (through call_soon) -----------------------------------

    def on_body(self, data: bytes, more: bool, last: bool) -> None:
        """The WSGI side read a request body chunk; ``last``: the last one of this ``READ``."""
        if last:
            self._reading = False
        if data:
            self._chunks.append(data)
            self._buffered += len(data)
        self._eof = not more
        if self._data_event is not None:
            self._data_event.set()

    def on_timeout(self) -> None:
        """The app missed ``request_timeout``: disconnect it and cancel its task at once."""
        self.on_wsgi_gone()
        self.cancel()

    def on_wsgi_gone(self) -> None:
        """The server closed the response early, or the WSGI side failed: disconnect the app."""
        self._handoff.close_unclaimed()  # the WSGI side reads no more items
        if self._disconnected or (self._terminal and not self._finished):
            return  # already gone, or a complete response whose task does background work
        self._disconnected = True
        self._wake_all()
        if not self._finished:
            self._stop_timer()
            self._timer = self._loop.call_later(self._options.disconnect_grace, self.cancel)

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
            self._handoff.consumed += len(body)
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
            self._handoff.put(READ)

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
        elif kind == "http.response.early_hint" and kind in (self._scope.get("extensions") or {}):
            self._send_hint(fields)
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
        self._start = Start(line, translated.headers, b"", True)  # handed over by _suspended()

    def _send_hint(self, fields: Mapping[str, Any]) -> None:
        if self._start is not None or self._started:
            raise ApplicationError(
                "'http.response.early_hint' sent after 'http.response.start': a 103 (Early "
                "Hints) response must come before the final response (RFC 8297)"
            )
        headers = early_hint_headers(fields.get("links"))
        if headers:
            self._handoff.put(Hint(headers))

    def _flush_start(self) -> None:
        if self._start is not None and not self._disconnected:
            self._handoff.put(self._start)
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
        must_wait = self._handoff.count_sent(len(body))
        self._post_body(body, more)
        if more and must_wait:
            await self._handoff.wait_for_room()
            if self._disconnected:
                raise ClientDisconnected("the client disconnected while the response was sent")

    def _post_body(self, body: bytes, more: bool) -> None:
        if not more:
            self._end_response()
        start = self._start
        if start is not None:  # the first body goes with the start, as one item
            self._start = None
            self._started = True
            start.body = body
            start.more = more
            self._handoff.put(start)
        elif body or not more:
            self._handoff.put(Chunk(body, more))

    def _send_path(self, fields: Mapping[str, Any]) -> None:
        if self._start is None and not self._started:
            raise ApplicationError("'http.response.pathsend' sent before 'http.response.start'")
        path = fields.get("path")
        if not isinstance(path, str) or not os.path.isabs(path):
            raise ApplicationError(f"'http.response.pathsend' needs an absolute path, got {path!r}")
        if not self._has_body:
            self._post_body(b"", False)
            return
        try:  # now, on the loop: the app may delete the file as soon as send() returns
            file = open(path, "rb")  # noqa: SIM115 (closed by the WSGI side, which sends it)
        except OSError as exc:
            message = f"cannot open the http.response.pathsend file {path!r}: {exc.strerror}"
            raise ApplicationError(message) from exc
        self._end_response()
        self._handoff.put(PathSend(self._start, file))
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

    def _wake_all(self) -> None:
        for event in (self._data_event, self._end_event):
            if event is not None:
                event.set()
        self._handoff.wake_sender()


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
