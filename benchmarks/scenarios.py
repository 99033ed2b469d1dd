"""What is measured: the scenarios, the servers, and the configurations (row x implementation).

A **row** of the report is one scenario on one server of its direction (Uvicorn for a WSGI app
on an ASGI server; Gunicorn sync and gthread for an ASGI app on a WSGI server). Its
**implementations** are the columns: ``native`` (the app of the server's own interface: the
ceiling), each adapter of ``served.ADAPTERS`` that wraps the other interface, and the servers
of :data:`INSTEAD`, which serve the wrapped app natively (what a user runs instead of any
bridge, e.g. Granian's WSGI interface instead of a WSGI app on Uvicorn).

Connection counts are per server kind (:data:`CONNECTIONS`). Uvicorn and Granian serve many
connections on one loop: hello 32, sleep 200, and 4 for stream and upload, where each request
moves 16 MiB. A Gunicorn **sync** worker serves one connection at a time and closes it after
each response, so wrk keeps 2: one being served and one waiting in the accept queue, so the
worker never idles while wrk reconnects. **gthread** (8 threads) and Gunicorn's **asgi** worker
get 8, one per thread, except for the bulk scenarios: stream and upload use 2 on every Gunicorn
worker, enough to keep it busy and few enough that the requests still in flight when a run ends
(not counted by upload's MiB/s) are a small error. SSE is one client, one request at a time. An
implementation on another server than its row's (``INSTEAD``) gets that server's count.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from benchmarks.apps import UPLOAD_SIZE, served
from benchmarks.servers import granian_argv, gunicorn_argv, uvicorn_argv

WSGI_TO_ASGI = "wsgi-to-asgi"
ASGI_TO_WSGI = "asgi-to-wsgi"
DIRECTIONS = (WSGI_TO_ASGI, ASGI_TO_WSGI)
#: direction -> the interface of the app that is wrapped (served through an adapter)
WRAPPED: Mapping[str, str] = MappingProxyType({WSGI_TO_ASGI: "wsgi", ASGI_TO_WSGI: "asgi"})
_RAW = (("wsgi", "wsgi"), ("asgi", "asgi"))


@dataclass(frozen=True)
class Scenario:
    """One kind of request and how its result is expressed."""

    name: str
    path: str
    unit: str  # "req/s", "MiB/s" (higher is better) or "ms" (time to last byte, lower is better)
    apps: tuple[tuple[str, str], ...] = _RAW  # (interface, key of served.APPS) that answer it
    method: str = "GET"
    body_size: int = 0  # request body wrk posts
    payload: int = 0  # bytes per request the MiB/s figure counts (0: wrk's bytes read)
    timeout: int = 10  # wrk's per-request timeout, seconds
    directions: tuple[str, ...] = DIRECTIONS  # where it is a row (if it has the wrapped app)

    @property
    def higher_is_better(self) -> bool:
        """Whether a bigger number is a better result."""
        return self.unit != "ms"

    def app(self, interface: str) -> str | None:
        """The app answering this scenario through ``interface`` ("wsgi" or "asgi"), if any."""
        return dict(self.apps).get(interface)


# "sleep-await" is "sleep" with the WSGI view awaiting asyncio.sleep(0.05) through
# bridge.await_ on the server's loop, so only bridge runs it (see ONLY_IMPLEMENTATIONS).
SCENARIOS: Mapping[str, Scenario] = MappingProxyType(
    {
        s.name: s
        for s in (
            Scenario("hello", "/hello", "req/s"),
            Scenario("stream", "/stream", "MiB/s", timeout=30),
            Scenario(
                "upload",
                "/upload",
                "MiB/s",
                method="POST",
                body_size=UPLOAD_SIZE,
                payload=UPLOAD_SIZE,
                timeout=30,
            ),
            Scenario("sleep", "/sleep", "req/s", timeout=30),
            Scenario("sleep-await", "/sleep-await", "req/s", timeout=30),
            Scenario("sse", "/sse", "ms"),
            Scenario("flask-hello", "/hello", "req/s", (("wsgi", "flask"),)),
            Scenario("fastapi-hello", "/hello", "req/s", (("asgi", "fastapi"),)),
            Scenario(
                "django-hello",
                "/hello",
                "req/s",
                (("wsgi", "django-wsgi"), ("asgi", "django-asgi")),
                directions=(WSGI_TO_ASGI,),
            ),
        )
    }
)

_EIGHT_THREADS = {"hello": 8, "stream": 2, "upload": 2, "sleep": 8, "sse": 1, "fastapi-hello": 8}
_ONE_LOOP = {"hello": 32, "stream": 4, "upload": 4, "sleep": 200, "flask-hello": 32}

#: server -> (scenario -> wrk connections); a scenario missing here is not run on that server.
CONNECTIONS: Mapping[str, Mapping[str, int]] = MappingProxyType(
    {
        "uvicorn": _ONE_LOOP | {"sleep-await": 200, "django-hello": 32},
        "granian-wsgi": _ONE_LOOP | {"django-hello": 32},
        "gunicorn-sync": {
            "hello": 2,
            "stream": 2,
            "upload": 2,
            "sse": 1,
            "fastapi-hello": 2,
            "flask-hello": 2,
            "django-hello": 2,
        },
        "gunicorn-gthread": _EIGHT_THREADS,
        "gunicorn-asgi": _EIGHT_THREADS,
    }
)

#: server -> (the interface it serves, its command line for a target and a port)
SERVERS: Mapping[str, tuple[str, Callable[[str, int], list[str]]]] = MappingProxyType(
    {
        "uvicorn": ("asgi", uvicorn_argv),
        "granian-wsgi": ("wsgi", granian_argv),
        "gunicorn-sync": ("wsgi", lambda target, port: gunicorn_argv(target, port, "sync")),
        "gunicorn-gthread": ("wsgi", lambda target, port: gunicorn_argv(target, port, "gthread")),
        "gunicorn-asgi": ("asgi", lambda target, port: gunicorn_argv(target, port, "asgi")),
    }
)

#: direction -> the servers whose rows it has
ROW_SERVERS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {WSGI_TO_ASGI: ("uvicorn",), ASGI_TO_WSGI: ("gunicorn-sync", "gunicorn-gthread")}
)

#: implementation -> the only row servers it runs on (the loop on the server's thread needs a
#: server that calls from one thread: on gthread, loop_thread="never" is refused)
ONLY_SERVERS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"bridge-onthread": ("gunicorn-sync",), "floor-onthread": ("gunicorn-sync",)}
)

#: what users run instead of any bridge: each is a server (and the implementation's name) that
#: serves the wrapped app natively, in the rows of the direction whose wrapped interface it speaks
INSTEAD: tuple[str, ...] = ("granian-wsgi", "gunicorn-sync", "gunicorn-asgi")

#: scenario -> the only implementations that can serve it (the others lack bridge.await_);
#: an "@base" implementation counts as the one it is the baseline of.
ONLY_IMPLEMENTATIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"sleep-await": ("native", "bridge", "bridge-greenlet")}
)

#: implementation -> the only scenarios it is measured on (the yardsticks of benchmarks/floor.py
#: answer nothing but a short response; Gunicorn sync is shown beside WsgiToAsgi for the
#: short responses only, its bulk numbers are in the other direction's native column)
ONLY_SCENARIOS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "floor": ("hello",),
        "floor-onthread": ("hello",),
        "greenlet-floor": ("hello",),
        "gunicorn-sync": ("hello", "flask-hello", "django-hello"),
    }
)


@dataclass(frozen=True)
class Config:
    """One measured configuration: a scenario's app, as ``impl`` serves it, in ``server``'s row.

    ``runs_on`` is the server actually started: the row's, or an :data:`INSTEAD` server.
    """

    direction: str
    scenario: Scenario
    server: str
    impl: str
    app: str | None  # key of served.APPS; None when the scenario has no form for this impl
    runs_on: str = ""
    connections: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        runs_on = self.runs_on or (self.impl if self.impl in INSTEAD else self.server)
        object.__setattr__(self, "runs_on", runs_on)
        if not self.connections:
            object.__setattr__(self, "connections", connections_for(self.scenario.name, runs_on))

    @property
    def setup(self) -> tuple[str, str, str, int, str]:
        """What is started and loaded: configurations with the same setup share a measurement."""
        impl = "native" if self.impl in INSTEAD else self.impl
        return (self.scenario.name, self.runs_on, impl, self.connections, str(self.app))

    def unavailable_reason(self) -> str | None:
        """Why this configuration cannot run here, or ``None`` if it can."""
        if self.app is None:
            return "no native form of this scenario on this server"
        requirement = served.APPS[self.app][2]
        if requirement and importlib.util.find_spec(requirement) is None:
            return f"{requirement} is not installed"
        if self.runs_on == "gunicorn-asgi" and not _gunicorn_has_asgi_worker():
            return "the installed gunicorn has no asgi worker class (Gunicorn 24.0 added it)"
        if self.runs_on == "granian-wsgi" and importlib.util.find_spec("granian") is None:
            return "granian is not installed"
        if self.impl == "native" or self.impl in INSTEAD:
            return None
        return served.ADAPTERS[(self.impl, served.APPS[self.app][1])].unavailable_reason()

    def argv(self, port: int) -> list[str]:
        """The server's command line for ``port``."""
        assert self.app is not None
        adapter = "native" if self.impl in INSTEAD else self.impl
        return SERVERS[self.runs_on][1](served.target(adapter, self.app), port)


