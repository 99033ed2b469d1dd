"""The router itself: :class:`Router` (an ASGI app) and :class:`RouterWsgi` (``router.wsgi``).

See the package docstring (:mod:`bridge._router`) for the rules they share.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, cast
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from asgiref.typing import (
    ASGI3Application,
    ASGIReceiveCallable,
    ASGISendCallable,
    HTTPScope,
    Scope,
    WWWScope,
)

from .._asgi_to_wsgi import AsgiToWsgi
from .._errors import BridgeError
from .._private_loop import REGISTRY
from .._runners import lend_loop
from .._translate import error_response, status_line
from .._wsgi_to_asgi import WsgiToAsgi
from .lifespan import run_lifespan
from .replay import AsgiReplay, WsgiReplay
from .table import Mount, Table, build_table, make_mount, match, split_root

__all__ = ["Router", "RouterWsgi"]

#: The private ``scope``/``environ`` key through which a shared wrapper finds its target app.
TARGET_KEY: Final = "bridge.router.app"
#: Default ``replay_body_limit``: request (and held 404) bytes kept per request for a replay.
DEFAULT_REPLAY_BODY_LIMIT: Final = 64 * 1024


# --- the ASGI side -----------------------------------------------------------------------------


class Router:
    """An ASGI app that dispatches by path prefix to mounted WSGI and ASGI apps.

    ``router.wsgi`` is the same table as a PEP 3333 app. See the module docs for the rules.

    :param routes: path prefix -> app, as a mapping or a sequence of ``(prefix, app)`` pairs.
    :param fallback: the app for unmatched requests and for 404s of matched apps (replayed).
    :param replay_body_limit: bytes of request body (and of a held 404 body) kept per request so
        it can be replayed to ``fallback``; past it that request is not replayed.
    :param wsgi_to_asgi: keyword options of the one :class:`~bridge.WsgiToAsgi` through which
        this ASGI router calls WSGI apps (``max_threads``, ``send_window``, ...).
    :param asgi_to_wsgi: keyword options of the one :class:`~bridge.AsgiToWsgi` through which
        ``router.wsgi`` calls ASGI apps (``lifespan``, ``backend``, timeouts, ...).
    :raises TypeError: a route, app or option has the wrong type, or an app cannot be classified.
    :raises ValueError: a prefix is malformed or repeats, or an option is out of range.
    """

    def __init__(
        self,
        routes: Mapping[str, object] | Sequence[tuple[str, object]],
        /,
        *,
        fallback: object = None,
        replay_body_limit: int = DEFAULT_REPLAY_BODY_LIMIT,
        wsgi_to_asgi: Mapping[str, Any] | None = None,
        asgi_to_wsgi: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(replay_body_limit, bool) or not isinstance(replay_body_limit, int):
            raise TypeError(f"replay_body_limit must be an int, got {replay_body_limit!r}")
        if replay_body_limit < 0:
            raise ValueError(f"replay_body_limit must be >= 0, got {replay_body_limit!r}")
        self._table = table = Table(
            build_table(routes),
            None if fallback is None else make_mount("", fallback, "fallback"),
            replay_body_limit,
        )
        self._mounts = table.longest_first
        self._fallback = table.fallback
        self._to_asgi = WsgiToAsgi(_dispatch_wsgi, **_options("wsgi_to_asgi", wsgi_to_asgi))
        # The shared WsgiToAsgi takes part in lifespan too, last: its shutdown (first, as the
        # newest) waits, bounded by its shutdown_timeout, for the WSGI calls still running.
        lifespan_apps = list(table.distinct_asgi(wsgi_side=False))
        if table.any_wsgi_only():
            lifespan_apps.append(("the WSGI apps", cast("ASGI3Application", self._to_asgi)))
        self._lifespan_apps = tuple(lifespan_apps)
        self._wsgi = RouterWsgi(self, table, _options("asgi_to_wsgi", asgi_to_wsgi))

    @property
    def wsgi(self) -> RouterWsgi:
        """The same routing table as a PEP 3333 app (for Gunicorn, Waitress, mod_wsgi)."""
        return self._wsgi

    def native_forms(self) -> tuple[ASGI3Application, WSGIApplication]:
        """Return this router and ``router.wsgi``: a nested router is native on both sides."""
        return self, self._wsgi

    def __repr__(self) -> str:
        prefixes = [mount.prefix or "/" for mount in self._table.mounts]
        return f"<Router {prefixes!r} fallback={self._fallback is not None}>"

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        """Serve one ASGI connection: route ``http``/``websocket``, fan out ``lifespan``."""
        if scope["type"] == "lifespan":
            await run_lifespan(self._lifespan_apps, scope, receive, send)
            return
        if scope["type"] not in ("http", "websocket"):
            raise ValueError(f"Router serves http, websocket and lifespan, got {scope['type']!r}")
        root, relative = split_root(scope)
        found = match(self._mounts, relative)
        if found is None:
            await self._unmatched(scope, receive, send)
            return
        mount, _ = found
        child = cast(
            "WWWScope", {**scope, "root_path": root + mount.prefix, "path": root + relative}
        )
        if self._fallback is None or scope["type"] != "http" or mount.same_app(self._fallback):
            await self._call(mount, child, receive, send)
            return
        replay = AsgiReplay(receive, send, self._table.replay_body_limit)
        await self._call(mount, child, replay.receive, replay.send)
        if replay.should_replay():
            await self._call(self._fallback, cast("WWWScope", dict(scope)), replay.replayed, send)

    async def _unmatched(
        self, scope: WWWScope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if self._fallback is not None:
            await self._call(self._fallback, scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000, "reason": ""})
        else:
            await send_error(send, 404)

    async def _call(
        self, mount: Mount, scope: WWWScope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        """Call ``mount``'s app natively, through the shared WsgiToAsgi, or refuse a websocket."""
        if mount.asgi is not None:
            await mount.asgi(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000, "reason": ""})
        else:
            scope = cast("HTTPScope", {**scope, TARGET_KEY: mount.wsgi})
            await self._to_asgi(scope, receive, send)


