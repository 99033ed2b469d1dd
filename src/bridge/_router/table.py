"""The routing table of :class:`~bridge.Router`: prefix rules, app detection, segment matching.

Pure functions and frozen data, no I/O: ``build_table`` validates and classifies the routes once
(in ``Router.__init__``), ``match`` finds the longest whole-segment prefix of a path, and
``split_root`` finds the path below ``root_path``. The rules are the ones in ``docs/router.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, cast, runtime_checkable
from urllib.parse import unquote
from wsgiref.types import WSGIApplication

from asgiref.sync import iscoroutinefunction
from asgiref.typing import ASGI3Application, WWWScope

from .._asgi_to_wsgi import AsgiToWsgi
from .._interfaces import AsgiApp, WsgiApp, speaks
from .._wsgi_to_asgi import WsgiToAsgi

__all__ = [
    "Mount",
    "NativeForms",
    "Table",
    "build_table",
    "detect",
    "make_mount",
    "match",
    "normalize_prefix",
    "split_root",
]


@runtime_checkable
class NativeForms(Protocol):
    """An app that is native on both sides (a Router and its ``.wsgi``)."""

    def native_forms(self) -> tuple[ASGI3Application, WSGIApplication]:
        """Return the ASGI and the WSGI form of the same routing table."""
        ...


@dataclass(frozen=True, slots=True)
class Mount:
    """One routing-table entry: a prefix and the app's native forms (at least one is set)."""

    prefix: str  # decoded path prefix, "" for the root
    wsgi_prefix: str  # the same as PATH_INFO holds it: UTF-8 bytes as a latin-1 string
    asgi: ASGI3Application | None
    wsgi: WSGIApplication | None
    label: str  # how messages name it: "route '/api'" or "fallback"

    def same_app(self, other: Mount) -> bool:
        """Say whether ``other`` mounts the same app (a 404 is then not replayed to it)."""
        return (self.asgi, self.wsgi) == (other.asgi, other.wsgi)


# --- building the table ------------------------------------------------------------------------


def normalize_prefix(prefix: object) -> str:
    """Return ``prefix`` percent-decoded, with the root ``/`` as ``""``.

    :raises TypeError: ``prefix`` is not a ``str``.
    :raises ValueError: it holds ``?`` or ``#``, does not start with ``/``, ends with ``/`` (except
        the root), has an empty, ``.`` or ``..`` segment, or does not decode as UTF-8.
    """
    if not isinstance(prefix, str):
        raise TypeError(f"route prefix must be a str, got {prefix!r}")
    if prefix == "/":
        return ""
    if "?" in prefix or "#" in prefix:
        raise ValueError(f"route prefix is a path, without '?' or '#', got {prefix!r}")
    try:
        decoded = unquote(prefix, errors="strict")
    except UnicodeDecodeError as exc:
        raise ValueError(f"route prefix must percent-decode to UTF-8, got {prefix!r}") from exc
    if not decoded.startswith("/"):
        raise ValueError(f"route prefix must start with '/', got {prefix!r}")
    if decoded.endswith("/"):
        raise ValueError(f"route prefix must not end with '/' (except '/'), got {prefix!r}")
    if any(part in ("", ".", "..") for part in decoded[1:].split("/")):
        raise ValueError(f"route prefix has an empty, '.' or '..' segment, got {prefix!r}")
    return decoded


def detect(app: object, label: str) -> tuple[ASGI3Application | None, WSGIApplication | None]:
    """Return ``(asgi, wsgi)``: the native forms of ``app`` (one or both set).

    :param label: how the error names the app's place, e.g. ``"route '/api'"``.
    :raises TypeError: ``app`` is neither an ASGI 3 nor a WSGI callable, or cannot be told.
    """
    if isinstance(app, AsgiApp):
        return app.app, None
    if isinstance(app, WsgiApp):
        return None, app.app
    if isinstance(app, NativeForms):  # a Router or its .wsgi
        return app.native_forms()
    if isinstance(app, WsgiToAsgi):  # wrapped by the user: keep their options, unwrap for WSGI
        return app, app.app
    if isinstance(app, AsgiToWsgi):
        return app.app, app
    if not callable(app):
        raise TypeError(f"{label}: expected a WSGI or ASGI app, got {app!r} (not callable)")
    kind = speaks(app)
    if kind == "asgi":
        return cast("ASGI3Application", app), None
    if kind == "wsgi":
        return None, cast("WSGIApplication", app)
    is_async = iscoroutinefunction(app) or (
        not isinstance(app, type) and iscoroutinefunction(type(app).__call__)
    )
    described = (
        "an async callable that does not take (scope, receive, send)"
        if is_async
        else ("a callable that takes neither (environ, start_response) nor is async")
    )
    raise TypeError(
        f"{label}: cannot tell whether {app!r} is a WSGI or ASGI 3 app ({described}); "
        "wrap it in bridge.WsgiApp(...) or bridge.AsgiApp(...)"
    )


