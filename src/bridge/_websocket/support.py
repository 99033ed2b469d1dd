"""Whether this process can carry WebSockets, and the one warning an adapter logs when not.

wsproto is an optional extra (``pip install 'wsgi-asgi-bridge[websockets]'``): ``import bridge``
never imports it. An adapter asks :func:`wsproto_missing` when the first WebSocket arrives, and
imports the modules that use wsproto (:mod:`.frames`, :mod:`.handshake`) only after that.
"""

from __future__ import annotations

import logging
import threading

__all__ = ["INSTALL_HINT", "Refusals", "wsproto_missing"]

#: What to install for WebSockets.
INSTALL_HINT = "pip install 'wsgi-asgi-bridge[websockets]'"


def wsproto_missing() -> str | None:
    """Return why WebSockets cannot work without wsproto, or ``None`` when it imports."""
    try:
        import wsproto  # noqa: F401
    except ImportError as exc:
        return f"the wsproto package is not installed ({exc}); {INSTALL_HINT}"
    return None


class Refusals:
    """One adapter's refused WebSockets: the first one is logged as a WARNING, the rest quietly.

    :param logger: the adapter's logger (``bridge.asgi`` or ``bridge.wsgi``).
    """

    __slots__ = ("_lock", "_logger", "_warned")

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._lock = threading.Lock()
        self._warned = False

    def refuse(self, target: str, reason: str) -> None:
        """Log that the WebSocket request to ``target`` was refused: a WARNING the first time."""
        with self._lock:
            first, self._warned = not self._warned, True
        if first:
            self._logger.warning(
                "refused a WebSocket request to %s (answered 501; further refusals are logged "
                "at DEBUG): %s",
                target,
                reason,
            )
        else:
            self._logger.debug("refused a WebSocket request to %s: %s", target, reason)
