"""One run as text: the medians, the ratios of medians, RSS and the targets, per direction.

A cell ends with ``*`` when some request answered non-2xx, a socket error occurred, or a round
failed; the footnotes under the table say which. ``n/a`` is a configuration that cannot run
here (its reason is printed above the tables); no number is ever made up for it.
"""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks.scenarios import INSTEAD, SERVERS
from benchmarks.summary import Results, Summary, ratios
from benchmarks.targets import TARGETS, Target

_SHORT = {
    "uvicorn-legacy": "legacy",
    "bridge-greenlet": "greenlet",
    "bridge-greenlet@base": "greenlet@base",
    "greenlet-floor": "g-floor",
    "floor-onthread": "o-floor",
    "bridge-onthread": "onthread",
    "bridge-loopthread": "loopthread",
    "granian-wsgi": "granian",
}


def format_number(value: float | None, unit: str) -> str:
    """``18,234`` for req/s and MiB/s, ``10.3`` for ms, ``-`` for nothing."""
    if value is None:
        return "-"
    return f"{value:,.1f}" if unit == "ms" or value < 100 else f"{value:,.0f}"


def format_direction(results: Results, direction: str, rounds: int) -> str:
    """The tables of one direction: medians, ratios, RSS, then what the columns are, footnotes."""
    impls = results.columns(direction)
    medians = [["scenario@server", "unit", "conns", *impls]]
    pairs = ratios(direction)
    found = {}
    rss = [["RSS MiB: peak (+growth)", *impls]]
    footnotes: list[str] = []
    for row in results.rows(direction):
        config, cells = row[0].config, {s.config.impl: s for s in row}
        label = f"{config.scenario.name}@{config.server}"
        medians.append([label, config.scenario.unit, str(config.connections)])
        medians[-1] += [_cell(cells.get(impl), footnotes, label) for impl in impls]
        rss.append([label, *(_rss_cell(cells.get(impl)) for impl in impls)])
        found[label] = [results.ratio(config, a, b) for a, b in pairs]
    parts = [f"{direction}: medians of {rounds} round(s)", _align(medians), ""]
    parts += [*_ratio_table(pairs, found), ""]
    parts.append(_align(rss))
    instead = _instead_legend(results, direction)
    return "\n".join(parts + ([""] if instead or footnotes else []) + instead + footnotes)


def _ratio_table(
    pairs: Sequence[tuple[str, str]], found: dict[str, list[float | None]]
) -> list[str]:
    """The ratios of medians, without the columns and rows that have no value at all."""
    keep = [i for i in range(len(pairs)) if any(values[i] is not None for values in found.values())]
    if not keep:
        return ["ratios: none (a ratio needs both of its implementations measured)"]
    header = ["ratios of medians", *(_pair(*pairs[i]) for i in keep)]
    rows = [
        [label, *(_ratio(values[i]) for i in keep)]
        for label, values in found.items()
        if any(values[i] is not None for i in keep)
    ]
    return [_align([header, *rows]), "(for ms, time to last byte, a ratio below 1 is better)"]


def _pair(numerator: str, denominator: str) -> str:
    return f"{_SHORT.get(numerator, numerator)}/{_SHORT.get(denominator, denominator)}"


def _instead_legend(results: Results, direction: str) -> list[str]:
    """A line per column that is another server, not an adapter, with its connections."""
    lines = []
    for impl in results.columns(direction):
        if impl in INSTEAD:
            conns = sorted(
                {
                    f"{s.config.scenario.name} {s.config.connections}"
                    for s in results.summaries.values()
                    if s.config.impl == impl and s.config.direction == direction
                }
            )
            lines.append(
                f"{impl}: the app on {impl} ({SERVERS[impl][0].upper()}, no adapter); "
                f"connections: {', '.join(conns)}"
            )
    return lines


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
        ).rstrip()
        for row in rows
    )


def format_targets(results: Results, targets: Sequence[Target] = TARGETS) -> str:
    """One line per target of the directions that ran: measured number and met/missed."""
    lines = ["targets (measured on this machine, in this run):"]
    directions = {key[0] for key in results.summaries}
    for target in targets:
        if target.direction not in directions:
            continue
        measured = target.measure(results.lookup)
        verdict = {True: "met", False: "MISSED", None: "not measured"}[target.is_met(measured)]
        lines.append(f"  {target.text:<58} {_target_number(target, measured):>10}  {verdict}")
    return "\n".join(lines)


def _target_number(target: Target, measured: float | None) -> str:
    if measured is None:
        return "-"
    if target.rss:
        return f"{measured:.1f} MiB"
    return f"{measured:.2f}x" if target.against else f"{measured:,.0f}"
