"""One run's samples as medians and ratios, and as the plain data of ``latest.json`` (both ways).

Each configuration's result is the median of its rounds' values (failed rounds left out and
counted). :func:`to_json` writes every round; :func:`from_json` reads it back, so the report,
the charts and the docs page can be made again from a saved run without running anything.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from benchmarks.apps.served import is_base, is_bridge
from benchmarks.measure import Sample
from benchmarks.scenarios import SCENARIOS, Config, implementations
from benchmarks.targets import TARGETS, Target

#: the ratios the report prints per direction: (numerator, denominator); bridge variants that
#: are not listed (a new option's row) get variant/native and variant/bridge on top of these
RATIOS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "wsgi-to-asgi": (
        ("bridge", "native"),
        ("bridge", "a2wsgi"),
        ("bridge", "uvicorn-legacy"),
        ("bridge", "asgiref"),
        ("bridge-greenlet", "native"),
        ("greenlet-floor", "native"),
        ("bridge-greenlet", "greenlet-floor"),
        ("bridge", "granian-wsgi"),
        ("bridge-greenlet", "granian-wsgi"),
        ("bridge", "gunicorn-sync"),
        ("bridge", "bridge@base"),
        ("bridge-greenlet", "bridge-greenlet@base"),
    ),
    "asgi-to-wsgi": (
        ("bridge", "native"),
        ("bridge", "a2wsgi"),
        ("floor", "native"),
        ("bridge", "floor"),
        ("floor-onthread", "native"),
        ("bridge", "floor-onthread"),
        ("bridge", "gunicorn-asgi"),
        ("bridge", "bridge@base"),
    ),
}
FEW_REQUESTS = 10  # fewer completed requests per round than this make a coarse number


def ratios(direction: str) -> tuple[tuple[str, str], ...]:
    """:data:`RATIOS` of ``direction`` plus variant/native and variant/bridge for any other
    bridge variant among its implementations."""
    listed = {name for pair in RATIOS[direction] for name in pair}
    variants = [
        impl
        for impl in implementations(direction)
        if is_bridge(impl) and not is_base(impl) and impl not in listed
    ]
    extra = [(v, against) for v in variants for against in ("native", "bridge")]
    return (*RATIOS[direction], *extra)


@dataclass(frozen=True)
class Summary:
    """All rounds of one configuration."""

    config: Config
    samples: tuple[Sample, ...]
    unavailable: str | None = None

    @property
    def values(self) -> list[float]:
        """The values of the rounds that produced one."""
        return [s.value for s in self.samples if s.value is not None]

    @property
    def median(self) -> float | None:
        """The median over rounds, or None if no round produced a value."""
        return statistics.median(self.values) if self.values else None

    def detail(self, key: str) -> float | None:
        """The median over rounds of one detail (e.g. ``rss_growth_mib``)."""
        found = [s.details[key] for s in self.samples if key in s.details]
        return statistics.median(found) if found else None

    @property
    def notes(self) -> list[str]:
        """Why this cell is starred: failed rounds, non-2xx answers, socket errors."""
        notes = [f"round failed: {s.error}" for s in self.samples if s.error]
        fewest = min(
            (s.details["requests"] for s in self.samples if "requests" in s.details), default=0
        )
        if 0 < fewest < FEW_REQUESTS:
            notes.append(f"only {fewest:.0f} requests in a round: coarse, use a longer --duration")
        for key, what in (("status_errors", "non-2xx answers"), ("socket_errors", "socket errors")):
            count = sum(s.details.get(key, 0.0) for s in self.samples)
            if count:
                notes.append(f"{count:.0f} {what} (left out of req/s)")
        return notes


class Results:
    """Summaries indexed by (direction, scenario, server, impl)."""

    def __init__(self, summaries: Iterable[Summary]) -> None:
        self.summaries = {_key(s.config): s for s in summaries}

    def lookup(
        self, direction: str, scenario: str, server: str, impl: str
    ) -> tuple[float | None, float | None]:
        """Median value and median RSS growth of one configuration (targets.Lookup)."""
        summary = self.summaries.get((direction, scenario, server, impl))
        if summary is None:
            return None, None
        return summary.median, summary.detail("rss_growth_mib")

    def ratio(self, config: Config, numerator: str, denominator: str) -> float | None:
        """``numerator``'s median over ``denominator``'s on ``config``'s scenario and server."""
        top, _ = self.lookup(config.direction, config.scenario.name, config.server, numerator)
        bottom, _ = self.lookup(config.direction, config.scenario.name, config.server, denominator)
        return top / bottom if top is not None and bottom else None

    def rows(self, direction: str) -> list[list[Summary]]:
        """Per (scenario, server) row, its summaries in implementation order."""
        rows: dict[tuple[str, str], list[Summary]] = {}
        for summary in self.summaries.values():
            if summary.config.direction == direction:
                rows.setdefault((summary.config.scenario.name, summary.config.server), [])
                rows[(summary.config.scenario.name, summary.config.server)].append(summary)
        return list(rows.values())

    def columns(self, direction: str) -> list[str]:
        """The implementations measured (or found unavailable) in ``direction``, in order."""
        present = {impl for (d, _, _, impl) in self.summaries if d == direction}
        return [i for i in implementations(direction, baseline=True) if i in present]


def _key(config: Config) -> tuple[str, str, str, str]:
    return config.direction, config.scenario.name, config.server, config.impl


def to_json(results: Results, targets: Iterable[Target] = TARGETS) -> dict[str, Any]:
    """Every summary (all rounds), every ratio and every target verdict, as plain data."""
    configs = []
    for (direction, scenario, server, impl), s in results.summaries.items():
        configs.append(
            {
                "direction": direction,
                "scenario": scenario,
                "server": server,
                "impl": impl,
                "app": s.config.app,
                "runs_on": s.config.runs_on,
                "unit": s.config.scenario.unit,
                "connections": s.config.connections,
                "unavailable": s.unavailable,
                "median": s.median,
                "rounds": [
                    {"value": x.value, "error": x.error, "details": x.details} for x in s.samples
                ],
                "notes": s.notes,
                "ratios": {f"{a}/{b}": results.ratio(s.config, a, b) for a, b in ratios(direction)},
            }
        )
    verdicts = [
        {
            "issue": t.issue,
            "target": t.text,
            "measured": t.measure(results.lookup),
            "met": t.is_met(t.measure(results.lookup)),
        }
        for t in targets
        if any(c["direction"] == t.direction for c in configs)
    ]
    return {"configurations": configs, "targets": verdicts}


def from_json(data: Mapping[str, Any]) -> Results:
    """The :class:`Results` that :func:`to_json` wrote (medians and ratios are recomputed).

    :raises KeyError: a configuration names a scenario this harness no longer has.
    """
    summaries = []
    for c in data["configurations"]:
        config = Config(
            c["direction"],
            SCENARIOS[c["scenario"]],
            c["server"],
            c["impl"],
            c["app"],
            c["runs_on"],
            c["connections"],
        )
        samples = tuple(
            Sample(r["value"], r["error"], dict(r["details"])) for r in c.get("rounds", ())
        )
        summaries.append(Summary(config, samples, c["unavailable"]))
    return Results(summaries)
