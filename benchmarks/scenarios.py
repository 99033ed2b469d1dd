"""What is measured: the scenarios, the servers, and the configurations (scenario x server x impl).

Connection counts are per server kind (:data:`CONNECTIONS`). Uvicorn serves many connections on
one loop: the issue's counts (hello 32, sleep 200), and 4 for stream and upload, where each
request moves 16 MiB. A Gunicorn **sync** worker serves one connection at a time and closes it
after each response, so wrk keeps 2: one being served and one waiting in the accept queue, so
the worker never idles while wrk reconnects. **gthread** (8 threads) and gunicorn's **asgi**
worker get 8, one per thread, except for the bulk scenarios: stream and upload use 2 on every
Gunicorn worker, enough to keep it busy and few enough that the requests still in flight when a
run ends (not counted by upload's MiB/s) are a small error. SSE is one client, one request at a
time.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from benchmarks.apps import UPLOAD_SIZE, served
from benchmarks.servers import gunicorn_argv, uvicorn_argv

WSGI_TO_ASGI = "wsgi-to-asgi"
ASGI_TO_WSGI = "asgi-to-wsgi"
DIRECTIONS = (WSGI_TO_ASGI, ASGI_TO_WSGI)


@dataclass(frozen=True)
class Scenario:
    """One kind of request and how its result is expressed."""

    name: str
    path: str
    unit: str  # "req/s", "MiB/s" (higher is better) or "ms" (time to last byte, lower is better)
    app: str  # "raw" (the raw app of the direction) or a key of served.APPS
    method: str = "GET"
    body_size: int = 0  # request body wrk posts
    payload: int = 0  # bytes per request the MiB/s figure counts (0: wrk's bytes read)
    timeout: int = 10  # wrk's per-request timeout, seconds

    @property
    def higher_is_better(self) -> bool:
        """Whether a bigger number is a better result."""
        return self.unit != "ms"


# Issue 5 section 3: "sleep-await" is "sleep" with the WSGI view awaiting asyncio.sleep(0.05)
# through bridge.await_ on the server's loop, so only bridge runs it (see ONLY_IMPLEMENTATIONS).
SCENARIOS: Mapping[str, Scenario] = MappingProxyType(
    {
        s.name: s
        for s in (
            Scenario("hello", "/hello", "req/s", "raw"),
            Scenario("stream", "/stream", "MiB/s", "raw", payload=0, timeout=30),
            Scenario(
                "upload",
                "/upload",
                "MiB/s",
                "raw",
                method="POST",
                body_size=UPLOAD_SIZE,
                payload=UPLOAD_SIZE,
                timeout=30,
            ),
            Scenario("sleep", "/sleep", "req/s", "raw", timeout=30),
            Scenario("sleep-await", "/sleep-await", "req/s", "raw", timeout=30),
            Scenario("sse", "/sse", "ms", "raw"),
            Scenario("flask-hello", "/hello", "req/s", "flask"),
            Scenario("fastapi-hello", "/hello", "req/s", "fastapi"),
        )
    }
)

_EIGHT_THREADS = {"hello": 8, "stream": 2, "upload": 2, "sleep": 8, "sse": 1, "fastapi-hello": 8}

#: server -> (scenario -> wrk connections); a scenario missing here is not run on that server.
CONNECTIONS: Mapping[str, Mapping[str, int]] = MappingProxyType(
    {
        "uvicorn": {
            "hello": 32,
            "stream": 4,
            "upload": 4,
            "sleep": 200,
            "sleep-await": 200,
            "flask-hello": 32,
        },
        "gunicorn-sync": {"hello": 2, "stream": 2, "upload": 2, "sse": 1, "fastapi-hello": 2},
        "gunicorn-gthread": _EIGHT_THREADS,
        "gunicorn-asgi": _EIGHT_THREADS,
    }
)

#: direction -> server -> implementations, in the order of each round and of the table.
IMPLEMENTATIONS: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        WSGI_TO_ASGI: {
            "uvicorn": (
                "native",
                "bridge",
                "bridge-greenlet",
                "a2wsgi",
                "asgiref",
                "uvicorn-legacy",
                "greenlet-floor",
            )
        },
        ASGI_TO_WSGI: {
            "gunicorn-sync": ("native", "bridge", "a2wsgi", "floor"),
            "gunicorn-gthread": ("native", "bridge", "a2wsgi", "floor"),
            "gunicorn-asgi": ("native",),
        },
    }
)


#: scenario -> the only implementations that can serve it (the others lack bridge.await_).
ONLY_IMPLEMENTATIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"sleep-await": ("native", "bridge", "bridge-greenlet")}
)


#: implementation -> the only scenarios it can serve (the yardsticks of benchmarks/floor.py
#: answer nothing but a short response).
ONLY_SCENARIOS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"floor": ("hello",), "greenlet-floor": ("hello",)}
)


@dataclass(frozen=True)
class Config:
    """One measured configuration: a scenario's app, wrapped by ``impl``, on ``server``."""

    direction: str
    scenario: Scenario
    server: str
    impl: str
    app: str | None  # key of served.APPS; None when the scenario has no native form here

    @property
    def connections(self) -> int:
        """wrk connections for this scenario on this server (see the module docstring)."""
        return CONNECTIONS[self.server][self.scenario.name]

    def unavailable_reason(self) -> str | None:
        """Why this configuration cannot run here, or ``None`` if it can."""
        if self.app is None:
            return "no native form of this scenario on this server"
        if self.server == "gunicorn-asgi" and not _gunicorn_has_asgi_worker():
            return "the installed gunicorn has no asgi worker class"
        if self.impl == "native":
            return None
        return served.ADAPTERS[(self.impl, served.APPS[self.app][1])].unavailable_reason()

    def argv(self, port: int) -> list[str]:
        """The server's command line for ``port``."""
        assert self.app is not None
        target = served.target(self.impl, self.app)
        if self.server == "uvicorn":
            return uvicorn_argv(target, port)
        return gunicorn_argv(target, port, self.server.removeprefix("gunicorn-"))


def app_for(scenario: Scenario, server: str, impl: str) -> str | None:
    """The app key a configuration serves, or ``None`` if the scenario has no native form."""
    server_speaks = "asgi" if server in ("uvicorn", "gunicorn-asgi") else "wsgi"
    if impl != "native":  # an adapter wraps the app of the other interface
        server_speaks = "wsgi" if server_speaks == "asgi" else "asgi"
    if scenario.app == "raw":
        return server_speaks
    return scenario.app if served.APPS[scenario.app][1] == server_speaks else None


def configurations(directions: tuple[str, ...], names: tuple[str, ...]) -> list[Config]:
    """Every configuration to run, scenario by scenario, implementations in table order."""
    configs = []
    for direction in directions:
        for name in names:
            scenario = SCENARIOS[name]
            for server, impls in IMPLEMENTATIONS[direction].items():
                if name not in CONNECTIONS[server]:
                    continue
                configs += [
                    Config(direction, scenario, server, impl, app_for(scenario, server, impl))
                    for impl in impls
                    if impl in ONLY_IMPLEMENTATIONS.get(name, impls)
                    and name in ONLY_SCENARIOS.get(impl, (name,))
                ]
    return configs


def _gunicorn_has_asgi_worker() -> bool:
    """Whether the installed gunicorn has ``-k asgi`` (only recent releases ship one)."""
    try:
        workers = importlib.import_module("gunicorn.workers")
    except ImportError:
        return False
    return "asgi" in getattr(workers, "SUPPORTED_WORKERS", {})
