"""The command line: run every configuration in interleaved rounds, print and save the report.

Round 1 measures A B C D, round 2 measures A B C D again, and so on, so drift on a noisy machine
(other jobs, thermal throttling) hits every implementation alike; each result is a median over
rounds. Configurations that cannot run here (a peer not installed, bridge's class not landed
yet) are listed as unavailable with the reason, never given a number.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks import load
from benchmarks.apps.served import is_base
from benchmarks.baseline import Baseline, BaselineError, extracted
from benchmarks.measure import REPO, Sample, measure
from benchmarks.report import format_direction, format_number, format_targets
from benchmarks.scenarios import DIRECTIONS, SCENARIOS, Config, configurations, implementations
from benchmarks.summary import Results, Summary, to_json

_DESCRIPTION = (
    "Benchmark bridge against its peers and the native apps with wrk, in interleaved rounds; "
    "print medians, ratios and the targets; write latest.json, latest.md and the charts. "
    "See benchmarks/README.md."
)
_PACKAGES = (
    "wsgi-asgi-bridge",
    "uvicorn",
    "uvloop",
    "httptools",
    "gunicorn",
    "granian",
    "a2wsgi",
    "asgiref",
    "flask",
    "django",
    "fastapi",
    "starlette",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Options as documented in benchmarks/README.md."""
    parser = argparse.ArgumentParser(prog="scripts/bench", description=_DESCRIPTION)
    parser.add_argument(
        "--direction", choices=[*DIRECTIONS, "all"], default="all", help="default: %(default)s"
    )
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help="comma-separated subset of: %(default)s"
    )
    parser.add_argument(
        "--duration", type=int, default=None, help="seconds per wrk run (default 5; --quick: 2)"
    )
    parser.add_argument("--rounds", type=int, default=None, help="default 3; --quick: 1")
    parser.add_argument(
        "--implementations",
        default=None,
        help="comma-separated subset of the implementations (e.g. native,bridge); default: all",
    )
    parser.add_argument(
        "--sse-runs",
        type=int,
        default=None,
        help="SSE requests per round, median taken (default 10; --quick: 3)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke check: 1 round of 2 s runs")
    parser.add_argument(
        "--baseline",
        metavar="REV",
        default=None,
        help="also measure bridge's code at git revision REV (bridge@base, "
        "bridge-greenlet@base) in the same rounds",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=REPO / "benchmarks" / "results",
        help="directory for latest.json, latest.md and the charts (default: benchmarks/results)",
    )
    args = parser.parse_args(argv)
    for name, quick, full in (("duration", 2, 5), ("rounds", 1, 3), ("sse_runs", 3, 10)):
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    unknown = set(args.scenarios.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(
            f"unknown scenario(s) {', '.join(sorted(unknown))}; known: {','.join(SCENARIOS)}"
        )
    if args.implementations is not None:
        known = {i for d in DIRECTIONS for i in implementations(d, baseline=True)}
        wanted = set(args.implementations.split(","))
        if wanted - known:
            parser.error(
                f"unknown implementation(s) {', '.join(sorted(wanted - known))}; "
                f"known: {','.join(sorted(known))}"
            )
        if args.baseline is None and any(is_base(impl) for impl in wanted):
            parser.error("an @base implementation needs --baseline REV")
    if min(args.duration, args.rounds, args.sse_runs) < 1:
        parser.error("--duration, --rounds and --sse-runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; exit status 0 when every available configuration produced a value."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # so `finally` stops the servers on SIGTERM too
    if shutil.which("wrk") is None:
        print("wrk is not installed (scripts/bench installs the Debian package)", file=sys.stderr)
        return 2
    baseline = extracted(args.baseline, repo=REPO) if args.baseline else contextlib.nullcontext()
    try:
        with baseline as extracted_baseline:
            return _run(args, extracted_baseline)
    except BaselineError as exc:  # raised before anything runs: the tree cannot be the baseline
        print(f"--baseline {args.baseline}: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, baseline: Baseline | None) -> int:
    directions = DIRECTIONS if args.direction == "all" else (args.direction,)
    configs = configurations(
        directions, tuple(args.scenarios.split(",")), baseline=baseline is not None
    )
    if args.implementations is not None:
        wanted = set(args.implementations.split(","))
        configs = [config for config in configs if config.impl in wanted]
    unavailable = {config: config.unavailable_reason() for config in configs}
    runnable = [config for config in configs if unavailable[config] is None]
    _print_unavailable(unavailable)
    meta = _meta(args, len(runnable), baseline)
    if baseline is not None:
        print(f"baseline: {baseline.revision} = {baseline.commit[:12]}", file=sys.stderr)
    try:
        samples = _run_rounds(runnable, args, baseline)
    except KeyboardInterrupt as exc:
        print(f"\ninterrupted ({exc or 'Ctrl-C'}); its server was stopped", file=sys.stderr)
        return 130
    meta["load_average_end"] = os.getloadavg()
    results = Results(Summary(c, tuple(samples.get(c, ())), unavailable[c]) for c in configs)
    text = [format_direction(results, direction, args.rounds) for direction in directions]
    text.append(format_targets(results))
    print("\n" + "\n\n".join(text))
    _save(results, meta, args.output, "\n\n".join(text))
    return 0 if all(s.value is not None for group in samples.values() for s in group) else 1


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def _print_unavailable(unavailable: dict[Config, str | None]) -> None:
    seen = set()
    for config, reason in unavailable.items():
        if reason is None or config.app is None or (config.impl, reason) in seen:
            continue
        seen.add((config.impl, reason))
        status = "not available yet" if config.impl.startswith("bridge") else "unavailable"
        print(f"{config.impl}: {status} ({reason})")


def _run_rounds(
    runnable: list[Config], args: argparse.Namespace, baseline: Baseline | None
) -> dict[Config, list[Sample]]:
    """Measure each distinct setup once per round; configurations that share one (the same
    server and app in two rows) share its samples."""
    setups: dict[tuple[object, ...], list[Config]] = {}
    for config in runnable:
        setups.setdefault(config.setup, []).append(config)
    seconds = len(setups) * args.rounds * (args.duration + 2)
    print(
        f"{len(setups)} configurations x {args.rounds} round(s), about {seconds / 60:.0f} min",
        file=sys.stderr,
    )
    samples: dict[Config, list[Sample]] = {}
    for round_number in range(1, args.rounds + 1):
        for sharing in setups.values():
            config = sharing[0]
            env = baseline.server_env(config.impl) if baseline else None
            sample = measure(config, duration=args.duration, sse_runs=args.sse_runs, env=env)
            for each in sharing:
                samples.setdefault(each, []).append(sample)
            shown = sample.error or f"{format_number(sample.value, config.scenario.unit)} "
            print(
                f"[round {round_number}/{args.rounds}] {config.scenario.name}@{config.runs_on} "
                f"{config.impl}: {shown}{'' if sample.error else config.scenario.unit}",
                file=sys.stderr,
                flush=True,
            )
    return samples


def _meta(args: argparse.Namespace, runnable: int, baseline: Baseline | None) -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in _PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "commit": _git("rev-parse", "HEAD"),
        "uncommitted_changes": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "baseline": (
            {"revision": baseline.revision, "commit": baseline.commit} if baseline else None
        ),
        "load_average_start": os.getloadavg(),
        "runnable_configurations": runnable,
        "versions": versions | {"wrk": load.wrk_version()},
    }


def _save(results: Results, meta: dict[str, Any], output: Path, text: str) -> None:
    from benchmarks.chart import write_charts  # matplotlib is slow to import; only here

    output.mkdir(parents=True, exist_ok=True)
    data = {"meta": meta, **to_json(results)}
    (output / "latest.json").write_text(json.dumps(data, indent=2) + "\n")
    (output / "latest.md").write_text(run_markdown(meta, text))
    charts = write_charts(results, output, stem="latest", title=run_title(meta))
    names = ", ".join(str(path) for path in [output / "latest.json", output / "latest.md", *charts])
    print(f"\nwrote {names}")


def run_title(meta: dict[str, Any]) -> str:
    """``2026-11-21, 3 rounds x 5 s``: the date and size of a run, for charts and pages."""
    options = meta["options"]
    rounds = options["rounds"]
    return f"{meta['started'][:10]}, {rounds} round{'s' * (rounds != 1)} x {options['duration']} s"


def run_markdown(meta: dict[str, Any], text: str) -> str:
    """One run as a Markdown file for benchmarks/results/: how it was run, then the report."""
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if v)
    load_start = ", ".join(f"{x:.2f}" for x in meta["load_average_start"])
    load_end = ", ".join(f"{x:.2f}" for x in meta.get("load_average_end", ()))
    baseline = meta.get("baseline")
    lines = [
        f"# Benchmark run of {meta['started']}",
        "",
        f"- options: `{json.dumps({k: v for k, v in meta['options'].items() if k != 'output'})}`",
        f"- code: `{meta['commit'][:12]}`"
        + (" with uncommitted changes" if meta["uncommitted_changes"] else ""),
        *(
            [f"- baseline: `{baseline['revision']}` = `{baseline['commit'][:12]}`"]
            if baseline
            else []
        ),
        f"- machine: {meta['machine']['cpus']} CPUs, {meta['machine']['platform']}, "
        f"Python {meta['machine']['python']}",
        f"- load average (1, 5, 15 min) at the start: {load_start}; at the end: {load_end}",
        f"- versions: {versions}",
        "",
        "```text",
        text,
        "```",
        "",
    ]
    return "\n".join(lines)
