"""Shared by the runner tests: a worker thread's gate that counts its waits."""

from __future__ import annotations

from bridge._runners.wakeups import ThreadGate


class CountingGate(ThreadGate):
    __slots__ = ("sleeping", "waits")

    def __init__(self) -> None:
        super().__init__()
        self.waits = 0
        self.sleeping = False

    def wait(self) -> None:
        self.waits += 1
        self.sleeping = True
        try:
            super().wait()
        finally:
            self.sleeping = False
