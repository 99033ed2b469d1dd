"""The PEP 3333 response iterable of a streamed response: yield each chunk as the app sends it.

The server iterates a :class:`ResponseBody` on its own thread and calls ``close()`` when it is
done or gives up (PEP 3333). Closing before the app finished its response tells the app that
the client left (``http.disconnect``). A server that drops the iterable without calling
``close()`` gets the same through a :func:`weakref.finalize`, so the app's task is never left
waiting for a reader that is gone.
"""

from __future__ import annotations

import weakref
from typing import IO, TYPE_CHECKING, Any
from wsgiref.types import StartResponse

from ._channel import BODY, FAILED, FILE

if TYPE_CHECKING:
    from ._responder import Responder

__all__ = ["CHUNK", "ResponseBody"]

#: Bytes read from ``wsgi.input`` per ``receive()``, and per block of a pathsend file.
CHUNK = 65536
#: Body chunks smaller than this are joined with the ones already queued behind them.
COALESCE = 16384


class ResponseBody:
    """The PEP 3333 response iterable: yields each chunk as soon as the app sends it."""

    __slots__ = (
        "__weakref__", "_done", "_file", "_finalizer", "_pending", "_responder",
        "_start_response", "_stashed", "_yielded",
    )  # fmt: skip

    def __init__(
        self,
        responder: Responder,
        start_response: StartResponse,
        first: bytes,
        file: IO[bytes] | None = None,
    ) -> None:
        self._responder = responder
        self._start_response = start_response
        self._pending = first
        self._file = file
        self._done = file is not None
        self._yielded = False
        self._stashed: tuple[Any, ...] | None = None  # an item taken early, served next
        #: Tells the app the client left if the server drops us unfinished without close().
        self._finalizer = None if self._done else weakref.finalize(self, responder.abandon)

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
            return self._responder.error_body(self._start_response, exc)
        self._yielded = True
        return chunk

    def _next_chunk(self) -> bytes:
        if self._pending:
            chunk, self._pending = self._pending, b""
            return chunk
        while not self._done:
            item = self._next_item()
            if item[0] == FILE:
                self._set_done()
                self._file = self._responder.open_file(item[2])
                break
            chunk = self._take_body(item)
            if chunk:
                return self._join_ready(chunk) if len(chunk) < COALESCE else chunk
        if self._file is not None:
            block = self._file.read(CHUNK)
            if block:
                return block
        raise StopIteration

    def _next_item(self) -> tuple[Any, ...]:
        item, self._stashed = self._stashed, None
        if item is None:
            return self._responder.next_item()
        if item[0] == FAILED:
            raise item[1]
        return item

    def _take_body(self, item: tuple[Any, ...]) -> bytes:
        """Account for a ``BODY`` item and return its bytes."""
        self._responder.take(len(item[1]))
        if not item[2]:
            self._set_done()
        return item[1]  # type: ignore[no-any-return]

    def _join_ready(self, chunk: bytes) -> bytes:
        """Append the small body chunks the app has already sent (SSE events, say) to ``chunk``.

        Only what is queued right now: nothing waits for a chunk that has not been sent, so no
        block is delayed; the server writes one block instead of many small ones.
        """
        parts = [chunk]
        size = len(chunk)
        while size < COALESCE and not self._done:
            try:
                item = self._responder.ready_item()
            except Exception as exc:  # a failed body read: raised by the next call
                item = (FAILED, exc)
            if item is None:
                break
            if item[0] != BODY:
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
        """Close the file being sent; if the response is unfinished, tell the app."""
        if self._file is not None:
            self._file.close()
        if not self._done:
            self._set_done()
            self._responder.abandon()
