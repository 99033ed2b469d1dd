"""The benchmark harness's pure parts: wrk output parsing, the configuration matrix, medians,
ratios, target verdicts, the results file, the baseline's extraction and the docs page's summary.

No load is run here; ``scripts/bench`` does that.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from types import MappingProxyType

import pytest
from benchmarks import page, run
from benchmarks.apps import HELLO, served
from benchmarks.apps.asgi_app import app
from benchmarks.apps.wsgi_app import app as wsgi_app
from benchmarks.baseline import (
    BaselineError,
    check_relative_imports,
    extracted,
    unpack,
)
from benchmarks.floor import GreenletFloor, HandOffFloor
from benchmarks.load import MARKER, lua_script, parse_wrk_output
from benchmarks.measure import REPO, Sample, describe_failure
from benchmarks.panels import panels
from benchmarks.report import format_direction, format_targets
from benchmarks.scenarios import (
    ASGI_TO_WSGI,
    SCENARIOS,
    WSGI_TO_ASGI,
    Config,
    app_for,
    configurations,
    implementations,
)
from benchmarks.servers import ServerFailed
from benchmarks.summary import Results, Summary, from_json, ratios, to_json
from benchmarks.targets import Target

import bridge

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


def _summary(
    impl: str,
    *values: float | None,
    growth: float = 1.0,
    scenario: str = "hello",
    server: str = "uvicorn",
) -> Summary:
    direction = WSGI_TO_ASGI if server == "uvicorn" else ASGI_TO_WSGI
    runs_on = impl if impl in ("granian-wsgi", "gunicorn-asgi") else server
    app = app_for(SCENARIOS[scenario], runs_on, impl)
    config = Config(direction, SCENARIOS[scenario], server, impl, app, runs_on)
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
        pytest.param("flask-hello", "granian-wsgi", "granian-wsgi", "flask", id="flask-on-granian"),
        pytest.param("django-hello", "uvicorn", "native", "django-asgi", id="django-own-asgi"),
        pytest.param("django-hello", "uvicorn", "bridge", "django-wsgi", id="django-bridged"),
        pytest.param(
            "django-hello", "gunicorn-sync", "gunicorn-sync", "django-wsgi", id="django-on-sync"
        ),
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


def scenarios_of(direction: str, impl: str, *, baseline: bool = False) -> set[str]:
    """The scenarios a full run measures ``impl`` on, in ``direction``."""
    configs = configurations((direction,), tuple(SCENARIOS), baseline=baseline)
    return {c.scenario.name for c in configs if c.impl == impl}


def _config(direction: str, scenario: str, server: str, impl: str) -> Config:
    """The configuration of a full run (with a baseline) for one cell of the report."""
    found = [
        c
        for c in configurations((direction,), (scenario,), baseline=True)
        if (c.server, c.impl) == (server, impl)
    ]
    assert len(found) == 1, found
    return found[0]


def test_what_users_run_instead_serves_the_wrapped_app_on_its_own_server() -> None:
    """Granian's WSGI interface and Gunicorn serve the WSGI app natively beside WsgiToAsgi's
    row; Gunicorn's asgi worker serves the ASGI app beside AsgiToWsgi's rows; each gets the
    connection count of its own server."""
    granian = _config(WSGI_TO_ASGI, "flask-hello", "uvicorn", "granian-wsgi")
    assert (granian.runs_on, granian.app, granian.connections) == ("granian-wsgi", "flask", 32)
    argv = granian.argv(8000)
    assert argv[argv.index("--interface") + 1] == "wsgi"
    assert argv[-1] == "benchmarks.apps.flask_app:app"
    django = _config(WSGI_TO_ASGI, "django-hello", "uvicorn", "gunicorn-sync")
    assert (django.app, django.connections) == ("django-wsgi", 2)
    assert "sync" in django.argv(8000)
    asgi_worker = _config(ASGI_TO_WSGI, "hello", "gunicorn-sync", "gunicorn-asgi")
    assert (asgi_worker.app, asgi_worker.connections) == ("asgi", 8)
    argv = asgi_worker.argv(8000)
    assert argv[argv.index("--worker-class") + 1] == "asgi"
    assert scenarios_of(WSGI_TO_ASGI, "gunicorn-sync") == {"hello", "flask-hello", "django-hello"}
    assert "sleep-await" not in scenarios_of(WSGI_TO_ASGI, "granian-wsgi")  # it needs await_


def test_a_setup_shared_by_two_rows_is_one_measurement() -> None:
    """Gunicorn's asgi worker appears in the sync and the gthread rows, and Gunicorn sync
    serving the raw WSGI app is both AsgiToWsgi's native row and WsgiToAsgi's 'instead' bar:
    the same server, app and load, so the harness measures each once."""
    sync_row = _config(ASGI_TO_WSGI, "hello", "gunicorn-sync", "gunicorn-asgi")
    gthread_row = _config(ASGI_TO_WSGI, "hello", "gunicorn-gthread", "gunicorn-asgi")
    assert sync_row != gthread_row
    assert sync_row.setup == gthread_row.setup
    instead = _config(WSGI_TO_ASGI, "hello", "uvicorn", "gunicorn-sync")
    assert instead.setup == _config(ASGI_TO_WSGI, "hello", "gunicorn-sync", "native").setup
    bridge = _config(ASGI_TO_WSGI, "hello", "gunicorn-sync", "bridge")
    assert bridge.setup != _config(ASGI_TO_WSGI, "hello", "gunicorn-sync", "bridge@base").setup


def test_the_baseline_columns_run_only_with_a_baseline() -> None:
    assert "bridge@base" not in implementations(ASGI_TO_WSGI)
    assert implementations(WSGI_TO_ASGI, baseline=True)[1:5] == (
        "bridge",
        "bridge@base",
        "bridge-greenlet",
        "bridge-greenlet@base",
    )
    assert scenarios_of(WSGI_TO_ASGI, "bridge-greenlet@base", baseline=True) == scenarios_of(
        WSGI_TO_ASGI, "bridge-greenlet"
    )  # sleep-await included: the baseline's own await_ serves it


def test_an_adapter_variant_is_one_line_in_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    """A row for a new AsgiToWsgi option: its column, its ratios, and "not available" with the
    reason while the installed bridge lacks the option."""
    variant = served.Adapter("bridge", "AsgiToWsgi", {"no_such_option": True})
    adapters = {**served.ADAPTERS, ("bridge-variant", "asgi"): variant}
    monkeypatch.setattr(served, "ADAPTERS", MappingProxyType(adapters))
    assert "bridge-variant" in implementations(ASGI_TO_WSGI)
    assert ("bridge-variant", "native") in ratios(ASGI_TO_WSGI)
    config = _config(ASGI_TO_WSGI, "hello", "gunicorn-gthread", "bridge-variant")
    assert config.unavailable_reason() == "bridge.AsgiToWsgi has no option no_such_option"
    assert served.target("bridge-variant", "asgi").endswith(":bridge_variant__asgi")


def test_served_attributes_are_python_names_that_build_their_adapter() -> None:
    """Gunicorn parses ``module:name`` as a Python name, so ``@`` and ``-`` are spelled out."""
    assert served.target("bridge@base", "wsgi") == "benchmarks.apps.served:bridge_at_base__wsgi"
    assert served.target("native", "django-asgi") == "benchmarks.apps.django_app:asgi"
    assert all(name.isidentifier() for name in served._ATTRIBUTES)
    assert type(served.bridge_greenlet__wsgi).__name__ == "WsgiToAsgi"
    with pytest.raises(AttributeError, match="no attribute 'bridge__nothing'"):
        served.bridge__nothing  # noqa: B018


def test_run_refuses_unknown_implementations_and_base_without_baseline(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        run.parse_args(["--implementations", "bridge,bridge@base"])
    assert "an @base implementation needs --baseline REV" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run.parse_args(["--implementations", "bridge,nobody"])
    assert "unknown implementation(s) nobody" in capsys.readouterr().err
    args = run.parse_args(["--baseline", "HEAD", "--implementations", "bridge,bridge@base"])
    assert args.baseline == "HEAD"


def _package(tmp_path: Path, source: str) -> Path:
    package = tmp_path / "bridge_base"
    package.mkdir()
    (package / "__init__.py").write_text("from ._core import thing\n")
    (package / "_core.py").write_text(source)
    return package


@pytest.mark.parametrize(
    ("lines", "where"),
    [
        pytest.param("import bridge\n", "_core.py:2", id="import-bridge"),
        pytest.param("from bridge._errors import E\n", "_core.py:2", id="from-bridge-module"),
        pytest.param(
            "if TYPE_CHECKING:\n    import bridge._types\n", "_core.py:3", id="type-checking-only"
        ),
    ],
)
def test_the_baseline_refuses_absolute_imports_of_bridge(
    tmp_path: Path, lines: str, where: str
) -> None:
    """An absolute import would run the current code under the baseline's name."""
    package = _package(tmp_path, f"thing = 1\n{lines}")
    with pytest.raises(BaselineError, match=f"make these imports relative: bridge_base/{where}$"):
        check_relative_imports(package)


