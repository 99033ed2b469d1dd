"""WebSocket echo through bridge in each direction, beside the native servers.

Run it with ``python -m benchmarks.websocket_echo`` (``--quick`` for a smoke run). It is separate
from the HTTP harness (``python -m benchmarks``) and uses no wrk: the client is the ``websockets``
package (asyncio, compression off, so the echo measures the bridging, not deflate).

Configurations (each one server process with one worker on 127.0.0.1, stopped by PID):

====================  ===============================================  =======================
name                  what                                             compared with
====================  ===============================================  =======================
``fastapi-uvicorn``   FastAPI WebSocket on Uvicorn (native)            -
``fastapi-gunicorn``  the same app through AsgiToWsgi, Gunicorn        ``fastapi-uvicorn``
                      gthread (A->W)
``flask-gunicorn``    flask-sock on Gunicorn gthread (native)          -
``flask-uvicorn``     the same app through WsgiToAsgi on Uvicorn       ``flask-gunicorn``
                      (W->A)
====================  ===============================================  =======================

Two measurements per configuration and round: **latency**, ``--messages`` sequential round trips
of a 32-byte text message on one connection (median and 99th percentile), and **throughput**,
``--connections`` connections each echoing sequentially for ``--duration`` seconds (messages per
second, all connections together). Rounds interleave the configurations; each figure is the
median over the rounds. Every wait is bounded; a failed configuration is reported, not fatal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import websockets

from benchmarks.servers import HOST, running

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 30.0
MESSAGE = "x" * 32
#: name -> (argv for a port, the native configuration it is compared with)
CONFIGS: dict[str, tuple[Callable[[int], list[str]], str | None]] = {}


def _uvicorn(target: str) -> Callable[[int], list[str]]:
    return lambda port: [
        sys.executable, "-m", "uvicorn", target, "--host", HOST, "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--ws", "websockets", "--lifespan", "off",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


def _gunicorn(target: str) -> Callable[[int], list[str]]:
    return lambda port: [
        sys.executable, "-m", "gunicorn", target, "--bind", f"{HOST}:{port}", "--workers", "1",
        "--worker-class", "gthread", "--threads", "32", "--timeout", "120",
        "--graceful-timeout", "3", "--log-level", "warning",
    ]  # fmt: skip


CONFIGS.update(
    {
        "fastapi-uvicorn": (_uvicorn("benchmarks.apps.websocket_echo:fastapi_native"), None),
        "fastapi-gunicorn": (
            _gunicorn("benchmarks.apps.websocket_echo:fastapi_bridged"),
            "fastapi-uvicorn",
        ),
        "flask-gunicorn": (_gunicorn("benchmarks.apps.websocket_echo:flask_native"), None),
        "flask-uvicorn": (
            _uvicorn("benchmarks.apps.websocket_echo:flask_bridged"),
            "flask-gunicorn",
        ),
    }
)


def _probe(port: int) -> bool:
    import http.client

    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", "/hello")
        return connection.getresponse().status == 200
    finally:
        connection.close()


async def latency(port: int, messages: int) -> list[float]:
    """Round-trip times (seconds) of ``messages`` sequential echoes on one connection."""
    url = f"ws://{HOST}:{port}/echo"
    async with websockets.connect(url, compression=None, open_timeout=TIMEOUT) as ws:
        for _ in range(min(100, messages)):  # warm-up
            await ws.send(MESSAGE)
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        times = []
        for _ in range(messages):
            start = time.perf_counter()
            await ws.send(MESSAGE)
            await asyncio.wait_for(ws.recv(), TIMEOUT)
            times.append(time.perf_counter() - start)
    return times


async def throughput(port: int, connections: int, duration: float) -> float:
    """Messages per second echoed by ``connections`` connections in ``duration`` seconds."""
    url = f"ws://{HOST}:{port}/echo"
    deadline = time.monotonic() + duration
    counts = [0] * connections

    async def one(number: int) -> None:
        async with websockets.connect(url, compression=None, open_timeout=TIMEOUT) as ws:
            while time.monotonic() < deadline:
                await ws.send(MESSAGE)
                await asyncio.wait_for(ws.recv(), TIMEOUT)
                counts[number] += 1

    start = time.monotonic()
    await asyncio.gather(*(one(number) for number in range(connections)))
    return sum(counts) / (time.monotonic() - start)


def measure(name: str, args: argparse.Namespace) -> tuple[float, float, float]:
    """Start configuration ``name`` and return (median latency, p99 latency, messages/s)."""
    argv, _ = CONFIGS[name]
    with running(argv, _probe, cwd=REPO) as server:
        times = asyncio.run(latency(server.port, args.messages))
        rate = asyncio.run(throughput(server.port, args.connections, args.duration))
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1], rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--quick", action="store_true", help="1 round, 200 messages, 1 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.messages, args.duration = 1, 200, 1.0
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in CONFIGS}
    failed = False
    for round_ in range(1, args.rounds + 1):
        for name in CONFIGS:
            try:
                results[name].append(measure(name, args))
            except Exception as exc:  # report and go on: one broken server is one missing line
                failed = True
                print(f"round {round_} {name}: failed: {exc!r}", file=sys.stderr)
                continue
            median, p99, rate = results[name][-1]
            print(
                f"round {round_} {name}: {median * 1e6:.0f} us median, {p99 * 1e6:.0f} us p99, "
                f"{rate:.0f} msg/s",
                file=sys.stderr,
            )
    print(report(results, args))
    return 1 if failed else 0


def report(results: dict[str, list[tuple[float, float, float]]], args: argparse.Namespace) -> str:
    """The Markdown table of medians over the rounds, with ratios to the native configuration."""
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    lines = [
        f"WebSocket echo, {args.rounds} round(s), {args.messages} round trips, "
        f"{args.connections} connections x {args.duration:g} s; load average {load}",
        "",
        "| configuration | median RTT (us) | p99 RTT (us) | messages/s | vs native: RTT | msg/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    medians = {
        name: tuple(statistics.median(run[i] for run in runs) for i in range(3))
        for name, runs in results.items()
        if runs
    }
    for name, (median, p99, rate) in medians.items():
        native = CONFIGS[name][1]
        ratio_rtt = ratio_rate = "-"
        if native is not None and native in medians:
            ratio_rtt = f"{median / medians[native][0]:.2f}x"
            ratio_rate = f"{rate / medians[native][2]:.2f}x"
        lines.append(
            f"| {name} | {median * 1e6:.0f} | {p99 * 1e6:.0f} | {rate:.0f} | {ratio_rtt} | "
            f"{ratio_rate} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
