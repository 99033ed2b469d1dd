"""Send bridge's log records (INFO and up) to stderr as ``LEVEL logger: message`` lines.

The test apps call :func:`log_bridge_to_stderr` at import, so each test can find and count
bridge's own records in the server's log (the library adds no handler of its own).
"""

from __future__ import annotations

import logging
import sys


def log_bridge_to_stderr() -> None:
    """Add one stderr handler to the ``bridge`` logger, at INFO (once per process)."""
    logger = logging.getLogger("bridge")
    if any(getattr(handler, "bridge_e2e", False) for handler in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.bridge_e2e = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
