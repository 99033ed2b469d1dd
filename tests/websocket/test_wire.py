"""``bridge._websocket.wire``: a socket driven from an event loop (asyncio and trio)."""

from __future__ import annotations

import socket

import anyio
import pytest

from bridge._websocket import Wire

pytestmark = pytest.mark.anyio
BIG = 4 * 1024 * 1024  # more than a socket buffer holds: sends must wait for room


async def test_concurrent_sends_keep_each_payload_whole() -> None:
    """Two tasks sending large payloads at once: the peer reads one, then the other, never
    interleaved (a WebSocket frame must stay together)."""
    mine, theirs = socket.socketpair()
    with mine, theirs:
        wire = Wire(mine)
        received = bytearray()

        async def read_all() -> None:
            peer = Wire(theirs)
            while len(received) < 2 * BIG:
                received.extend(await peer.recv())

        with anyio.fail_after(10):
            async with anyio.create_task_group() as group:
                group.start_soon(read_all)
                group.start_soon(wire.send, b"a" * BIG)
                group.start_soon(wire.send, b"b" * BIG)
        assert bytes(received) in (b"a" * BIG + b"b" * BIG, b"b" * BIG + b"a" * BIG)


async def test_eof_broken_peer_and_send_if_open() -> None:
    """``recv`` gives ``b""`` at EOF; a send to a gone peer raises ``OSError`` and marks the
    wire broken; ``send_if_open`` then does nothing."""
    mine, theirs = socket.socketpair()
    with mine:
        wire = Wire(mine)
        theirs.close()
        with anyio.fail_after(10):
            assert await wire.recv() == b""
            with pytest.raises(BrokenPipeError):
                await wire.send(b"x" * BIG)
            assert wire.broken
            with pytest.raises(BrokenPipeError):
                await wire.send(b"x")
            await wire.send_if_open(b"x")
            await wire.send(b"")
        wire.shutdown()
        wire.shutdown()  # idempotent, never raises
