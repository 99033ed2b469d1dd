"""The file objects a WSGI app sees on an ASGI server: ``wsgi.input`` and ``wsgi.file_wrapper``.

Both live on the app's side (a worker thread); they never touch the event loop themselves.
:class:`WsgiInput` pulls body bytes through a ``take`` function that returns the next bytes,
``b""`` at the end, or raises (client gone, body too large).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import IO

__all__ = ["FileWrapper", "WsgiInput", "regular_file", "still_named"]


class WsgiInput:
    """The ``wsgi.input`` stream: request body bytes pulled lazily, never past Content-Length.

    ``read``, ``readline``, ``readlines`` and iteration follow :class:`io.BufferedReader`:
    ``read(n)`` blocks until ``n`` bytes or the end, and ``b""`` means the end.

    :param take: returns the next body bytes, ``b""`` at the end of the body.
    """

    __slots__ = ("_chunk", "_eof", "_offset", "_remaining", "_take")

    def __init__(self, take: Callable[[], bytes]) -> None:
        self._take = take
        self._remaining: int | None = None
        # The unread bytes are self._chunk[self._offset:]. A read copies only the bytes it
        # returns, never the rest of a received chunk: memory stays flat for large uploads.
        self._chunk = b""
        self._offset = 0
        self._eof = False

    def limit(self, content_length: int | None) -> None:
        """Never read past ``content_length`` bytes (``None``: read to the end of the body)."""
        self._remaining = content_length

    def _next_chunk(self) -> bytes:
        """Return more body bytes, ``b""`` at the end (or at Content-Length)."""
        if self._eof or self._remaining == 0:
            return b""
        chunk = self._take()
        if not chunk:
            self._eof = True
        elif self._remaining is not None:
            if len(chunk) > self._remaining:
                chunk = chunk[: self._remaining]
            self._remaining -= len(chunk)
        return chunk

    def _read(self, limit: int, *, line: bool) -> bytes:
        """Return up to ``limit`` bytes (no limit when negative), after the first newline when
        ``line``; fewer only at the end of the body."""
        parts: list[bytes | memoryview] = []
        have = 0
        while have != limit:
            if self._offset == len(self._chunk):
                self._chunk, self._offset = self._next_chunk(), 0
                if not self._chunk:
                    break
            chunk, start = self._chunk, self._offset
            end = len(chunk) if limit < 0 else min(len(chunk), start + limit - have)
            newline = chunk.find(b"\n", start, end) if line else -1
            if newline >= 0:
                end = newline + 1
            parts.append(chunk if end - start == len(chunk) else memoryview(chunk)[start:end])
            have += end - start
            self._offset = end
            if newline >= 0:
                break
        if self._offset == len(self._chunk):
            self._chunk, self._offset = b"", 0  # release a consumed chunk at once
        if len(parts) == 1 and isinstance(parts[0], bytes):
            return parts[0]
        return b"".join(parts)

    def read(self, size: int | None = -1, /) -> bytes:
        """Read ``size`` bytes (all when negative or ``None``); fewer only at the end."""
        return self._read(-1 if size is None else size, line=False)

    def readline(self, size: int | None = -1, /) -> bytes:
        """Read up to and including the next ``\\n``, at most ``size`` bytes when given."""
        return self._read(-1 if size is None else size, line=True)

    def readlines(self, hint: int | None = -1, /) -> list[bytes]:
        """Read lines until the end, or until they hold more than ``hint`` bytes when positive."""
        lines: list[bytes] = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint < total:  # io: stop once the total exceeds hint
                break
        return lines

    def __iter__(self) -> WsgiInput:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line


class FileWrapper:
    """The ``wsgi.file_wrapper``: yields a file in ``blksize`` blocks, closes it with the response.

    When the server supports ``http.response.pathsend``, :class:`bridge.WsgiToAsgi` sends a
    regular file by path instead (see :func:`regular_file`).

    :param filelike: an object with ``read(size)``; ``close()`` is called when present.
    :param blksize: how many bytes to read per block.
    """

    def __init__(self, filelike: IO[bytes], blksize: int = 8192) -> None:
        self.filelike = filelike
        self.blksize = blksize

    def __iter__(self) -> FileWrapper:
        return self

    def __next__(self) -> bytes:
        data = self.filelike.read(self.blksize)
        if not data:
            raise StopIteration
        return data

    def close(self) -> None:
        """Close the wrapped file (PEP 3333: the server calls this once, on every path)."""
        close = getattr(self.filelike, "close", None)
        if close is not None:
            close()


def regular_file(filelike: object) -> tuple[str, int] | None:
    """Return ``(absolute path, size)`` when ``filelike`` is a named regular file at offset 0.

    The path must still name the open file (:func:`still_named`), so a renamed or deleted file
    is streamed from its descriptor rather than sent by a path that now means another file.
    """
    try:
        fd = getattr(filelike, "fileno")()  # noqa: B009
        status = os.fstat(fd)
        name = getattr(filelike, "name")  # noqa: B009
        if not stat.S_ISREG(status.st_mode) or isinstance(name, int):
            return None
        if getattr(filelike, "tell")() != 0:  # noqa: B009
            return None
        path = os.path.abspath(os.fsdecode(name))
    except (AttributeError, OSError, TypeError, ValueError):
        return None
    return (path, status.st_size) if still_named(path, fd) else None


def still_named(path: str, fd: int) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (same device and inode)."""
    try:
        named, opened = os.stat(path), os.fstat(fd)
    except OSError:
        return False
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)