def connections_for(scenario: str, server: str) -> int:
    """wrk connections for ``scenario`` on ``server`` (see the module docstring)."""
    return CONNECTIONS[server][scenario]


def app_for(scenario: Scenario, server: str, impl: str) -> str | None:
    """The app key a configuration serves, or ``None`` if the scenario has no such form.

    ``server`` is the server that runs it: an adapter wraps the app of the other interface,
    native and :data:`INSTEAD` implementations serve the app of the server's own.
    """
    interface = SERVERS[server][0]
    if impl != "native" and impl not in INSTEAD:
        interface = "wsgi" if interface == "asgi" else "asgi"
    return scenario.app(interface)


def implementations(direction: str, *, baseline: bool = False) -> tuple[str, ...]:
    """The columns of ``direction``, in report order (``@base`` ones only with ``baseline``)."""
    wrapped = WRAPPED[direction]
    adapters = [
        name
        for name, interface in served.ADAPTERS
        if interface == wrapped and (baseline or not served.is_base(name))
    ]
    instead = [name for name in INSTEAD if SERVERS[name][0] == wrapped]
    return ("native", *adapters, *instead)


def configurations(
    directions: tuple[str, ...], names: tuple[str, ...], *, baseline: bool = False
) -> list[Config]:
    """Every configuration to run, row by row, implementations in column order."""
    configs = []
    for direction in directions:
        for name in names:
            scenario = SCENARIOS[name]
            if direction not in scenario.directions or scenario.app(WRAPPED[direction]) is None:
                continue
            for server in ROW_SERVERS[direction]:
                if name not in CONNECTIONS[server]:
                    continue
                for impl in implementations(direction, baseline=baseline):
                    if server not in ONLY_SERVERS.get(impl, (server,)):
                        continue
                    runs_on = impl if impl in INSTEAD else server
                    if _measures(impl, name) and name in CONNECTIONS[runs_on]:
                        app = app_for(scenario, runs_on, impl)
                        configs.append(Config(direction, scenario, server, impl, app, runs_on))
    return configs


def _measures(impl: str, scenario: str) -> bool:
    """Whether ``impl`` is measured on ``scenario`` (ONLY_IMPLEMENTATIONS, ONLY_SCENARIOS)."""
    variant = impl.removesuffix(served.BASE_SUFFIX)
    only = ONLY_IMPLEMENTATIONS.get(scenario)
    return (only is None or variant in only) and scenario in ONLY_SCENARIOS.get(
        variant, (scenario,)
    )


def _gunicorn_has_asgi_worker() -> bool:
    """Whether the installed gunicorn has ``-k asgi`` (only recent releases ship one)."""
    try:
        workers = importlib.import_module("gunicorn.workers")
    except ImportError:
        return False
    return "asgi" in getattr(workers, "SUPPORTED_WORKERS", {})
