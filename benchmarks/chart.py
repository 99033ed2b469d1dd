"""Draw one run's medians as one PNG per direction: a panel per scenario, a bar per configuration.

Bars are horizontal so that every name can be read; bridge's are one colour, the other adapters
another, servers that serve the app without any adapter a third, and the native app of each
server is a dashed reference line with its value. A bar's label is its median and, where there
is a native line, its ratio to it. What is drawn is decided by :mod:`benchmarks.panels`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display; set before pyplot is imported

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import StrMethodFormatter

from benchmarks.panels import (
    BASELINE,
    BRIDGE,
    INSTEAD_COLOUR,
    NATIVE,
    PEER,
    SCENARIO_TITLES,
    TITLES,
    YARDSTICK,
    Bar,
    Group,
    Panel,
    panels,
    slots,
)
from benchmarks.report import format_number
from benchmarks.scenarios import DIRECTIONS, SCENARIOS
from benchmarks.summary import Results


def write_charts(
    results: Results, directory: Path, *, stem: str, title: str, page: bool = False
) -> list[Path]:
    """Write ``<stem>-<direction>.png`` for each direction that has something to show."""
    written = []
    for direction in DIRECTIONS:
        path = directory / f"{stem}-{direction}.png"
        if draw_direction(results, direction, path, title=title, page=page):
            written.append(path)
    return written


def draw_direction(
    results: Results, direction: str, path: Path, *, title: str, page: bool = False
) -> bool:
    """Draw ``direction``'s panels into ``path``; return False (and write nothing) if none."""
    drawn = panels(results, direction, page)
    if not drawn:
        return False
    legend = _legend(drawn, direction)
    columns = len(legend) if len(legend) <= 4 else 3
    header = 0.3 + 0.26 * -(-len(legend) // columns)  # inches: title, then the legend's rows
    heights = [0.75 + 0.3 * slots(groups) for _, _, groups in drawn]
    total = sum(heights) + header + 0.3
    figure, axes = plt.subplots(
        len(drawn),
        1,
        figsize=(10, total),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for ax, panel in zip(axes[:, 0], drawn, strict=True):
        _draw_panel(ax, *panel)
    figure.suptitle(
        f"{TITLES[direction]}: {title}", fontsize=13, x=0.01, y=1 - 0.12 / total, ha="left"
    )
    figure.legend(
        handles=legend,
        loc="upper left",
        bbox_to_anchor=(0.005, 1 - 0.42 / total),
        ncol=columns,
        fontsize=10,
        frameon=False,
    )
    figure.tight_layout(rect=(0, 0, 1, 1 - header / total), h_pad=1.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def _draw_panel(ax: Axes, direction: str, scenario: str, groups: list[Group]) -> None:
    unit, higher = SCENARIOS[scenario].unit, SCENARIOS[scenario].higher_is_better
    values = [b.value for g in groups for b in g.bars] + [g.native[1] for g in groups if g.native]
    top = max(values)
    labels: list[tuple[float, str]] = []
    slot = slots(groups)
    for group in groups:
        if group.native is not None:
            slot -= 1
            name, native = group.native
            ends = (slot - len(group.bars) + 0.5, slot + 0.45)
            ax.vlines(native, *ends, colors=NATIVE, linestyles=(0, (5, 3)), linewidth=1.4)
            right = native > top * 0.7  # label left of the line, else right of it
            ax.text(
                native,
                slot + 0.1,
                f" {name}: {format_number(native, unit)} ",
                fontsize=9.5,
                va="center",
                ha="right" if right else "left",
                color=NATIVE,
            )
        for bar in group.bars:
            slot -= 1
            ax.barh(slot, bar.value, color=bar.colour, height=0.72)
            text = _bar_text(bar, group, unit, higher)
            ax.text(
                bar.value + top * 0.01,
                slot,
                text,
                va="center",
                fontsize=9.5,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6, "alpha": 0.85},
            )
            labels.append((slot, bar.label))
    ax.set_yticks([y for y, _ in labels], [label for _, label in labels], fontsize=10)
    ax.set_xlim(0, top * 1.3)
    ax.set_ylim(-0.6, slots(groups) - 0.4)
    better = "higher" if higher else "lower"
    title = SCENARIO_TITLES.get((direction, scenario), SCENARIO_TITLES.get(scenario, scenario))
    ax.set_title(title, fontsize=11.5, loc="left")
    ax.set_xlabel(f"{_unit_name(unit)} ({better} is better)", fontsize=9.5)
    ax.tick_params(axis="x", labelsize=9)
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.tick_params(axis="y", length=0)
    ax.spines[["top", "right"]].set_visible(False)


def _bar_text(bar: Bar, group: Group, unit: str, higher: bool) -> str:
    text = f"{format_number(bar.value, unit)}{bar.note}"
    if group.native:
        ratio = bar.value / group.native[1]
        text += f"  ({ratio:.2f}x {group.native_short}{'' if higher else ' time'})"
    return text


def _unit_name(unit: str) -> str:
    return {"req/s": "requests per second", "MiB/s": "MiB per second"}.get(
        unit, "milliseconds to the last event"
    )


def _legend(drawn: Sequence[Panel], direction: str) -> list[Patch | Line2D]:
    """An entry for each colour drawn, then the native line."""
    colours = {bar.colour for _, _, groups in drawn for g in groups for bar in g.bars}
    entries: list[Patch | Line2D] = [
        Patch(color=colour, label=label)
        for colour, label in (
            (BRIDGE, "bridge"),
            (BASELINE, "bridge at the baseline"),
            (PEER, "other adapters"),
            (INSTEAD_COLOUR, "another server, no adapter"),
            (YARDSTICK, "yardstick (not an adapter)"),
        )
        if colour in colours
    ]
    native = "native ASGI app" if direction == "wsgi-to-asgi" else "native WSGI app"
    entries.append(Line2D([], [], color=NATIVE, linestyle=(0, (5, 3)), label=native))
    return entries
