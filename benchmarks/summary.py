"""Turn one run's samples into medians, ratios and target verdicts, as text and as JSON.

Each configuration's result is the median of its rounds' values (failed rounds left out and
counted). A cell ends with ``*`` when some request answered non-2xx, a socket error occurred, or
a round failed; the footnotes under the table say which.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.measure import Sample
from benchmarks.scenarios import IMPLEMENTATIONS, Config
from benchmarks.targets import TARGETS, Target

#: the ratios the issues speak of, per direction: (numerator, denominator)
RATIOS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "wsgi-to-asgi": (
        ("bridge", "native"),
        ("bridge", "a2wsgi"),
        ("bridge", "uvicorn-legacy"),
        ("bridge", "asgiref"),
        ("bridge-greenlet", "native"),
        ("greenlet-floor", "native"),
        ("bridge-greenlet", "greenlet-floor"),
    ),
    "asgi-to-wsgi": (
        ("bridge", "native"),
        ("bridge", "a2wsgi"),
        ("floor", "native"),
        ("bridge", "floor"),
    ),
}
FEW_REQUESTS = 10  # fewer completed requests per round than this make a coarse number
_SHORT = {"uvicorn-legacy": "legacy", "bridge-greenlet": "greenlet", "greenlet-floor": "g-floor"}


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


def _key(config: Config) -> tuple[str, str, str, str]:
    return config.direction, config.scenario.name, config.server, config.impl


def format_number(value: float | None, unit: str) -> str:
    """``18,234`` for req/s and MiB/s, ``10.3`` for ms, ``-`` for nothing."""
    if value is None:
        return "-"
    return f"{value:,.1f}" if unit == "ms" or value < 100 else f"{value:,.0f}"


def format_direction(results: Results, direction: str, rounds: int) -> str:
    """The tables of one direction: medians, the issues' ratios, RSS, then footnotes."""
    impls = list(dict.fromkeys(i for group in IMPLEMENTATIONS[direction].values() for i in group))
    ratios = RATIOS[direction]
    medians = [["scenario@server", "unit", "conns", *impls]]
    ratio_rows = [
        ["ratios of medians", *(f"{_SHORT.get(a, a)}/{_SHORT.get(b, b)}" for a, b in ratios)]
    ]
    rss = [["RSS MiB: peak (+growth)", *impls]]
    footnotes: list[str] = []
    for row in results.rows(direction):
        config, cells = row[0].config, {s.config.impl: s for s in row}
        label = f"{config.scenario.name}@{config.server}"
        medians.append([label, config.scenario.unit, str(config.connections)])
        medians[-1] += [_cell(cells.get(impl), footnotes, label) for impl in impls]
        rss.append([label, *(_rss_cell(cells.get(impl)) for impl in impls)])
        found = [results.ratio(config, a, b) for a, b in ratios]
        if any(value is not None for value in found):
            ratio_rows.append([label, *(_ratio(value) for value in found)])
    parts = [f"{direction}: medians of {rounds} round(s)", _align(medians), ""]
    if len(ratio_rows) > 1:
        parts += [_align(ratio_rows), "(for ms, time to last byte, a ratio below 1 is better)", ""]
    else:
        parts += ["ratios: none yet (bridge not measured)", ""]
    parts.append(_align(rss))
    return "\n".join(parts + (["", *footnotes] if footnotes else []))


def _cell(summary: Summary | None, footnotes: list[str], label: str) -> str:
    if summary is None:
        return ""
    if summary.unavailable:
        return "n/a"
    if summary.median is None:
        footnotes.append(f"* {label} {summary.config.impl}: {'; '.join(summary.notes)}")
        return "failed*"
    text = format_number(summary.median, summary.config.scenario.unit)
    if summary.notes:
        footnotes.append(f"* {label} {summary.config.impl}: {'; '.join(summary.notes)}")
        text += "*"
    return text


def _rss_cell(summary: Summary | None) -> str:
    if summary is None or summary.median is None:
        return ""
    peak, growth = summary.detail("rss_peak_mib"), summary.detail("rss_growth_mib")
    return f"{peak or 0:.0f} (+{growth or 0:.1f})"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _align(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


def format_targets(results: Results, targets: Sequence[Target] = TARGETS) -> str:
    """One line per target of the directions that ran: measured number and met/missed."""
    lines = ["targets (from the issues; measured on this machine, in this run):"]
    directions = {key[0] for key in results.summaries}
    for target in targets:
        if target.direction not in directions:
            continue
        measured = target.measure(results.lookup)
        verdict = {True: "met", False: "MISSED", None: "not measured"}[target.is_met(measured)]
        number = (
            "-"
            if measured is None
            else (
                f"{measured:.1f} MiB"
                if target.rss
                else f"{measured:.2f}x"
                if target.against
                else f"{measured:,.0f}"
            )
        )
        lines.append(f"  issue {target.issue}  {target.text:<50} {number:>10}  {verdict}")
    return "\n".join(lines)


def to_json(results: Results, targets: Sequence[Target] = TARGETS) -> dict[str, Any]:
    """Every summary (all rounds), every ratio and every target verdict, as plain data."""
    configs = []
    for (direction, scenario, server, impl), s in results.summaries.items():
        configs.append(
            {
                "direction": direction,
                "scenario": scenario,
                "server": server,
                "impl": impl,
                "unit": s.config.scenario.unit,
                "connections": s.config.connections,
                "unavailable": s.unavailable,
                "median": s.median,
                "values": s.values,
                "errors": [x.error for x in s.samples if x.error],
                "notes": s.notes,
                "details": [x.details for x in s.samples],
                "ratios": {f"{a}/{b}": results.ratio(s.config, a, b) for a, b in RATIOS[direction]},
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
