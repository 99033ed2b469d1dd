"""The validated options of one :class:`~bridge.AsgiToWsgi`, and the checks that validate them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from .lifespan import LifespanMode

__all__ = ["LoopThreadMode", "Options", "check_choice", "check_seconds", "check_size"]

LoopThreadMode = Literal["auto", "always", "never"]


@dataclass(frozen=True, slots=True)
class Options:
    """The validated options of one :class:`~bridge.AsgiToWsgi` (see its docstring)."""

    lifespan: LifespanMode
    startup_timeout: float
    shutdown_timeout: float
    request_timeout: float | None
    background_timeout: float
    disconnect_grace: float
    send_window: int
    #: The loop a loop thread runs (``"auto"`` resolved: uvloop when installed).
    backend: str
    #: The loop run inline, on the server's thread: stdlib asyncio unless uvloop was asked for.
    inline_backend: str
    #: ``"auto"``, ``"always"`` or ``"never"`` (see :class:`~bridge.AsgiToWsgi`).
    loop_thread: LoopThreadMode

    def runs_inline(self, multithread: bool | None) -> bool:
        """Whether the loop runs on the server's thread, for a server that calls the app from
        many threads (``multithread``), from one, or before any request (``None``: startup)."""
        if self.loop_thread == "auto":
            return self.inline_backend != "trio" and not multithread
        return self.loop_thread == "never"


def check_choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed!r}, got {value!r}")
    return value


def check_seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive finite number of seconds, got {value!r}")
    return float(value)


def check_size(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int (bytes), got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be zero or more bytes, got {value!r}")
    return value