async def send_error(send: ASGISendCallable, status: int) -> None:
    """Answer the current HTTP request with bridge's plain-text error response."""
    headers, body = error_response(status)
    await send({"type": "http.response.start", "status": status, "headers": headers,
                "trailers": False})  # fmt: skip
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _dispatch_wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Call the WSGI app the ASGI router chose (under ``asgi.scope[TARGET_KEY]``)."""
    app: WSGIApplication = environ["asgi.scope"][TARGET_KEY]
    return app(environ, start_response)


# --- the WSGI side -----------------------------------------------------------------------------


class RouterWsgi:
    """The routing table of a :class:`Router` as a PEP 3333 app (``router.wsgi``).

    WSGI apps are called directly; ASGI apps through one shared :class:`~bridge.AsgiToWsgi`
    (its loop starts at the first request or :meth:`startup`); :meth:`close` closes it.

    :param router: the router whose table this serves.
    :param table: that router's table.
    :param asgi_to_wsgi: keyword options of the shared :class:`~bridge.AsgiToWsgi`.
    """

    def __init__(self, router: Router, table: Table, asgi_to_wsgi: Mapping[str, Any]) -> None:
        self.router: Final = router
        self._table = table
        self._mounts = table.longest_first
        self._asgi_apps = table.distinct_asgi(wsgi_side=True)
        self._to_wsgi = AsgiToWsgi(_AsgiDispatch(self._asgi_apps), **asgi_to_wsgi)
        mounts = table.every_mount()
        nested = {id(m.wsgi): m.wsgi for m in mounts if isinstance(m.wsgi, RouterWsgi)}
        self._nested: tuple[RouterWsgi, ...] = tuple(nested.values())
        self._started_in: int | None = None  # the pid whose first request started lifespan

    def native_forms(self) -> tuple[ASGI3Application, WSGIApplication]:
        """Return the router and this WSGI side: mounted elsewhere, native on both sides."""
        return self.router, self

    def __repr__(self) -> str:
        return f"<RouterWsgi of {self.router!r}>"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request: route by ``PATH_INFO`` below ``SCRIPT_NAME``.

        The first request of a process, to any route, starts the ASGI apps' lifespan, so a WSGI
        view can use what their startup made (a client in ``state``, through ``await_``).
        """
        if self._started_in != os.getpid():
            self._start_lifespan()
        fallback = self._table.fallback
        found = match(self._mounts, environ.get("PATH_INFO", ""), wsgi=True)
        if found is None:
            if fallback is None:
                return _wsgi_error(start_response, 404)
            return self._call(fallback, dict(environ), start_response)
        mount, rest = found
        script_name = environ.get("SCRIPT_NAME", "").rstrip("/") + mount.wsgi_prefix
        child = {**environ, "SCRIPT_NAME": script_name, "PATH_INFO": rest}
        if fallback is None or mount.same_app(fallback):
            return self._call(mount, child, start_response)
        replay = WsgiReplay(environ, start_response, self._table.replay_body_limit)
        child["wsgi.input"] = replay.input
        result = self._call(mount, child, replay.start_response)
        return replay.finish(result, lambda env, sr: self._call(fallback, env, sr))

    def _call(
        self, mount: Mount, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Call ``mount``'s app natively, or through the shared AsgiToWsgi."""
        if mount.wsgi is not None:
            _lend_private_loop()
            return mount.wsgi(environ, start_response)
        environ[TARGET_KEY] = mount.asgi
        return self._to_wsgi(environ, start_response)

    def _start_lifespan(self) -> None:
        """Run lifespan startup for the first request of this process.

        A failure (logged by the adapter) does not stop the WSGI routes: requests to ASGI
        routes are then answered with 500, as without a router.
        """
        with contextlib.suppress(BridgeError):
            self.startup()
        self._started_in = os.getpid()

    def startup(self) -> None:
        """Run the ASGI apps' lifespan startup now (nested routers' too), not at the first request.

        For a Gunicorn ``post_worker_init`` hook; does nothing when no ASGI app is mounted.

        :raises LifespanError: an ASGI app's startup failed.
        """
        if self._asgi_apps:
            self._to_wsgi.startup()
        for nested in self._nested:
            nested.startup()

    def close(self) -> None:
        """Wait for running ASGI requests and run lifespan shutdown (nested routers' too).

        Idempotent; adapters you wrapped yourself are yours to close.
        """
        for nested in self._nested:
            nested.close()
        self._to_wsgi.close()


def _lend_private_loop() -> None:
    """Make asgiref's ``async_to_sync`` in this WSGI thread run on the private loop.

    That is the loop the ASGI apps' lifespan ran on, chosen as ``bridge.await_`` chooses it:
    the process's one running private loop, if it is an asyncio (or uvloop) one. Otherwise the
    thread is left as it is, and asgiref keeps its default (a new loop per call).
    """
    loops = REGISTRY.running()
    if len(loops) == 1 and (loop := loops[0].asyncio_loop) is not None:
        lend_loop(loop)


def _wsgi_error(start_response: StartResponse, status: int) -> list[bytes]:
    headers, body = error_response(status)
    wsgi_headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]
    start_response(status_line(status), wsgi_headers)
    return [body]


def _options(name: str, value: Mapping[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping of keyword options, got {value!r}")
    return dict(value)


class _AsgiDispatch:
    """The ASGI app behind ``router.wsgi``'s AsgiToWsgi: calls the chosen app, fans out lifespan."""

    def __init__(self, apps: Sequence[tuple[str, ASGI3Application]]) -> None:
        self._apps = apps

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] == "lifespan":
            await run_lifespan(self._apps, scope, receive, send)
            return
        environ = cast("WSGIEnvironment", scope["extensions"]["wsgi.environ"])  # type: ignore[index]
        app: ASGI3Application = environ[TARGET_KEY]
        await app(scope, receive, send)
