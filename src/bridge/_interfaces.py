"""Which interface an application speaks, told from its signature: ASGI 3, WSGI, or unknown.

Both adapters check what they are given with it at construction (a Flask app passed to
``AsgiToWsgi`` fails there, with the name of the right adapter, not at the first request), and
:class:`~bridge.Router` classifies its routes with it. :class:`AsgiApp` and :class:`WsgiApp`
state the interface of an app that detection cannot tell, or tells wrongly.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Literal, cast
from wsgiref.types import WSGIApplication

from asgiref.compatibility import guarantee_single_callable
from asgiref.sync import iscoroutinefunction
from asgiref.typing import ASGI3Application

__all__ = ["AsgiApp", "WsgiApp", "asgi_app_of", "speaks", "wsgi_app_of"]


@dataclass(frozen=True, slots=True)
class AsgiApp:
    """Mark ``app`` as an ASGI 3 app, overriding detection (in :class:`Router` and the adapters).

    :param app: an ASGI 3 callable ``app(scope, receive, send)`` that detection cannot classify.
    """

    app: ASGI3Application


@dataclass(frozen=True, slots=True)
class WsgiApp:
    """Mark ``app`` as a PEP 3333 app, overriding detection (in :class:`Router` and the adapters).

    :param app: a WSGI callable ``app(environ, start_response)`` that detection cannot classify.
    """

    app: WSGIApplication


def speaks(app: object) -> Literal["asgi", "wsgi"] | None:
    """Say which interface ``app`` speaks by its signature, or ``None`` when it cannot be told.

    ASGI 3: an async callable taking ``(scope, receive, send)``. WSGI: a sync callable taking
    ``(environ, start_response)``. Anything else (a sync callable returning an awaitable, a
    builtin without a signature) is ``None``.
    """
    is_async = iscoroutinefunction(app) or (
        not isinstance(app, type) and iscoroutinefunction(type(app).__call__)
    )
    if is_async:
        return "asgi" if _accepts(app, 3) else None
    return "wsgi" if _accepts(app, 2) is True else None


def wsgi_app_of(app: object) -> WSGIApplication:
    """Return the WSGI app ``WsgiToAsgi`` was given (unwrapping :class:`WsgiApp`).

    :raises TypeError: ``app`` is not callable, or is an ASGI app.
    """
    if isinstance(app, WsgiApp):
        return app.app
    if not callable(app):
        raise TypeError(f"app must be a WSGI callable, got {type(app).__name__}")
    if isinstance(app, AsgiApp) or speaks(app) == "asgi":
        raise TypeError(
            f"WsgiToAsgi serves a WSGI app, but {app!r} is an ASGI app: serve it directly with "
            "an ASGI server, or with bridge.AsgiToWsgi(app) on a WSGI server (if it is a WSGI "
            "app after all, pass bridge.WsgiApp(app))"
        )
    return cast("WSGIApplication", app)


def asgi_app_of(app: object) -> ASGI3Application:
    """Return the ASGI 3 app ``AsgiToWsgi`` was given: an ASGI 2 double callable is turned into
    one, an app in :class:`AsgiApp` is taken as the ASGI 3 app it is said to be.

    :raises TypeError: ``app`` is not callable, or is a WSGI app.
    """
    if isinstance(app, AsgiApp):
        return app.app
    if not callable(app):
        raise TypeError(f"app must be an ASGI application (a callable), got {app!r}")
    if isinstance(app, WsgiApp) or speaks(app) == "wsgi":
        raise TypeError(
            f"AsgiToWsgi serves an ASGI app, but {app!r} is a WSGI app: serve it directly with "
            "a WSGI server, or with bridge.WsgiToAsgi(app) on an ASGI server (if it is an ASGI "
            "app after all, pass bridge.AsgiApp(app))"
        )
    return guarantee_single_callable(app)  # type: ignore[no-any-return,no-untyped-call]


def _accepts(app: object, count: int) -> bool | None:
    """Say whether ``app`` can be called with ``count`` positional arguments (``None``: unknown)."""
    try:
        inspect.signature(cast("Any", app)).bind(*range(count))
    except TypeError:
        return False
    except ValueError:
        return None
    return True
