"""The benchmark harness's pure parts: wrk output parsing, medians, ratios and target verdicts.

No load is run here; ``scripts/bench`` does that.
"""

from __future__ import annotations

import io

import pytest
from benchmarks.apps import HELLO
from benchmarks.apps.asgi_app import app
from benchmarks.apps.wsgi_app import app as wsgi_app
from benchmarks.floor import GreenletFloor, HandOffFloor
from benchmarks.load import MARKER, lua_script, parse_wrk_output
from benchmarks.measure import Sample, describe_failure
from benchmarks.report import Results, Summary, format_direction, format_targets
from benchmarks.scenarios import (
    ASGI_TO_WSGI,
    SCENARIOS,
    WSGI_TO_ASGI,
    Config,
    app_for,
    configurations,
)
from benchmarks.servers import ServerFailed
from benchmarks.targets import Target

# What wrk 4.1.0 printed for a 1 s run of hello on Uvicorn, with the done() hook's line.
WRK_SAMPLE = f"""\
Running 1s test @ http://127.0.0.1:41235/hello
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.98ms  312.44us   5.11ms   87.50%
    Req/Sec    32.92k     1.68k   34.51k    80.00%
  32751 requests in 1.00s, 4.31MB read
  Non-2xx or 3xx responses: 12
Requests/sec:  32718.94
Transfer/sec:      4.31MB
{MARKER}{{"requests":32751,"bytes":4520038,"duration_us":1000982,"errors":{{"connect":0,\
"read":1,"write":0,"status":12,"timeout":2}},"latency_p50_us":912,"latency_p99_us":2488}}
"""


def test_parse_wrk_output_reads_the_exact_summary() -> None:
    result = parse_wrk_output(WRK_SAMPLE)
    assert (result.requests, result.bytes_read) == (32751, 4520038)
    assert result.duration_s == pytest.approx(1.000982)
    assert result.ok_requests == 32751 - 12
    assert result.socket_errors == 3
    assert (result.latency_p50_ms, result.latency_p99_ms) == (0.912, 2.488)


def test_parse_wrk_output_without_the_hook_line_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no BENCH-WRK-JSON line"):
        parse_wrk_output(WRK_SAMPLE.split(MARKER)[0])


def test_lua_script_posts_a_body_of_the_given_size() -> None:
    script = lua_script(method="POST", body_size=16 * 1024 * 1024)
    assert 'wrk.method = "POST"' in script
    assert 'string.rep("x", 16777216)' in script
    assert MARKER in script


def _summary(impl: str, *values: float | None, growth: float = 1.0) -> Summary:
    config = Config(WSGI_TO_ASGI, SCENARIOS["hello"], "uvicorn", impl, "wsgi")
    samples = tuple(
        Sample(v, details={"rss_growth_mib": growth}) if v is not None else Sample(None, "boom")
        for v in values
    )
    return Summary(config, samples)


def test_results_take_medians_over_rounds_and_ratios_of_medians() -> None:
    results = Results(
        [
            _summary(
                "bridge", 300.0, 100.0, 200.0
            ),  # median 200; the order of rounds is irrelevant
            _summary("a2wsgi", 50.0, None, 70.0),  # a failed round is left out: median 60
        ]
    )
    config = results.summaries[(WSGI_TO_ASGI, "hello", "uvicorn", "bridge")].config
    assert results.lookup(WSGI_TO_ASGI, "hello", "uvicorn", "bridge") == (200.0, 1.0)
    assert results.ratio(config, "bridge", "a2wsgi") == pytest.approx(200.0 / 60.0)
    assert results.ratio(config, "bridge", "asgiref") is None  # not measured: no ratio


