"""The HTTP grammar both directions of the translation share (RFC 9110, RFC 3986).

Only what :mod:`.environ`, :mod:`.scope` and :mod:`.response` all need lives here; each of them
keeps the rules that only it applies.
"""

from __future__ import annotations

import re

__all__ = ["DEFAULT_PORTS", "PATH_SAFE", "TOKEN"]

#: An HTTP token (RFC 9110 5.6.2): what a header field name must be.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")

#: The RFC 3986 ``pchar`` delimiters kept unquoted when a path is percent-encoded again.
PATH_SAFE = "/:@!$&'()*+,;=-._~"

#: The port a scheme implies when the request names none.
DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}
