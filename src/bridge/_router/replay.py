"""Hold a matched app's 404 and replay the request to the Router's ``fallback`` (strangler fig).

One :class:`AsgiReplay` or :class:`WsgiReplay` lives for one request, and only when the router
has a ``fallback``. Rules (the same on both sides):

* Request body the matched app reads is kept, up to ``limit`` bytes, so the fallback can read
  it again; what the app did not read is still with the server and the fallback reads it there.
  Once the app has read more than ``limit`` bytes, the request is not replayable.
* A response that is not a 404, or a 404 of a request that is no longer replayable, streams
  through at once, unbuffered.
* A 404 of a replayable request is held: its start (and up to ``limit`` bytes of its body) are
  kept back until the matched app returns. If the request is still replayable then, the held
  404 is dropped and the request replayed; otherwise (or when the held body outgrows ``limit``)
  the held 404 is sent after all. The client only ever sees one response.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from types import TracebackType
from typing import TypeAlias
from wsgiref.types import InputStream, StartResponse, WSGIEnvironment

from asgiref.typing import ASGIReceiveCallable, ASGIReceiveEvent, ASGISendCallable, ASGISendEvent

__all__ = ["AsgiReplay", "WsgiReplay"]

_ExcInfo: TypeAlias = (
    "tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None] | None"
)
_WsgiCall: TypeAlias = Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]


class AsgiReplay:
    """Wrap one HTTP request's ``receive``/``send`` to keep its body and hold back a 404."""

    def __init__(self, receive: ASGIReceiveCallable, send: ASGISendCallable, limit: int) -> None:
        self._receive = receive
        self._send = send
        self._limit = limit
        self._kept: list[ASGIReceiveEvent] = []
        self._kept_bytes = 0
        self._replayable = True
        self._held: list[ASGISendEvent] | None = None
        self._held_bytes = 0

    async def receive(self) -> ASGIReceiveEvent:
        """Receive for the matched app, keeping each message while under the limit."""
        message = await self._receive()
        if self._replayable:
            self._kept.append(message)
            self._kept_bytes += len(message.get("body", b""))  # type: ignore[arg-type]
            if self._kept_bytes > self._limit:
                await self._give_up()
        return message

    async def send(self, message: ASGISendEvent) -> None:
        """Send for the matched app: hold a replayable 404, pass everything else through."""
        if self._held is not None:
            self._held.append(message)
            self._held_bytes += len(message.get("body", b""))  # type: ignore[arg-type]
            if self._held_bytes > self._limit:
                await self._give_up()
        elif (
            message["type"] == "http.response.start"
            and message.get("status") == 404
            and self._replayable
        ):
            self._held = [message]
        else:
            await self._send(message)

    async def _give_up(self) -> None:
        """Make the request not replayable: forget the body and send what was held."""
        self._replayable = False
        self._kept.clear()
        held, self._held = self._held, None
        for message in held or ():
            await self._send(message)

    def should_replay(self) -> bool:
        """Say, once the matched app returned, whether its 404 was held back for a replay."""
        return self._held is not None

    async def replayed(self) -> ASGIReceiveEvent:
        """Receive for the fallback: the kept messages again, then the server's."""
        if self._kept:
            return self._kept.pop(0)
        return await self._receive()


