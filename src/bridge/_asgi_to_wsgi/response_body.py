"""The PEP 3333 response iterable of a streamed response: yield each chunk as the app sends it.

The server iterates a :class:`ResponseBody` on its own thread and calls ``close()`` when it is
done or gives up (PEP 3333). Closing before the app finished its response tells the app that
the client left (``http.disconnect``). A server that drops the iterable without calling
``close()`` gets the same through a :func:`weakref.finalize`, so the app's task is never left
waiting for a reader that is gone.
"""

from __future__ import annotations

import weakref
from typing import IO, Protocol, cast
from wsgiref.types import StartResponse

from .handoff import Chunk, Failed, Item, PathSend

__all__ = ["CHUNK", "ResponseBody", "ResponseSource"]

#: Bytes read from ``wsgi.input`` per ``receive()``, and per block of a pathsend file.
CHUNK = 65536
#: Body chunks smaller than this are joined with the ones already queued behind them.
COALESCE = 16384


class ResponseSource(Protocol):
    """Where a :class:`ResponseBody` gets its items: the request's ``ServerCall``."""

    def next_item(self) -> Item:
        """Wait for the app's next response item (see ``ServerCall.next_item``)."""

    def ready_item(self) -> Item | None:
        """The next response item if one is queued already, else ``None``."""

    def take(self, size: int) -> None:
        """Record that ``size`` body bytes were taken."""

    def abandon(self) -> None:
        """Tell the app the client went away."""

    def settle(self) -> None:
        """Let the app's task end, where this thread runs the loop (inline)."""

    def error_body(self, start_response: StartResponse, exc: Exception) -> bytes:
        """Answer ``exc`` with an error response; return its body."""


class ResponseBody:
    """The PEP 3333 response iterable: yields each chunk as soon as the app sends it."""

    __slots__ = (
        "__weakref__", "_done", "_file", "_finalizer", "_pending", "_source", "_start_response",
        "_stashed", "_yielded",
    )  # fmt: skip

    def __init__(
        self,
        source: ResponseSource,
        start_response: StartResponse,
        first: bytes,
        file: IO[bytes] | None = None,
    ) -> None:
        self._source = source
        self._start_response = start_response
        self._pending = first
        self._file = file
        self._done = file is not None
        self._yielded = False
        self._stashed: Item | None = None  # an item taken early, served next
        #: Tells the app the client left if the server drops us unfinished without close().
        self._finalizer = None if self._done else weakref.finalize(self, source.abandon)

    def __iter__(self) -> ResponseBody:
        return self

    def __next__(self) -> bytes:
        """Return the next non-empty chunk; before any, an app failure becomes a 500."""
        try:
            chunk = self._next_chunk()
        except StopIteration:
            raise
        except Exception as exc:
            self._set_done()
            if self._yielded:
                raise
            return self._source.error_body(self._start_response, exc)
        self._yielded = True
        return chunk

    def _next_chunk(self) -> bytes:
        if self._pending:
            chunk, self._pending = self._pending, b""
            return chunk
        while not self._done:
            item = self._next_item()
            if type(item) is PathSend:
                self._set_done()
                self._file = item.file
                break
            chunk = self._take_body(cast("Chunk", item))  # after the start: body or path
            if chunk:
                return self._join_ready(chunk) if len(chunk) < COALESCE else chunk
        if self._file is not None:
            block = self._file.read(CHUNK)
            if block:
                return block
        raise StopIteration

    def _next_item(self) -> Item:
        item, self._stashed = self._stashed, None
        if item is None:
            return self._source.next_item()
        if type(item) is Failed:
            raise item.error
        return item

    def _take_body(self, item: Chunk) -> bytes:
        """Account for a :class:`~.handoff.Chunk` and return its bytes."""
        self._source.take(len(item.body))
        if not item.more:
            self._set_done()
        return item.body

    def _join_ready(self, chunk: bytes) -> bytes:
        """Append the small body chunks the app has already sent (SSE events, say) to ``chunk``.

        Only what is queued right now: nothing waits for a chunk that has not been sent, so no
        block is delayed; the server writes one block instead of many small ones.
        """
        parts = [chunk]
        size = len(chunk)
        while size < COALESCE and not self._done:
            try:
                item = self._source.ready_item()
            except Exception as exc:  # a failed body read: raised by the next call
                item = Failed(exc)
            if item is None:
                break
            if type(item) is not Chunk:
                self._stashed = item  # served by the next call, after these bytes
                break
            data = self._take_body(item)
            parts.append(data)
            size += len(data)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _set_done(self) -> None:
        self._done = True
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None

    def close(self) -> None:
        """Close the file being sent; if the response is unfinished, tell the app; then let
        the app's task end if this thread runs the loop."""
        if self._file is not None:
            self._file.close()
        if not self._done:
            self._set_done()
            self._source.abandon()
        self._source.settle()
