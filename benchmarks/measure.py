"""Measure one configuration once: fresh server, warm-up, bounded load, memory, stop.

A fresh server per measurement keeps one configuration's memory from leaking into the next,
and its peak RSS (VmHWM, reset after the warm-up) belongs to this load alone.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import client, load, servers
from benchmarks.scenarios import Config

_MIB = 1024 * 1024
_EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(Error|Exception|Interrupt)\b")
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Sample:
    """One measurement of one configuration in one round (``value`` in the scenario's unit)."""

    value: float | None
    error: str | None = None  # why there is no value
    details: dict[str, float] = field(default_factory=dict)  # requests, errors, latency, RSS


def measure(
    config: Config, *, duration: int, sse_runs: int, env: Mapping[str, str] | None = None
) -> Sample:
    """Start the configuration's server, load it, and return what was measured.

    ``env`` holds variables to set for the server (the baseline's, for ``@base``).

    Failures (server did not start, wrk failed, wrong answers) become a Sample with an error:
    one broken configuration never stops the others, and never yields a number.
    """
    try:
        with servers.running(config.argv, client.answers_hello, cwd=REPO, env=env) as server:
            _warm_up(config, server.port)
            pid = server.serving_pid
            peak_reset = servers.reset_peak_rss(pid)
            before = servers.memory_mib(pid).get("VmRSS", 0.0)
            if config.scenario.name == "sse":
                value, details = _sse(server.port, sse_runs)
            else:
                value, details = _wrk(config, server.port, duration)
            peak = servers.memory_mib(pid).get("VmHWM", 0.0)
    except (OSError, RuntimeError) as exc:  # ServerFailed is a RuntimeError
        return Sample(None, error=describe_failure(exc))
    details |= {
        "rss_before_mib": before,
        "rss_peak_mib": peak,
        "rss_growth_mib": peak - before,
        "peak_reset": float(peak_reset),
    }
    return Sample(value, details=details)


def _warm_up(config: Config, port: int) -> None:
    """One request of the scenario, so imports and first-call costs are not measured."""
    scenario = config.scenario
    if scenario.name == "sse":
        client.sse_time_to_last_byte(port, scenario.path)
        return
    body = b"x" * scenario.body_size if scenario.body_size else None
    status, _ = client.fetch(port, scenario.path, method=scenario.method, body=body)
    if status != 200:
        raise RuntimeError(f"warm-up {scenario.method} {scenario.path} answered {status}")


def _wrk(config: Config, port: int, duration: int) -> tuple[float, dict[str, float]]:
    scenario = config.scenario
    result = load.run_wrk(
        f"http://{servers.HOST}:{port}{scenario.path}",
        connections=config.connections,
        duration=duration,
        timeout=scenario.timeout,
        method=scenario.method,
        body_size=scenario.body_size,
    )
    if result.ok_requests == 0:
        raise RuntimeError(
            f"no request completed with a 2xx answer in {duration} s "
            f"({result.requests} answers, errors {result.errors}); try a longer --duration"
        )
    if scenario.unit == "MiB/s":
        moved = result.ok_requests * scenario.payload if scenario.payload else result.bytes_read
        value = moved / _MIB / result.duration_s
    else:
        value = result.ok_requests / result.duration_s
    details = {
        "requests": float(result.requests),
        "status_errors": float(result.errors["status"]),
        "socket_errors": float(result.socket_errors),
        "latency_p50_ms": result.latency_p50_ms,
        "latency_p99_ms": result.latency_p99_ms,
    }
    return value, details


def _sse(port: int, runs: int) -> tuple[float, dict[str, float]]:
    """Median time to last byte of ``runs`` SSE requests, one after another, in ms."""
    times = []
    for _ in range(runs):
        times.append(client.sse_time_to_last_byte(port) * 1000)
        time.sleep(0.01)  # let a closing sync worker get back to accept()
    return statistics.median(times), {
        "runs": float(len(times)),
        "min_ms": min(times),
        "max_ms": max(times),
    }


def describe_failure(exc: BaseException) -> str:
    """One line for the report: the error's first line and, for a server log, the line naming
    the exception that stopped it (else the log's last line)."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()] or [repr(exc)]
    cause = next((line for line in reversed(lines[1:]) if _EXCEPTION_LINE.match(line)), lines[-1])
    text = lines[0] if len(lines) == 1 else f"{lines[0]} ... {cause}"
    return text if len(text) <= 200 else text[:197] + "..."