def test_the_baseline_accepts_relative_imports_and_other_packages(tmp_path: Path) -> None:
    package = _package(tmp_path, "from . import _x\nimport bridgeport\nthing = 1\n")
    check_relative_imports(package)  # no error


def test_the_current_source_tree_imports_only_relatively() -> None:
    """What a later ``--baseline`` at today's commit relies on."""
    check_relative_imports(REPO / "src" / "bridge")


def test_unpack_renames_src_bridge_to_bridge_base(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in (("src/bridge/__init__.py", b"x = 1\n"), ("README.md", b"no\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    package = unpack(buffer.getvalue(), tmp_path)
    assert package == tmp_path / "bridge_base"
    assert [p.name for p in package.iterdir()] == ["__init__.py"]
    assert not (tmp_path / "README.md").exists()


def test_the_baseline_at_head_is_importable_as_bridge_base() -> None:
    """``git archive HEAD src/bridge`` becomes a package whose adapters are its own classes,
    and the servers of the @base configurations (only those) get it on their path."""
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    with extracted("HEAD", repo=REPO) as baseline:
        assert baseline.commit == head
        adapter = served.ADAPTERS[("bridge-greenlet@base", "wsgi")]
        assert adapter.unavailable_reason() is None
        wrapped = adapter.wrap(wsgi_app)
        # by identity: the classes may well say __module__ == "bridge" in both packages
        assert type(wrapped) is sys.modules["bridge_base"].WsgiToAsgi
        assert type(wrapped) is not bridge.WsgiToAsgi
        env = baseline.server_env("bridge@base")
        assert env["BENCH_BRIDGE_PACKAGE"] == "bridge_base"
        assert env["PYTHONPATH"].split(":")[0] == str(baseline.path)
        assert baseline.server_env("bridge") == {}
        path = baseline.path
    assert not path.exists()


def test_an_unknown_baseline_revision_is_refused() -> None:
    with (
        pytest.raises(BaselineError, match="'no-such-revision' is not a commit"),
        extracted("no-such-revision", repo=REPO),
    ):
        pass  # pragma: no cover


def _run_results() -> Results:
    """A small run of both directions: n/a, failed and starred cells, an 'instead' server."""
    native_sse = _summary("native", 8.0, scenario="sse", server="gunicorn-sync")
    return Results(
        [
            _summary("native", 30000.0),
            _summary("bridge", 12000.0, 11000.0, None),
            _summary("a2wsgi", 3000.0),
            Summary(_summary("asgiref").config, (), unavailable="not installed"),
            _summary("granian-wsgi", 24000.0),
            _summary("native", 5000.0, server="gunicorn-sync"),
            _summary("bridge", 2500.0, server="gunicorn-sync"),
            _summary("gunicorn-asgi", 20000.0, server="gunicorn-sync"),
            _summary("gunicorn-asgi", 20000.0, server="gunicorn-gthread"),
            _summary("bridge", 2000.0, server="gunicorn-gthread"),
            native_sse,
            _summary("bridge", 2.0, scenario="sse", server="gunicorn-sync"),
        ]
    )


def test_the_results_file_reads_back_to_the_same_report() -> None:
    results = _run_results()
    data = json.loads(json.dumps(to_json(results)))
    again = from_json(data)
    for direction in (WSGI_TO_ASGI, ASGI_TO_WSGI):
        assert format_direction(again, direction, 3) == format_direction(results, direction, 3)
    assert format_targets(again) == format_targets(results)


def test_the_report_shows_only_ratio_columns_with_a_value() -> None:
    table = format_direction(_run_results(), WSGI_TO_ASGI, rounds=3)
    ratio_header = next(line for line in table.splitlines() if line.startswith("ratios"))
    assert ratio_header.split() == [
        "ratios",
        "of",
        "medians",
        "bridge/native",
        "bridge/a2wsgi",
        "bridge/granian",
    ]
    assert "granian-wsgi: the app on granian-wsgi (WSGI, no adapter); connections: hello 32" in (
        table
    )


def test_the_page_summary_answers_in_speed_ratios() -> None:
    """Above 1x bridge is faster, for a time (SSE: lower is better) as for a rate."""
    results = _run_results()
    questions = [
        ("faster?", (page.Item("hello", WSGI_TO_ASGI, "hello", "a2wsgi"),)),
        ("sse?", (page.Item("events", ASGI_TO_WSGI, "sse", "native"),)),
        ("django?", (page.Item("view", WSGI_TO_ASGI, "django-hello", "native"),)),
    ]
    table = page.summary_table(results, questions).splitlines()
    assert table[2] == "| faster? | **3.83x** hello |"  # median 11,500 / 3,000
    assert table[3] == "| sse? | **4.00x** events |"  # 8 ms native / 2 ms bridge
    assert table[4] == "| django? | not measured in this run |"


def test_the_page_is_rewritten_between_its_markers_only() -> None:
    text = f"# Title\n\nintro\n\n{page.START}\nold table\n{page.END}\n\nprose\n"
    assert page.replace_between_markers(text, "new table\n") == (
        f"# Title\n\nintro\n\n{page.START}\nnew table\n{page.END}\n\nprose\n"
    )
    with pytest.raises(ValueError, match="the page needs the markers"):
        page.replace_between_markers("# no markers\n", "new table")
    docs = (REPO / "docs" / "benchmarks.md").read_text()
    assert docs.index(page.START) < docs.index(page.END) < docs.index("## How to reproduce")


def test_the_page_refuses_results_of_one_direction(tmp_path: Path) -> None:
    """The summary and both charts must come from one run."""
    one = Results([_summary("native", 30000.0), _summary("bridge", 12000.0)])
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"meta": {}, **to_json(one)}))
    with pytest.raises(ValueError, match="has no asgi-to-wsgi rows"):
        page.write_page(path, tmp_path)


