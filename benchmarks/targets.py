"""The project's benchmark targets, and whether one run's medians meet them.

A target is a ratio of two implementations' medians on the same scenario and server (``impl`` /
``against``), or an absolute bound on one median (``against`` is None), or a bound on the median
RSS growth over the run. For time-to-last-byte scenarios (unit ms) a ratio is a time ratio, so
its bound is an upper one (``at_most``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.scenarios import ASGI_TO_WSGI, SCENARIOS, WSGI_TO_ASGI

#: (direction, scenario, server, impl) -> (median value, median RSS growth in MiB), None if unknown
Lookup = Callable[[str, str, str, str], tuple[float | None, float | None]]


@dataclass(frozen=True)
class Target:
    """One target of one issue."""

    issue: int  # where the target was set (kept in latest.json, not printed)
    direction: str
    scenario: str
    server: str
    impl: str
    bound: float
    against: str | None = None  # the denominator implementation; None: an absolute bound
    at_most: bool = False  # the measured number must be <= bound (else >=)
    rss: bool = False  # bound the RSS growth (MiB) instead of the value

    @property
    def text(self) -> str:
        """The target as the issue states it, e.g. ``hello@uvicorn: bridge >= 3.0x a2wsgi``."""
        where = f"{self.scenario}@{self.server}"
        sign = "<=" if self.at_most else ">="
        if self.rss:
            return f"{where}: {self.impl} RSS growth {sign} {self.bound:g} MiB"
        if self.against is None:
            return f"{where}: {self.impl} {sign} {self.bound:g} {SCENARIOS[self.scenario].unit}"
        return f"{where}: {self.impl} {sign} {self.bound:.1f}x {self.against}"

    def measure(self, lookup: Lookup) -> float | None:
        """The measured ratio, value or RSS growth this target bounds, or None if not measured."""
        value, growth = lookup(self.direction, self.scenario, self.server, self.impl)
        if self.rss:
            return growth
        if self.against is None or value is None:
            return value
        base, _ = lookup(self.direction, self.scenario, self.server, self.against)
        return value / base if base else None

    def is_met(self, measured: float | None) -> bool | None:
        """Whether ``measured`` meets the bound; None when there is nothing to judge."""
        if measured is None:
            return None
        return measured <= self.bound if self.at_most else measured >= self.bound


def _on_gunicorn(issue: int, scenario: str, server: str, bound: float, **kw: bool) -> Target:
    return Target(issue, ASGI_TO_WSGI, scenario, server, "bridge", bound, "native", **kw)


def _on_uvicorn(issue: int, scenario: str, impl: str, bound: float, against: str) -> Target:
    return Target(issue, WSGI_TO_ASGI, scenario, "uvicorn", impl, bound, against)


TARGETS: tuple[Target, ...] = (
    # WsgiToAsgi on Uvicorn
    _on_uvicorn(15, "hello", "bridge", 1.2, "uvicorn-legacy"),
    _on_uvicorn(15, "flask-hello", "bridge", 1.2, "uvicorn-legacy"),
    _on_uvicorn(3, "hello", "bridge", 3.0, "a2wsgi"),
    _on_uvicorn(3, "stream", "bridge", 0.8, "native"),
    Target(3, WSGI_TO_ASGI, "stream", "uvicorn", "bridge", 8.0, at_most=True, rss=True),
    _on_uvicorn(3, "upload", "bridge", 0.9, "native"),
    Target(3, WSGI_TO_ASGI, "upload", "uvicorn", "bridge", 8.0, at_most=True, rss=True),
    Target(3, WSGI_TO_ASGI, "sleep", "uvicorn", "bridge", 600.0),
    # the greenlet runner (its hello target restated from the floor of a PEP 3333 call)
    _on_uvicorn(15, "hello", "bridge-greenlet", 0.7, "native"),
    _on_uvicorn(5, "sleep-await", "bridge-greenlet", 0.8, "native"),
    _on_uvicorn(15, "flask-hello", "bridge-greenlet", 1.1, "granian-wsgi"),
    # a Django sync view: against Django's own ASGI handler (native) and Gunicorn sync
    _on_uvicorn(15, "django-hello", "bridge", 5.0, "native"),
    _on_uvicorn(15, "django-hello", "bridge", 1.5, "gunicorn-sync"),
    # AsgiToWsgi on Gunicorn, against the native WSGI app on the same worker type
    _on_gunicorn(15, "hello", "gunicorn-sync", 0.9),
    _on_gunicorn(15, "stream", "gunicorn-sync", 0.9),
    _on_gunicorn(15, "upload", "gunicorn-sync", 0.9),
    _on_gunicorn(15, "sse", "gunicorn-sync", 1.5, at_most=True),
    _on_gunicorn(15, "hello", "gunicorn-gthread", 0.8),
    _on_gunicorn(4, "stream", "gunicorn-gthread", 0.8),
    _on_gunicorn(4, "upload", "gunicorn-gthread", 0.8),
    _on_gunicorn(4, "sse", "gunicorn-gthread", 2.0, at_most=True),
)
