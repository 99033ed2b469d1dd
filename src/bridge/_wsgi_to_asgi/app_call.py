"""One request of :class:`~bridge.WsgiToAsgi`, its half facing the WSGI app: :class:`AppCall`.

The app call is the other half of a :class:`~.server_task.ServerTask`: it calls the app, is its
``start_response`` and ``write()``, pulls the iterable and calls ``close()``, all in the one
thread (or greenlet) the runner gave it, and assembles what the app produced into ASGI messages
(PEP 3333 rules). It never awaits; it reaches the loop only through the
:class:`~bridge._runners.Outbox` and the request's :class:`~bridge._runners.Link`.

States, in order (``pending`` holds ASGI messages not yet handed to the loop)::

    calling app --start_response--> status known --first non-empty chunk--> headers sent
        --last chunk, Content-Length reached, or body not allowed--> ended

``exc_info`` may replace the status until *headers sent*; after that it re-raises (PEP 3333).
"Headers sent" is the PEP's notion: the start message is queued with that first chunk.

Messages leave in one of two ways:

* **in one go** (the common short response): when ``next()`` cannot block (the iterable is a
  list or tuple) or the body is known complete (Content-Length reached), every message stays in
  ``pending`` and the loop side sends them once the app returned. One thread hand-off.
* **streamed**: before calling ``next()`` on an iterable that may block, and on every
  ``write()``, ``pending`` is flushed into the outbox; the first flush makes the outbox (a short
  response never has one) and asks the loop side to start sending (``start_streaming``). The
  worker blocks only while the outbox window is full.

A disconnect or a cancellation reaches the worker as :attr:`AppCall.stopped`, set on the
loop by :meth:`AppCall.stop`, which also stops the outbox if there is one, and cancels the
coroutines the app runs on the loop through asgiref's ``async_to_sync`` (:attr:`coroutines`):
the app sees ``asyncio.CancelledError`` there, and a call that ends with it after a stop ends
as :class:`~bridge.ClientDisconnected`. The worker may
make the outbox just after that: ``start_streaming``, which it schedules right after, then
stops it on the loop, so the worker never waits for room that no sender will make.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, NamedTuple, cast

from .._errors import ApplicationError, ClientDisconnected
from .._runners import Coroutines, Link, Outbox
from .._translate import early_hint_links, response_has_body, response_start
from .wsgi_io import FileWrapper, regular_file, still_named

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication, WSGIEnvironment

    from _typeshed import OptExcInfo
    from asgiref.typing import (
        ASGISendCallable,
        ASGISendEvent,
        HTTPResponseBodyEvent,
        HTTPResponsePathsendEvent,
    )

    from .._types import AsgiHeaders

__all__ = ["AppCall"]

#: Bytes per block when a file the server could not have by path is streamed instead.
_BLOCK = 65536


class _ByPath(NamedTuple):
    """A response file that may go by path: its name, size and a duplicate descriptor."""

    path: str
    size: int
    fd: int


async def _send(send: ASGISendCallable, message: ASGISendEvent) -> None:
    """Send ``message`` (on the loop, through ``link.call``)."""
    await send(message)


def _ignore(*args: object) -> None:
    """What a released response calls instead of the loop side (see :meth:`release`)."""


class AppCall:
    """The worker side of one request: run the app and turn what it produces into messages.

    :param window: the window of the :class:`~bridge._runners.Outbox` made for a
        streamed response (the loop side sends what is put in it).
    :param method: the request method (``HEAD`` has no body).
    :param pathsend: whether the server supports ``http.response.pathsend``.
    :param start_streaming: called on the loop by the first flush.
    :param warn_dropped: told which hop-by-hop header names were dropped.
    :param coroutine_started: called on the loop when the app's first ``async_to_sync``
        coroutine starts there (the loop side then watches for a disconnect).
    :param hint_send: the server's ``send``, if it takes ``http.response.early_hint``
        messages (:meth:`early_hints` sends through it), else ``None``.
    """

    __slots__ = (
        "_content_length", "_ended", "_has_body", "_headers", "_headers_sent", "_hint_send",
        "_last_body", "_method", "_pathsend", "_remaining", "_start_streaming", "_status",
        "_warn_dropped", "_window", "coroutines", "link", "outbox", "pending", "stopped",
    )  # fmt: skip

    def __init__(
        self,
        *,
        window: int,
        method: str,
        pathsend: bool,
        start_streaming: Callable[[], object],
        warn_dropped: Callable[[Iterable[str]], None],
        coroutine_started: Callable[[], object],
        hint_send: ASGISendCallable | None = None,
    ) -> None:
        self._window = window
        self._hint_send = hint_send
        self._method = method
        self._pathsend = pathsend
        self._start_streaming = start_streaming
        self._warn_dropped = warn_dropped
        #: The request's link, set as the worker starts (``wsgi.input`` reads through it).
        self.link: Link | None = None
        self._status: int | None = None
        self._headers: AsgiHeaders = []
        self._content_length: int | None = None
        self._remaining: int | None = None  # body bytes still allowed by Content-Length
        self._has_body = True
        self._headers_sent = False
        self._ended = False
        self._last_body: HTTPResponseBodyEvent | None = None
        #: Messages not yet handed to the loop (read by the loop once the worker finished).
        self.pending: list[tuple[ASGISendEvent, int]] = []
        #: Made by the first flush (a streamed response); ``None`` while every message waits in
        #: :attr:`pending` (a short response, sent in one go once the worker finished).
        self.outbox: Outbox[ASGISendEvent] | None = None
        #: Set on the loop by :meth:`stop`; the worker reads it between chunks.
        self.stopped = False
        #: The tasks of the app's ``async_to_sync`` coroutines on the loop (asgiref's record).
        self.coroutines = Coroutines(coroutine_started)

    def stop(self) -> None:
        """Stop producing (loop side): the client is gone or the request is being cancelled.

        An outbox the worker makes after this is stopped by the loop side's
        ``start_streaming``, which the worker schedules right after making it.
        """
        self.stopped = True
        self.coroutines.cancel()
        if self.outbox is not None:
            self.outbox.stop()

    def release(self) -> None:
        """Drop the callbacks into the loop side once the request is over.

        They refer back to the loop side, which refers to this object: without this, every
        request would be a reference cycle left to the cyclic garbage collector.
        """
        self._start_streaming = self._warn_dropped = _ignore
        self.coroutines.release()

    def run(self, app: WSGIApplication, environ: WSGIEnvironment, link: Link) -> None:
        """Call the app, pull its iterable and close it, all in this one thread.

        :raises ClientDisconnected: the app let the ``CancelledError`` of a coroutine that
            :meth:`stop` cancelled through (the client is gone, or the request cancelled).
        """
        self.link = link
        link.host_async_to_sync(self.coroutines)
        try:
            self._run(app, environ)
        except asyncio.CancelledError as exc:
            if not self.stopped:
                raise
            raise ClientDisconnected(
                "the client disconnected; the app's coroutines on the loop were cancelled"
            ) from exc

    def _run(self, app: WSGIApplication, environ: WSGIEnvironment) -> None:
        iterable = app(environ, self.start_response)
        by_path: _ByPath | None = None
        try:
            by_path = self._by_path(iterable) if self._pathsend else None
            if by_path is None:
                self._drain(iterable)
        finally:
            close = getattr(iterable, "close", None)
            try:
                if close is not None:
                    close()
            except BaseException:
                if by_path is not None:
                    os.close(by_path.fd)
                raise
        if by_path is not None:
            self._send_file(by_path)
        self._complete()

    def start_response(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: OptExcInfo | None = None,
    ) -> Callable[[bytes], object]:
        """PEP 3333 ``start_response``: validate, and keep the status until headers are sent.

        PEP 3333 passes its arguments by position; ``exc_info`` is accepted by keyword too, as
        Gunicorn, Waitress, Werkzeug and wsgiref accept it (and apps use it).
        """
        if exc_info is not None:
            try:
                if self._headers_sent:
                    raise cast("BaseException", exc_info[1]).with_traceback(exc_info[2])
            finally:
                exc_info = None  # break the frame -> traceback cycle (PEP 3333)
        elif self._status is not None:
            raise ApplicationError("start_response() was called a second time without exc_info")
        code, self._headers, dropped, length = response_start(status, headers)
        if dropped:
            self._warn_dropped(dropped)
        self._content_length = self._remaining = length
        self._has_body = response_has_body(code, self._method)
        self._status = code
        return self._write

    def early_hints(self, headers: list[tuple[str, str]]) -> None:
        """``environ["wsgi.early_hints"]``: send a 103 with the ``Link`` headers now.

        As Gunicorn's, from which the name comes: each call sends one 103 before the response;
        a call once the response headers went out is ignored, as is one without a ``Link``.

        :raises ApplicationError: ``headers`` is not a list of well-formed pairs.
        :raises ClientDisconnected: the server's ``send()`` raised ``OSError``: the client is gone.
        """
        links = early_hint_links(headers)
        if self._headers_sent or not links:
            return
        assert self.link is not None  # set as the app call starts
        assert self._hint_send is not None  # the environ offers this method only then
        message = cast("ASGISendEvent", {"type": "http.response.early_hint", "links": links})
        try:
            self.link.call(partial(_send, self._hint_send, message))
        except OSError as exc:
            raise ClientDisconnected(f"sending early hints failed: {exc}") from exc

    def _write(self, data: bytes) -> None:
        """PEP 3333 ``write()``: hand ``data`` to the server before returning."""
        if self.stopped:
            raise ClientDisconnected("the client disconnected; write() cannot be delivered")
        self._absorb(data)
        self._flush()

    def _drain(self, iterable: Iterable[bytes]) -> None:
        in_memory = isinstance(iterable, (list, tuple))  # next() cannot block: no flush needed
        for chunk in iterable:
            ended = self._absorb(chunk)
            if not (ended or in_memory):
                self._flush()
            if ended or self.stopped:
                return

    def _absorb(self, chunk: bytes) -> bool:
        """Queue one body chunk; return whether the body has ended (nothing more to pull)."""
        if not isinstance(chunk, bytes):
            raise ApplicationError(f"response body chunks must be bytes, got {chunk!r:.60}")
        if self._status is None:
            raise ApplicationError("start_response() must be called before the body is produced")
        if self._ended or not chunk:
            return self._ended
        if not self._headers_sent:
            self._send_headers()
            if self._ended:
                return True
        if self._remaining is not None:
            chunk = chunk[: self._remaining]
            self._remaining -= len(chunk)
        self._ended = self._remaining == 0
        self._last_body = {
            "type": "http.response.body",
            "body": chunk,
            "more_body": not self._ended,
        }
        self.pending.append((self._last_body, len(chunk)))
        return self._ended

    def _send_headers(self) -> None:
        assert self._status is not None
        self._headers_sent = True
        start: ASGISendEvent = {
            "type": "http.response.start",
            "status": self._status,
            "headers": self._headers,
            "trailers": False,
        }
        self.pending.append((start, 0))
        if not self._has_body:
            self._end_body()

    def _end_body(self) -> None:
        if self._last_body is not None:
            self._last_body["more_body"] = False
        else:
            final: ASGISendEvent = {"type": "http.response.body", "body": b"", "more_body": False}
            self.pending.append((final, 0))
        self._ended = True

    def _flush(self) -> None:
        """Hand the pending messages to the loop side; ask it to start sending the first time."""
        if not self.pending:
            return
        assert self.link is not None
        outbox = self.outbox
        if outbox is None:  # the first flush: the response streams from now on
            outbox = self.outbox = Outbox(window=self._window)
            self.link.call_soon(self._start_streaming)  # after the outbox is there to see
        pending, self.pending, self._last_body = self.pending, [], None
        outbox.put(self.link, pending)

    def _by_path(self, iterable: Iterable[bytes]) -> _ByPath | None:
        """Whether the response is a whole regular file the server may send by path.

        The file is decided on after ``close()`` (:meth:`_send_file`), which may delete it (a
        ``NamedTemporaryFile``): a duplicate of its descriptor keeps its bytes readable till then.
        """
        if not (
            isinstance(iterable, FileWrapper)
            and self._status is not None
            and self._has_body
            and not self._headers_sent
        ):
            return None
        found = regular_file(iterable.filelike)
        if found is None or self._remaining not in (None, found[1]):
            return None
        path, size = found
        try:
            fd = os.dup(getattr(iterable.filelike, "fileno")())  # noqa: B009
        except (AttributeError, OSError):
            return None
        return _ByPath(path, size, fd)

    def _send_file(self, by_path: _ByPath) -> None:
        """Send the file by path if it outlived ``close()``; else send what the descriptor reads.

        A server may open the path after ``send()`` returned (Granian does), so only a file that
        is still there under its name, as the same file, goes by path.
        """
        if self._remaining is None:
            self._headers.append((b"content-length", str(by_path.size).encode("ascii")))
        if still_named(by_path.path, by_path.fd):
            os.close(by_path.fd)
            self._send_headers()
            pathsend: HTTPResponsePathsendEvent = {
                "type": "http.response.pathsend",
                "path": by_path.path,
            }
            self.pending.append((cast("ASGISendEvent", pathsend), 0))  # not in asgiref's union
            self._ended = True
            return
        with open(by_path.fd, "rb") as file:  # deleted, or replaced by another file: stream it
            self._drain(FileWrapper(file, _BLOCK))

    def _complete(self) -> None:
        """Check the finished response and queue its last message (after close)."""
        if self._ended or self.stopped:
            return
        if self._status is None:
            raise ApplicationError("the application returned without calling start_response()")
        if not self._headers_sent:
            self._send_headers()
        if self._remaining and self._content_length is not None and not self._ended:
            produced = self._content_length - self._remaining
            raise ApplicationError(
                f"the response declared content-length {self._content_length} but the "
                f"application produced only {produced} bytes"
            )
        if not self._ended:
            self._end_body()