def build_table(
    routes: Mapping[str, object] | Sequence[tuple[str, object]],
) -> tuple[Mount, ...]:
    """Return the mounts for ``routes``, in the order given.

    :raises TypeError: ``routes`` is not a mapping or a sequence of pairs, or an app is unknown.
    :raises ValueError: a prefix is malformed or repeats (after percent-decoding).
    """
    pairs = _pairs(routes)
    mounts: dict[str, Mount] = {}
    for prefix, app in pairs:
        normal = normalize_prefix(prefix)
        if normal in mounts:
            raise ValueError(f"route prefix {prefix!r} repeats {mounts[normal].label}")
        mounts[normal] = make_mount(normal, app, f"route {prefix!r}")
    return tuple(mounts.values())


def _pairs(routes: object) -> list[tuple[object, object]]:
    if isinstance(routes, Mapping):
        return list(cast("Mapping[object, object]", routes).items())
    if isinstance(routes, (str, bytes)) or not isinstance(routes, Iterable):
        raise TypeError(f"routes must be a mapping or a sequence of pairs, got {routes!r}")
    pairs = list(cast("Iterable[object]", routes))
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(f"each route must be a (prefix, app) pair, got {pair!r}")
    return cast("list[tuple[object, object]]", pairs)


@dataclass(frozen=True, slots=True)
class Table:
    """A router's validated routes, shared by its ASGI side and by ``router.wsgi``.

    :param mounts: the routes in the order given (the lifespan order).
    :param fallback: the app for unmatched requests and for replayed 404s, if any.
    :param replay_body_limit: request (and held 404) bytes kept per request for a replay.
    """

    mounts: tuple[Mount, ...]
    fallback: Mount | None
    replay_body_limit: int

    @property
    def longest_first(self) -> tuple[Mount, ...]:
        """The mounts by prefix length, longest first: the order :func:`match` needs."""
        return tuple(sorted(self.mounts, key=lambda m: len(m.prefix), reverse=True))

    def every_mount(self) -> tuple[Mount, ...]:
        """The mounts, then the fallback if there is one."""
        return (*self.mounts, *([self.fallback] if self.fallback else []))

    def any_wsgi_only(self) -> bool:
        """Whether some app is WSGI only (the ASGI side reaches it through its WsgiToAsgi)."""
        return any(mount.asgi is None for mount in self.every_mount())

    def distinct_asgi(self, *, wsgi_side: bool) -> tuple[tuple[str, ASGI3Application], ...]:
        """Return ``(label, app)`` for each distinct ASGI app the lifespan must reach, in order.

        :param wsgi_side: only apps that ``router.wsgi`` reaches through AsgiToWsgi (no WSGI
            form).
        """
        found: dict[int, tuple[str, ASGI3Application]] = {}
        for mount in self.every_mount():
            if mount.asgi is not None and not (wsgi_side and mount.wsgi is not None):
                found.setdefault(id(mount.asgi), (mount.label, mount.asgi))
        return tuple(found.values())


def make_mount(prefix: str, app: object, label: str) -> Mount:
    """Return the table entry of ``app`` at ``prefix`` (normalised), detecting its interface."""
    asgi, wsgi = detect(app, label)
    wsgi_prefix = prefix.encode("utf-8").decode("latin-1")
    return Mount(prefix, wsgi_prefix, asgi, wsgi, label)


def match(mounts: Iterable[Mount], path: str, *, wsgi: bool = False) -> tuple[Mount, str] | None:
    """Return the mount whose prefix is the longest whole-segment match of ``path``, and the rest.

    :param wsgi: match ``PATH_INFO`` (latin-1 form) instead of the decoded ASGI ``path``.
    """
    for mount in mounts:
        prefix = mount.wsgi_prefix if wsgi else mount.prefix
        if not prefix or path == prefix or path.startswith(prefix + "/"):
            return mount, path[len(prefix) :]
    return None


def split_root(scope: WWWScope) -> tuple[str, str]:
    """Return ``(root_path, path relative to it)``; a path outside root_path is relative whole."""
    root = scope.get("root_path", "").rstrip("/")
    path = scope["path"]
    if root and (path == root or path.startswith(root + "/")):
        return root, path[len(root) :]
    return root, path
