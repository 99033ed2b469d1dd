"""Shared by the private-loop tests: the loop threads alive now, by name."""

from __future__ import annotations

import threading


def loop_threads() -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t.name.endswith("-loop"))
