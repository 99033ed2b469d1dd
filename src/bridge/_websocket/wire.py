"""A connected socket driven from an event loop without blocking it: :class:`Wire`.

Both adapters move WebSocket bytes on a plain :class:`socket.socket` from an event loop (the
private loop in AsgiToWsgi, the ASGI server's loop in WsgiToAsgi), on asyncio, uvloop or trio. The
socket is switched to non-blocking and every call is tried first and awaited only when the kernel
says "would block", through :func:`anyio.wait_readable` / :func:`anyio.wait_writable`, so data a
TLS socket has already decrypted is never missed.

Who may call what: one task at a time reads (:meth:`Wire.recv`); any task of the same loop may
send, and a lock keeps each frame's bytes together.
"""

from __future__ import annotations

import contextlib
import socket
import ssl

import anyio

__all__ = ["RECV_SIZE", "Wire"]

#: How many bytes one :meth:`Wire.recv` asks the kernel for.
RECV_SIZE = 64 * 1024


class Wire:
    """A connected socket used from an event loop (see the module docstring).

    :param sock: the connection; it is switched to non-blocking mode here.
    """

    __slots__ = ("_lock", "_sock", "broken")

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self._sock = sock
        self._lock = anyio.Lock()
        #: Set once a send failed: the peer is gone, nothing more can be written.
        self.broken = False

    async def recv(self) -> bytes:
        """Return the next bytes from the peer; ``b""`` once it closed or reset the connection."""
        sock = self._sock
        while True:
            try:
                return sock.recv(RECV_SIZE)
            except (BlockingIOError, ssl.SSLWantReadError):
                await anyio.wait_readable(sock)
            except ssl.SSLWantWriteError:
                await anyio.wait_writable(sock)
            except OSError:
                return b""

    async def send(self, data: bytes | bytearray) -> None:
        """Send all of ``data``, waiting for room as often as needed.

        :raises OSError: the peer is gone (the wire is then :attr:`broken`).
        """
        if not data:
            return
        lock = self._lock
        if lock.locked():
            await lock.acquire()
        else:
            lock.acquire_nowait()  # the common case costs no trip through the loop
        try:
            if self.broken:
                raise BrokenPipeError("the connection is already broken")
            view = memoryview(data)
            while view:
                try:
                    view = view[self._sock.send(view) :]
                except (BlockingIOError, ssl.SSLWantWriteError):
                    await anyio.wait_writable(self._sock)
        except OSError:
            self.broken = True
            raise
        finally:
            lock.release()

    async def send_if_open(self, data: bytes | bytearray) -> None:
        """Send ``data`` unless the wire is broken; a peer that is gone is not an error here."""
        if data and not self.broken:
            with contextlib.suppress(OSError):
                await self.send(data)

    def shutdown(self) -> None:
        """End both directions of the connection (the peer reads EOF); never raises."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
