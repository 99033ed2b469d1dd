"""What the charts show, as plain data: per direction, a panel per scenario, groups of bars.

A panel holds a group of bars per server of its rows (Uvicorn; or Gunicorn sync and gthread),
each with that server's native app as its reference value, then one group for the servers that
serve the app without any adapter. Configurations that could not run (``n/a``) or failed are
left out, never drawn as zero, and a panel with fewer than two results is left out too.
``page=True`` also leaves out the yardsticks and the baseline, which only developers read.
:mod:`benchmarks.chart` draws these with matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.apps.served import is_base, is_bridge
from benchmarks.scenarios import INSTEAD, ROW_SERVERS
from benchmarks.summary import Results, Summary

BRIDGE, BASELINE, PEER = "#d1495b", "#eda5ae", "#4c78a8"
INSTEAD_COLOUR, YARDSTICK, NATIVE = "#59a14f", "#bab0ac", "#222"
YARDSTICKS = ("floor", "floor-onthread", "greenlet-floor")

TITLES = {
    "wsgi-to-asgi": "A WSGI app on an ASGI server (Uvicorn, 1 worker)",
    "asgi-to-wsgi": "An ASGI app on a WSGI server (Gunicorn, 1 worker)",
}
SCENARIO_TITLES: dict[str | tuple[str, str], str] = {
    "hello": "Short answer: 13 bytes",
    "stream": "Download: 16 MiB streamed in 64 KiB chunks",
    "upload": "Upload: 16 MiB request body",
    ("wsgi-to-asgi", "sleep"): "The WSGI app blocks its thread for 50 ms (200 connections)",
    ("asgi-to-wsgi", "sleep"): "The ASGI app awaits for 50 ms (8 connections)",
    "sleep-await": "The app awaits 50 ms on the server's loop (bridge.await_)",
    "sse": "Server-sent events: 1000 events, time to the last one",
    "flask-hello": "Flask: a short answer",
    "fastapi-hello": "FastAPI: a short answer",
    "django-hello": "Django: a sync view's short answer",
}
NAMES = {
    "bridge": "bridge",
    "bridge-greenlet": "bridge, greenlet runner",
    "bridge-onthread": "bridge, loop on the server's thread",
    "bridge-loopthread": "bridge, loop thread",
    "a2wsgi": "a2wsgi",
    "asgiref": "asgiref",
    "uvicorn-legacy": "Uvicorn's old WSGI middleware",
    "greenlet-floor": "yardstick: bare PEP 3333 call",
    "floor": "yardstick: bare loop hand-off",
    "floor-onthread": "yardstick: bare loop on the server's thread",
    "granian-wsgi": "Granian --interface wsgi",
    "gunicorn-sync": "Gunicorn, sync worker",
    "gunicorn-asgi": "Gunicorn -k asgi",
}
SERVER_NAMES = {"gunicorn-sync": "sync", "gunicorn-gthread": "gthread"}


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value and colour, and the note its value carries (``*``)."""

    label: str
    value: float
    colour: str
    note: str = ""


@dataclass(frozen=True)
class Group:
    """The bars of one row server (or of the other servers), and that server's native app."""

    bars: tuple[Bar, ...]
    native: tuple[str, float] | None = None  # its label and value
    native_short: str = "native"  # what a bar's ratio to the native value is called


Panel = tuple[str, str, list[Group]]  # direction, scenario, groups from top to bottom


def slots(groups: list[Group]) -> int:
    """Rows a panel needs: one per bar, plus one above each group for its native's label."""
    return sum(len(g.bars) + (g.native is not None) for g in groups)


def panels(results: Results, direction: str, page: bool = False) -> list[Panel]:
    """Per scenario: a group of bars per row server, then the other servers' group."""
    by_scenario: dict[str, list[list[Summary]]] = {}
    for row in results.rows(direction):
        by_scenario.setdefault(row[0].config.scenario.name, []).append(row)
    servers = ROW_SERVERS[direction]
    found = []
    for scenario, rows in by_scenario.items():
        groups, instead = [], {}
        for row in sorted(rows, key=lambda r: servers.index(r[0].config.server)):
            server = row[0].config.server
            qualifier = SERVER_NAMES[server] if len(servers) > 1 else ""
            native = next((s.median for s in row if s.config.impl == "native"), None)
            bars = []
            for summary in filter(lambda s: _drawn(s, page), row):
                if summary.config.impl in INSTEAD:
                    instead.setdefault(summary.config.impl, _bar(summary, ""))
                else:
                    bars.append(_bar(summary, qualifier))
            label = _native_name(direction, scenario) + (f" ({qualifier})" if qualifier else "")
            if bars:
                found_native = None if native is None else (label, native)
                short = "Django's ASGI" if scenario == "django-hello" else "native"
                groups.append(Group(tuple(bars), found_native, short))
        if instead:
            groups.append(Group(tuple(instead.values())))
        bars_drawn = sum(len(g.bars) for g in groups)
        if bars_drawn + sum(g.native is not None for g in groups) >= 2:
            found.append((direction, scenario, groups))
    return found


def _drawn(summary: Summary, page: bool) -> bool:
    impl = summary.config.impl
    if impl == "native" or summary.unavailable or summary.median is None:
        return False
    return not (page and (impl in YARDSTICKS or is_base(impl)))


def _native_name(direction: str, scenario: str) -> str:
    if scenario == "django-hello":
        return "Django's own ASGI handler"
    return "native ASGI app" if direction == "wsgi-to-asgi" else "native WSGI app"


def _bar(summary: Summary, qualifier: str) -> Bar:
    """The bar of one configuration, named for readers: ``bridge (baseline, sync)``."""
    impl = summary.config.impl
    name = NAMES.get(impl.removesuffix("@base"), impl.removesuffix("@base"))
    qualifiers = ", ".join(filter(None, ["baseline" if is_base(impl) else "", qualifier]))
    if impl in YARDSTICKS:
        colour = YARDSTICK
    elif is_bridge(impl):
        colour = BASELINE if is_base(impl) else BRIDGE
    else:
        colour = INSTEAD_COLOUR if impl in INSTEAD else PEER
    assert summary.median is not None
    label = f"{name} ({qualifiers})" if qualifiers else name
    return Bar(label, summary.median, colour, "*" if summary.notes else "")