@pytest.mark.parametrize(
    ("target", "verdict"),
    [
        pytest.param(
            Target(3, WSGI_TO_ASGI, "hello", "uvicorn", "bridge", 3.0, "a2wsgi"),
            "met",
            id="ratio-at-least-met",
        ),
        pytest.param(
            Target(3, WSGI_TO_ASGI, "hello", "uvicorn", "bridge", 4.0, "a2wsgi"),
            "MISSED",
            id="ratio-at-least-missed",
        ),
        pytest.param(
            Target(3, WSGI_TO_ASGI, "hello", "uvicorn", "bridge", 150.0), "met", id="absolute"
        ),
        pytest.param(
            Target(3, WSGI_TO_ASGI, "hello", "uvicorn", "bridge", 0.5, at_most=True, rss=True),
            "MISSED",
            id="rss-growth-at-most",
        ),
        pytest.param(
            Target(3, WSGI_TO_ASGI, "hello", "uvicorn", "bridge", 1.0, "asgiref"),
            "not measured",
            id="denominator-missing",
        ),
    ],
)
def test_targets_are_judged_on_the_medians(target: Target, verdict: str) -> None:
    results = Results([_summary("bridge", 200.0), _summary("a2wsgi", 60.0)])
    line = format_targets(results, [target]).splitlines()[1]
    assert line.endswith(f"  {verdict}")


def test_report_marks_unavailable_and_failed_configurations() -> None:
    results = Results(
        [
            _summary("bridge", None),  # its only round failed
            Summary(_summary("a2wsgi").config, (), unavailable="not installed"),
        ]
    )
    table = format_direction(results, WSGI_TO_ASGI, rounds=1)
    assert "failed*" in table
    assert "n/a" in table
    assert "* hello@uvicorn bridge: round failed: boom" in table


def test_a_server_that_failed_to_boot_is_reported_by_its_exception_line() -> None:
    log = (
        "server exited with 3:\nTraceback (most recent call last):\n  File ...\n"
        "ImportError: cannot import name 'AsgiToWsgi'\n[INFO] Worker exiting\n"
        "Reason: Worker failed to boot."
    )
    assert describe_failure(ServerFailed(log)) == (
        "server exited with 3: ... ImportError: cannot import name 'AsgiToWsgi'"
    )


@pytest.mark.parametrize(
    ("scenario", "server", "impl", "app"),
    [
        pytest.param("hello", "uvicorn", "native", "asgi", id="native-asgi-ceiling"),
        pytest.param("hello", "uvicorn", "a2wsgi", "wsgi", id="adapter-wraps-the-wsgi-app"),
        pytest.param("hello", "gunicorn-sync", "bridge", "asgi", id="adapter-wraps-the-asgi-app"),
        pytest.param("flask-hello", "uvicorn", "bridge", "flask", id="framework-through-adapter"),
        pytest.param("flask-hello", "uvicorn", "native", None, id="no-native-flask-on-uvicorn"),
        pytest.param("fastapi-hello", "gunicorn-asgi", "native", "fastapi", id="fastapi-on-asgi"),
    ],
)
def test_each_configuration_serves_the_app_of_its_interface(
    scenario: str, server: str, impl: str, app: str | None
) -> None:
    assert app_for(SCENARIOS[scenario], server, impl) == app


def test_the_hand_off_floor_serves_hello_and_only_hello() -> None:
    """The yardstick adapter runs the same ASGI app's short response (and is measured only on
    ``hello``: it has no streaming, body or lifespan)."""
    floor = HandOffFloor(app)
    started: list[str] = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/hello", "wsgi.input": io.BytesIO()}
    try:
        body = floor(environ, lambda status, headers: started.append(status))
    finally:
        floor.close()
    assert (started, b"".join(body)) == (["200 OK"], HELLO)
    assert scenarios_of(ASGI_TO_WSGI, "floor") == {"hello"}
    assert len(scenarios_of(ASGI_TO_WSGI, "bridge")) > 1  # the filter, not the table, limits it


@pytest.mark.anyio
async def test_the_greenlet_floor_serves_hello_through_the_wsgi_app() -> None:
    """The greenlet runner's yardstick calls the same PEP 3333 app and sends its answer as one
    start and one body message (hello only, like the other floor)."""
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/hello", "query_string": b"", "headers": []}
    await GreenletFloor(wsgi_app)(scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert (sent[0]["status"], sent[1]["body"]) == (200, HELLO)
    assert scenarios_of(WSGI_TO_ASGI, "greenlet-floor") == {"hello"}
    assert len(scenarios_of(WSGI_TO_ASGI, "bridge-greenlet")) > 1


def scenarios_of(direction: str, impl: str) -> set[str]:
    """The scenarios a full run measures ``impl`` on, in ``direction``."""
    configs = configurations((direction,), tuple(SCENARIOS))
    return {c.scenario.name for c in configs if c.impl == impl}
