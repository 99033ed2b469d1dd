"""``bridge._runners.channels``: the byte-bounded channels between sync code and the loop
(:class:`Outbox`, :class:`Inbox`), driven with a real worker thread (the sync side) and the
test's task (the loop side). The wake-ups they use are in ``test_wakeups.py``."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import anyio.lowlevel
import anyio.to_thread
import pytest

from bridge._runners.channels import Inbox, Outbox
from bridge._runners.threads import _AnyioLink
from tests.runners.helpers import CountingGate
from tests.wsgi_to_asgi.helpers import TIMEOUT, eventually

pytestmark = pytest.mark.anyio


class CountingLink(_AnyioLink):
    """A worker thread's real link that counts its wake-ups of the loop and its gates."""

    def __init__(self) -> None:
        super().__init__(anyio.lowlevel.current_token())
        self.soon = 0
        self.gates: list[CountingGate] = []

    def call_soon(self, func: Callable[[], object]) -> None:
        self.soon += 1
        super().call_soon(func)

    def gate(self) -> CountingGate:
        gate = CountingGate()
        self.gates.append(gate)
        return gate


def sleeping(link: CountingLink) -> bool:
    return any(gate.sleeping for gate in link.gates)


async def test_outbox_blocks_the_producer_past_the_window_until_half_is_done() -> None:
    """Issue 3 'byte-bounded backpressure': ``put`` waits only when more than the window is
    put but not yet done, and resumes once at most half the window is in flight."""
    outbox: Outbox[str] = Outbox(window=12)
    link = CountingLink()
    outbox.put(link, [("a", 6), ("b", 6)])  # 12 bytes in flight: within the window
    assert link.gates == []
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(anyio.to_thread.run_sync, outbox.put, link, [("c", 1)])
        await eventually(lambda: sleeping(link))  # 13 > 12: the producer waits
        assert await outbox.get() == ("a", 6)
        outbox.done(6)  # 7 in flight: under the window, but not yet half of it free
        assert await outbox.get() == ("b", 6)
        assert sleeping(link)
        outbox.done(6)  # 1 in flight: at most half the window, the producer resumes
    assert link.gates[0].waits == 1
    outbox.close([("d", 0)])
    assert [await outbox.get() for _ in range(3)] == [("c", 1), ("d", 0), None]


async def test_outbox_wakes_the_consumer_only_when_it_sleeps() -> None:
    """A busy consumer finds new items itself: no loop wake-up per item."""
    outbox: Outbox[str] = Outbox(window=100)
    link = CountingLink()
    outbox.put(link, [("a", 1)])
    outbox.put(link, [("b", 1)])
    assert link.soon == 0  # the consumer is not asleep
    assert await outbox.get() == ("a", 1)
    assert await outbox.get() == ("b", 1)
    got: list[tuple[str, int] | None] = []

    async def consume() -> None:
        got.append(await outbox.get())

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(consume)
        await anyio.wait_all_tasks_blocked()
        await anyio.to_thread.run_sync(outbox.put, link, [("c", 1)])
    assert link.soon == 1
    assert got == [("c", 1)]


async def test_outbox_stop_drops_items_and_wakes_everyone() -> None:
    outbox: Outbox[str] = Outbox(window=1)
    link = CountingLink()
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(anyio.to_thread.run_sync, outbox.put, link, [("a", 5)])
        await eventually(lambda: sleeping(link))
        outbox.stop()  # wakes the producer
    assert outbox.stopped
    outbox.put(link, [("b", 1)])  # dropped: nobody will take it
    assert await outbox.get() is None
    outbox.close([("c", 1)])
    assert await outbox.get() is None


async def test_inbox_pauses_the_producer_at_the_window_until_half_is_taken() -> None:
    """Issue 3 'Request body': the producer waits while ``window`` bytes are buffered."""
    inbox = Inbox(window=4, first=b"a", complete=False)
    link = CountingLink()
    inbox.feed(b"b", complete=False)
    inbox.feed(b"cd", complete=False)
    resumed = anyio.Event()

    async def producer() -> None:
        await inbox.wait_for_room()
        resumed.set()

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(producer)
        await anyio.wait_all_tasks_blocked()  # 4 bytes buffered: the producer waits
        assert inbox.take(link) == b"a"  # 3 buffered: still more than half the window
        await anyio.wait_all_tasks_blocked()
        assert not resumed.is_set()
        assert inbox.take(link) == b"b"  # 2 buffered: half free, the producer resumes
    assert link.soon == 1
    assert inbox.take(link) == b"cd"
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(inbox.wait_for_room)  # under the window: returns at once
    inbox.feed(b"", complete=True)
    assert inbox.take(link) == b""
    assert inbox.take(link) == b""


async def test_inbox_consumer_sleeps_when_empty_and_errors_win() -> None:
    inbox = Inbox(window=4, first=b"", complete=False)
    link = CountingLink()
    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as task_group:
            results: list[bytes] = []

            async def consume() -> None:
                results.append(await anyio.to_thread.run_sync(inbox.take, link))

            task_group.start_soon(consume)
            await eventually(lambda: sleeping(link))
            inbox.feed(b"late", complete=False)  # opens the gate
    assert results == [b"late"]
    inbox.feed(b"kept", complete=False)
    inbox.fail(lambda: ConnectionResetError("gone"))
    with pytest.raises(ConnectionResetError, match="gone"):
        inbox.take(link)  # the error wins over buffered bytes


async def test_inbox_consumer_wakes_a_producer_paused_on_a_full_buffer_before_sleeping() -> None:
    """The producer paused at the window; the consumer took everything without reaching the
    half mark's wake-up (a racing check); before it sleeps it wakes the producer itself."""
    inbox = Inbox(window=2, first=b"ab", complete=False)
    link = CountingLink()
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(inbox.wait_for_room)
        await anyio.wait_all_tasks_blocked()
        inbox._producer_waiting = False  # hide the pause from take(), as a race would
        assert inbox.take(link) == b"ab"
        inbox._producer_waiting = True

        async def consume() -> bytes:
            return await anyio.to_thread.run_sync(inbox.take, link)

        result: list[bytes] = []

        async def run_consumer() -> None:
            result.append(await consume())

        task_group.start_soon(run_consumer)
        await eventually(lambda: sleeping(link))
        assert link.soon == 1  # the producer was woken before the consumer slept
        inbox.feed(b"c", complete=True)
    assert result == [b"c"]
