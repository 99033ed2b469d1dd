"""Server import targets: ``benchmarks.apps.served:<adapter>__<app>`` is ``<app>`` in ``<adapter>``.

Uvicorn and Gunicorn resolve ``module:name`` with ``getattr``, so this module's ``__getattr__``
(PEP 562) builds the pair when the server asks for it, inside the server process; a peer that is
not installed, or a bridge class that has not landed yet, fails only its own configuration.
Hyphens in adapter names are written as underscores (``uvicorn_legacy__wsgi``).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

#: app name -> (module, interface); every module's ``app`` answers ``/hello``.
APPS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "wsgi": ("benchmarks.apps.wsgi_app", "wsgi"),
        "flask": ("benchmarks.apps.flask_app", "wsgi"),
        "asgi": ("benchmarks.apps.asgi_app", "asgi"),
        "fastapi": ("benchmarks.apps.fastapi_app", "asgi"),
    }
)


@dataclass(frozen=True)
class Adapter:
    """A class that wraps an app as ``cls(app, **options)``."""

    module: str
    cls: str
    options: Mapping[str, object] = field(default_factory=dict)

    def unavailable_reason(self) -> str | None:
        """Say why this adapter cannot be built here, or ``None`` if it can."""
        try:
            factory = getattr(importlib.import_module(self.module), self.cls)
        except (ImportError, AttributeError) as exc:
            return f"{self.module}.{self.cls} does not import: {exc}"
        parameters = inspect.signature(factory).parameters
        missing = [name for name in self.options if name not in parameters]
        if missing and not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
            return f"{self.module}.{self.cls} has no option {', '.join(missing)}"
        return None

    def wrap(self, app: Any) -> Any:
        """Build the adapted app."""
        factory = getattr(importlib.import_module(self.module), self.cls)
        return factory(app, **self.options)


#: (adapter name, interface of the app it wraps) -> how to build it; "native" is no adapter.
ADAPTERS: Mapping[tuple[str, str], Adapter] = MappingProxyType(
    {
        # a WSGI app on an ASGI server (issue 3)
        ("bridge", "wsgi"): Adapter("bridge", "WsgiToAsgi"),
        ("a2wsgi", "wsgi"): Adapter("a2wsgi", "WSGIMiddleware"),
        ("asgiref", "wsgi"): Adapter("asgiref.wsgi", "WsgiToAsgi"),
        ("uvicorn-legacy", "wsgi"): Adapter("uvicorn.middleware.wsgi", "_WSGIMiddleware"),
        # issue 5, section 3: the greenlet runner, measured once WsgiToAsgi accepts runner=
        ("bridge-greenlet", "wsgi"): Adapter("bridge", "WsgiToAsgi", {"runner": "greenlet"}),
        # the yardstick for the greenlet runner (benchmarks/floor.py), hello only
        ("greenlet-floor", "wsgi"): Adapter("benchmarks.floor", "GreenletFloor"),
        # an ASGI app on a WSGI server (issue 4)
        ("bridge", "asgi"): Adapter("bridge", "AsgiToWsgi"),
        ("a2wsgi", "asgi"): Adapter("a2wsgi", "ASGIMiddleware"),
        # the yardstick: the cheapest loop-thread hand-off (benchmarks/floor.py), hello only
        ("floor", "asgi"): Adapter("benchmarks.floor", "HandOffFloor"),
    }
)


def load_app(name: str) -> Any:
    """Import one of :data:`APPS` unwrapped."""
    module, _interface = APPS[name]
    return importlib.import_module(module).app


def target(adapter: str, app: str) -> str:
    """The import string a server needs for ``app`` wrapped in ``adapter`` (or native)."""
    if adapter == "native":
        return f"{APPS[app][0]}:app"
    return f"{__name__}:{adapter.replace('-', '_')}__{app}"


def __getattr__(name: str) -> Any:
    adapter, _, app = name.partition("__")
    key = (adapter.replace("_", "-"), APPS[app][1] if app in APPS else "")
    if key not in ADAPTERS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return ADAPTERS[key].wrap(load_app(app))
