"""bridge: run WSGI apps on ASGI servers and ASGI apps on WSGI servers, correctly and fast.

The public surface is exactly :data:`__all__`; everything else is private.
"""

from ._asgi_to_wsgi import AsgiToWsgi
from ._await import await_
from ._errors import (
    ApplicationError,
    ApplicationTimeout,
    BridgeError,
    ClientDisconnected,
    ClientError,
    LifespanError,
    RequestTooLarge,
    ServerError,
)
from ._interfaces import AsgiApp, WsgiApp
from ._router import Router
from ._wsgi_to_asgi import WsgiToAsgi

__all__ = (
    "ApplicationError",
    "ApplicationTimeout",
    "AsgiApp",
    "AsgiToWsgi",
    "BridgeError",
    "ClientDisconnected",
    "ClientError",
    "LifespanError",
    "RequestTooLarge",
    "Router",
    "ServerError",
    "WsgiApp",
    "WsgiToAsgi",
    "await_",
)

# Every public name reports the module users import it from, whichever file defines it, so reprs,
# tracebacks, pickles and the API docs say ``bridge.WsgiToAsgi`` (as httpx does for its own).
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