def test_the_charts_leave_out_what_did_not_run_and_group_by_server() -> None:
    """No bar for n/a or failed configurations; Gunicorn's asgi worker once per panel; one
    native reference per worker class; a panel with a single result is left out."""
    results = _run_results()
    (_, scenario, groups), *rest = panels(results, WSGI_TO_ASGI)
    assert (scenario, rest) == ("hello", [])
    assert [bar.label for group in groups for bar in group.bars] == [
        "bridge",
        "a2wsgi",
        "Granian --interface wsgi",
    ]
    assert groups[0].native == ("native ASGI app", 30000.0)
    by_scenario = {scenario: groups for _, scenario, groups in panels(results, ASGI_TO_WSGI)}
    hello = by_scenario["hello"]
    assert [g.native for g in hello] == [("native WSGI app (sync)", 5000.0), None, None]
    assert [[bar.label for bar in g.bars] for g in hello] == [
        ["bridge (sync)"],
        ["bridge (gthread)"],
        ["Gunicorn -k asgi"],
    ]
    alone = Results([_summary("bridge", 12000.0), _summary("asgiref", None)])
    assert panels(alone, WSGI_TO_ASGI) == []  # one bar, no native: not a comparison


def test_the_page_charts_leave_out_yardsticks_and_the_baseline() -> None:
    results = Results(
        [
            _summary("native", 30000.0),
            _summary("bridge", 12000.0),
            _summary("bridge@base", 11000.0),
            _summary("greenlet-floor", 29000.0),
        ]
    )
    labels = [
        b.label for _, _, groups in panels(results, WSGI_TO_ASGI) for g in groups for b in g.bars
    ]
    assert labels == ["bridge", "bridge (baseline)", "yardstick: bare PEP 3333 call"]
    labels = [
        b.label
        for _, _, groups in panels(results, WSGI_TO_ASGI, page=True)
        for g in groups
        for b in g.bars
    ]
    assert labels == ["bridge"]
