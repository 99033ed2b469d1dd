"""Server import targets: ``benchmarks.apps.served:<adapter>__<app>`` is ``<app>`` in ``<adapter>``.

Uvicorn, Gunicorn and Granian resolve ``module:name`` with ``getattr``, so this module's
``__getattr__`` (PEP 562) builds the pair when the server asks for it, inside the server process;
a peer that is not installed, or a bridge option that has not landed yet, fails only its own
configuration. In the attribute name, hyphens in adapter names are underscores and ``@`` is
``_at_`` (``uvicorn_legacy__wsgi``, ``bridge_at_base__asgi``), since Gunicorn accepts only a
Python name there.

Every implementation measured is "native" (the app on a server of its own interface), one of
:data:`ADAPTERS`, or another server serving the app natively (``scenarios.INSTEAD``). Adding an
adapter, or a variant of one by its options, is one line in :data:`ADAPTERS`: the harness adds
its column to every row of its direction, and reports it "not available" with the reason while
the installed code lacks the class or the option.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

#: app name -> (import target, interface, the distribution it needs or None)
APPS: Mapping[str, tuple[str, str, str | None]] = MappingProxyType(
    {
        "wsgi": ("benchmarks.apps.wsgi_app:app", "wsgi", None),
        "flask": ("benchmarks.apps.flask_app:app", "wsgi", "flask"),
        "django-wsgi": ("benchmarks.apps.django_app:wsgi", "wsgi", "django"),
        "asgi": ("benchmarks.apps.asgi_app:app", "asgi", None),
        "fastapi": ("benchmarks.apps.fastapi_app:app", "asgi", "fastapi"),
        "django-asgi": ("benchmarks.apps.django_app:asgi", "asgi", "django"),
    }
)

#: the package that serves the ``@base`` implementations (see benchmarks/baseline.py)
BASE_PACKAGE = "bridge_base"
BASE_SUFFIX = "@base"


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


#: (adapter name, interface of the app it wraps) -> how to build it, in the order of the
#: report's columns. Names starting with "bridge" are bridge's (and drawn in its colour); a
#: name ending in "@base" is served by the baseline's code (``--baseline REV``) and runs only
#: when one is given.
ADAPTERS: Mapping[tuple[str, str], Adapter] = MappingProxyType(
    {
        # a WSGI app on an ASGI server
        ("bridge", "wsgi"): Adapter("bridge", "WsgiToAsgi"),
        ("bridge@base", "wsgi"): Adapter(BASE_PACKAGE, "WsgiToAsgi"),
        ("bridge-greenlet", "wsgi"): Adapter("bridge", "WsgiToAsgi", {"runner": "greenlet"}),
        ("bridge-greenlet@base", "wsgi"): Adapter(
            BASE_PACKAGE, "WsgiToAsgi", {"runner": "greenlet"}
        ),
        ("a2wsgi", "wsgi"): Adapter("a2wsgi", "WSGIMiddleware"),
        ("asgiref", "wsgi"): Adapter("asgiref.wsgi", "WsgiToAsgi"),
        ("uvicorn-legacy", "wsgi"): Adapter("uvicorn.middleware.wsgi", "_WSGIMiddleware"),
        # the yardstick for the greenlet runner (benchmarks/floor.py), hello only
        ("greenlet-floor", "wsgi"): Adapter("benchmarks.floor", "GreenletFloor"),
        # an ASGI app on a WSGI server
        ("bridge", "asgi"): Adapter("bridge", "AsgiToWsgi"),
        # where the private loop runs: on the server's thread, or in a loop thread of its own
        # ("bridge" is "auto": on the thread of a sync worker, a loop thread under gthread)
        ("bridge-onthread", "asgi"): Adapter("bridge", "AsgiToWsgi", {"loop_thread": "never"}),
        ("bridge-loopthread", "asgi"): Adapter("bridge", "AsgiToWsgi", {"loop_thread": "always"}),
        ("bridge@base", "asgi"): Adapter(BASE_PACKAGE, "AsgiToWsgi"),
        ("a2wsgi", "asgi"): Adapter("a2wsgi", "ASGIMiddleware"),
        # the yardstick: the cheapest loop-thread hand-off (benchmarks/floor.py), hello only
        ("floor", "asgi"): Adapter("benchmarks.floor", "HandOffFloor"),
        # and the cheapest loop run on the server's thread (benchmarks/floor.py), hello only
        ("floor-onthread", "asgi"): Adapter("benchmarks.floor", "InlineFloor"),
    }
)


def is_bridge(impl: str) -> bool:
    """Whether ``impl`` is one of bridge's own configurations (current code or baseline)."""
    return impl.startswith("bridge")


def is_base(impl: str) -> bool:
    """Whether ``impl`` runs the baseline's code (``--baseline``)."""
    return impl.endswith(BASE_SUFFIX)


def load_app(name: str) -> Any:
    """Import one of :data:`APPS` unwrapped."""
    module, _, attribute = APPS[name][0].partition(":")
    return getattr(importlib.import_module(module), attribute)


def attribute(adapter: str, app: str) -> str:
    """This module's attribute name for ``app`` in ``adapter`` (a Python name)."""
    return f"{adapter.replace('-', '_').replace('@', '_at_')}__{app.replace('-', '_')}"


def target(adapter: str, app: str) -> str:
    """The import string a server needs for ``app`` wrapped in ``adapter`` (or native)."""
    if adapter == "native":
        return APPS[app][0]
    return f"{__name__}:{attribute(adapter, app)}"


_ATTRIBUTES = {
    attribute(adapter, app): (adapter, app)
    for (adapter, interface) in ADAPTERS
    for app, (_, app_interface, _) in APPS.items()
    if interface == app_interface
}


def __getattr__(name: str) -> Any:
    if name not in _ATTRIBUTES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    adapter, app = _ATTRIBUTES[name]
    return ADAPTERS[(adapter, APPS[app][1])].wrap(load_app(app))