class WsgiReplay:
    """Wrap one request's ``wsgi.input`` and ``start_response`` to keep its body and hold a 404.

    :param environ: the environ as the router received it (copied again for the fallback).
    """

    def __init__(self, environ: WSGIEnvironment, start_response: StartResponse, limit: int) -> None:
        self._environ = environ
        self._start_response = start_response
        self._limit = limit
        self.input = KeepingInput(environ["wsgi.input"], limit)
        self._started = False
        self._held: tuple[str, list[tuple[str, str]], _ExcInfo] | None = None
        self._held_body: list[bytes] = []
        self._held_bytes = 0
        self._write: Callable[[bytes], object] | None = None

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: _ExcInfo = None
    ) -> Callable[[bytes], object]:
        """``start_response`` for the matched app: hold a replayable 404, else pass through."""
        self._started = True
        if self._held is not None:  # called again (with exc_info): that response is the one
            self._held = None
            self._held_body.clear()
        elif status[:3] == "404" and self.input.replayable:
            self._held = (status, headers, exc_info)
            return self._hold_write
        return self._start_response(status, headers, exc_info)

    def _hold_write(self, data: bytes) -> None:
        """The ``write()`` of a held 404: keep ``data``; past the limit, send the 404 after all."""
        if self._write is not None:
            self._write(data)
            return
        self._held_body.append(data)
        self._held_bytes += len(data)
        if self._held_bytes > self._limit:
            self._write = self._commit()
            for chunk in self._held_body:
                self._write(chunk)
            self._held_body.clear()

    def _commit(self) -> Callable[[bytes], object]:
        """Send the held 404's start for real and return the server's ``write``."""
        assert self._held is not None
        status, headers, exc_info = self._held
        self._held = None
        return self._start_response(status, headers, exc_info)

    def finish(self, result: Iterable[bytes], fallback: _WsgiCall) -> Iterable[bytes]:
        """Return what the server iterates: ``result`` as is, the held 404, or the fallback's."""
        try:
            return self._finish(result, fallback)
        except BaseException:
            _close(result)
            raise

    def _finish(self, result: Iterable[bytes], fallback: _WsgiCall) -> Iterable[bytes]:
        pulled: list[bytes] = []
        iterator: Iterator[bytes] | None = None
        if not self._started:  # a generator app calls start_response on its first next()
            iterator = iter(result)
            pulled = _pull_until(iterator, lambda: self._started)
        if self._held is None:
            return result if iterator is None else Resumed(pulled, iterator, result)
        iterator = iterator or iter(result)
        for chunk in chain(pulled, iterator):
            self._held_body.append(chunk)
            self._held_bytes += len(chunk)
            if self._held_bytes > self._limit:
                self._commit()
                return Resumed(self._held_body, iterator, result)
        _close(result)
        if not self.input.replayable:
            self._commit()
            return self._held_body
        environ = {**self._environ, "wsgi.input": self.input.replayed()}
        return fallback(environ, self._start_response)


def _pull_until(iterator: Iterator[bytes], started: Callable[[], bool]) -> list[bytes]:
    pulled: list[bytes] = []
    for chunk in iterator:
        pulled.append(chunk)
        if started():
            break
    return pulled


def _close(result: Iterable[bytes]) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()


class Resumed:
    """The app's iterable with the chunks already pulled from it put back in front."""

    def __init__(self, first: list[bytes], rest: Iterator[bytes], result: Iterable[bytes]) -> None:
        self._first = first
        self._rest = rest
        self._result = result

    def __iter__(self) -> Iterator[bytes]:
        yield from self._first
        yield from self._rest

    def close(self) -> None:
        """Close the app's iterable (PEP 3333: the server calls this once it is done)."""
        _close(self._result)


class KeepingInput:
    """``wsgi.input`` for the matched app: keeps what it reads, up to ``limit`` bytes."""

    def __init__(self, stream: InputStream, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._kept = bytearray()
        self.replayable = True

    def _keep(self, data: bytes) -> bytes:
        if self.replayable:
            self._kept += data
            if len(self._kept) > self._limit:
                self.replayable = False
                self._kept = bytearray()
        return data

    def read(self, size: int = -1, /) -> bytes:
        return self._keep(self._stream.read(size) if size >= 0 else self._stream.read())

    def readline(self, size: int = -1, /) -> bytes:
        return self._keep(self._stream.readline(size) if size >= 0 else self._stream.readline())

    def readlines(self, hint: int = -1, /) -> list[bytes]:
        return _readlines(self, hint)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def replayed(self) -> ReplayInput:
        """Return the ``wsgi.input`` for the fallback: the kept bytes, then the server's stream."""
        return ReplayInput(bytes(self._kept), self._stream)


class ReplayInput:
    """``wsgi.input`` for the fallback: bytes the matched app read, then the rest of the body."""

    def __init__(self, kept: bytes, stream: InputStream) -> None:
        self._kept = io.BytesIO(kept)
        self._stream = stream

    def read(self, size: int = -1, /) -> bytes:
        head = self._kept.read(size)
        if size < 0:
            return head + self._stream.read()
        return head if len(head) == size else head + self._stream.read(size - len(head))

    def readline(self, size: int = -1, /) -> bytes:
        head = self._kept.readline(size)
        if head.endswith(b"\n") or len(head) == size:
            return head
        return head + (
            self._stream.readline(size - len(head)) if size >= 0 else self._stream.readline()
        )

    def readlines(self, hint: int = -1, /) -> list[bytes]:
        return _readlines(self, hint)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")


def _readlines(stream: InputStream, hint: int) -> list[bytes]:
    lines: list[bytes] = []
    total = 0
    for line in stream:
        lines.append(line)
        total += len(line)
        if 0 < hint <= total:
            break
    return lines
