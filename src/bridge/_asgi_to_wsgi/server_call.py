"""One request of :class:`~bridge.AsgiToWsgi`, its half facing the WSGI server: :class:`ServerCall`.

A server call runs on the server's thread (see the package docstring for the whole request). It
builds the scope, schedules the app's task, then blocks on the request's hand-off; it reads
``wsgi.input`` when the app asks, calls ``start_response``, and returns ``[body]`` for a short
response or a :class:`~.response_body.ResponseBody` that yields the chunks as they come. While
it blocks, its hand-off is listed in the loop's ``waiting`` set, so a loop that stops first (a
``close()`` racing the request) fails the wait with :class:`ServerError` instead of hanging it.

``request_timeout`` bounds every wait for the app, but not a ``wsgi.input.read()`` in progress:
a blocking read on the server's stream cannot be interrupted portably, so a client that stalls
its upload holds the thread until the server's own socket timeout; the deadline is checked again
as soon as the read returns.
"""

from __future__ import annotations

import contextlib
import logging
import queue
from collections.abc import Callable, Iterable, Iterator, Mapping
from time import monotonic
from typing import TYPE_CHECKING, cast
from wsgiref.types import StartResponse, WSGIEnvironment

from .._errors import (
    ApplicationTimeout,
    BridgeError,
    ClientDisconnected,
    ClientError,
    LifespanError,
    ServerError,
)
from .._translate import (
    asgi_headers_to_wsgi,
    build_scope,
    error_response,
    request_body_length,
    status_line,
)
from .app_task import AppTask
from .handoff import READ_AHEAD, Failed, Handoff, Hint, Item, PathSend, ReadBody, Start
from .response_body import CHUNK, ResponseBody

if TYPE_CHECKING:
    from _typeshed import OptExcInfo

    from .runtime import Runtime

__all__ = ["ServerCall"]

_logger = logging.getLogger("bridge.asgi")
_EXTENSIONS: Mapping[str, dict[object, object]] = {"http.response.pathsend": {}}
#: With early hints: offered when the WSGI server gives ``wsgi.early_hints`` (Gunicorn 27).
_HINTING: Mapping[str, dict[object, object]] = {**_EXTENSIONS, "http.response.early_hint": {}}


class ServerCall:
    """One request on the WSGI server's thread (see the module docstring).

    :param runtime: the adapter's runtime in this process.
    :param environ: the request's PEP 3333 environ.
    """

    __slots__ = (
        "_deadline", "_environ", "_handoff", "_headers_set", "_loop", "_read", "_remaining",
        "_runtime", "_task",
    )  # fmt: skip

    def __init__(self, runtime: Runtime, environ: WSGIEnvironment) -> None:
        self._runtime = runtime
        self._loop = runtime.loop
        self._environ = environ
        self._deadline: float | None = None
        self._remaining: int | None = 0  # body bytes left to read; None: read to EOF
        self._read = 0  # body bytes read so far
        self._handoff = Handoff(runtime.loop, send_window=runtime.options.send_window)
        self._task: AppTask | None = None
        self._headers_set = False  # whether start_response was called for this response

    def respond(self, start_response: StartResponse) -> Iterable[bytes]:
        """Run the request through the app; return the PEP 3333 response iterable.

        Errors before the response started become an error response (500, 503, 504, ...) sent
        through ``start_response(..., exc_info)`` and logged once.
        """
        try:
            self._submit()
            item = self.next_item()
            if type(item) is PathSend:
                return self._file_response(item, start_response)
            start = cast("Start", item)  # a response begins with its start (or a path send)
            self._start_response(start_response, start)
            if not start.more:
                return self._settled_after([start.body])
            if start.body:
                self.take(len(start.body))
            return ResponseBody(self, start_response, start.body)
        except Exception as exc:
            self.abandon()
            return self._settled_after([self.error_body(start_response, exc)])

    def _submit(self) -> None:
        runtime = self._runtime
        lifespan = runtime.lifespan
        if lifespan.failure is not None:
            raise LifespanError(str(lifespan.failure)) from lifespan.failure
        environ = self._environ
        self._remaining = remaining = request_body_length(environ)
        hinting = callable(environ.get("wsgi.early_hints"))
        scope = build_scope(environ, extensions=_HINTING if hinting else _EXTENSIONS)
        if lifespan.supported:
            scope["state"] = dict(lifespan.state)
        self._task = task = AppTask(runtime, scope, self._handoff, eof=remaining == 0)
        timeout = runtime.options.request_timeout
        if timeout is not None:
            self._deadline = monotonic() + timeout
        try:
            self._loop.call_now(task.begin)
        except RuntimeError as exc:
            raise ServerError("the AsgiToWsgi event loop has stopped") from exc

    def next_item(self) -> Item:
        """Wait for the app's next response item, serving body reads meanwhile.

        :raises ApplicationTimeout: ``request_timeout`` passed.
        :raises ServerError: the loop stopped before the app answered.
        :raises Exception: what the app raised, or the protocol error it made.
        """
        handoff = self._handoff
        waiting = self._loop.waiting
        while True:
            waiting.add(handoff)
            try:
                if self._loop.stopped:
                    handoff.loop_stopped()  # after the loop's own sweep: fail this wait here
                item = handoff.get() if self._deadline is None else self._get_until(self._deadline)
            finally:
                waiting.discard(handoff)
            if type(item) is ReadBody:
                self._read_ahead()
            elif type(item) is Hint:
                self._send_hint(item)
            elif type(item) is Failed:
                raise item.error
            else:
                return item

    def ready_item(self) -> Item | None:
        """Return the next response item if the app has already queued one, else ``None``.

        Serves body reads meanwhile, like :meth:`next_item`; a :class:`Failed` item is returned,
        not raised (the caller first hands over what it already has).
        """
        while True:
            item = self._handoff.get_nowait()
            if type(item) is not ReadBody:
                return item
            self._read_ahead()

    def _send_hint(self, hint: Hint) -> None:
        try:
            self._environ["wsgi.early_hints"](hint.headers)
        except OSError as exc:
            self.abandon()
            raise ClientDisconnected(f"sending early hints failed: {exc}") from exc

    def _get_until(self, deadline: float) -> Item:
        try:
            return self._handoff.get(timeout=max(deadline - monotonic(), 0.0))
        except queue.Empty:
            self._call_soon(cast("AppTask", self._task).on_timeout)
            timeout = self._runtime.options.request_timeout
            raise ApplicationTimeout(
                f"the ASGI app did not respond within {timeout} seconds"
            ) from None

    def settle(self) -> None:
        """When this thread runs the loop (inline), run it until the app's task has ended: its
        background work, or the cancellation a disconnect or a timeout scheduled.

        Bounded by the task's own timers (``background_timeout``, ``disconnect_grace``); a
        loop thread needs nothing of this.
        """
        task = self._task
        if task is None or task.finished or not self._loop.inline:
            return
        options = self._runtime.options
        bound = options.background_timeout + options.disconnect_grace
        try:
            self._loop.result(task.when_finished(), bound)
        except (TimeoutError, RuntimeError):
            _logger.warning("the ASGI app's task still runs %s seconds after its response", bound)

    def _settled_after(self, body: Iterable[bytes]) -> Iterable[bytes]:
        """``body``, or, inline with the task still running, an iterable whose ``close()``
        settles it (after the server sent the response)."""
        task = self._task
        if task is None or task.finished or not self._loop.inline:
            return body
        return _SettlingBody(body, self.settle)

    def take(self, size: int) -> None:
        """Record that the WSGI side took ``size`` body bytes; wake a waiting sender."""
        self._handoff.take(size)

    def abandon(self) -> None:
        """Tell the app the server closed the response early (the client went away)."""
        if self._task is not None:
            self._call_soon(self._task.on_wsgi_gone)

    def _start_response(self, start_response: StartResponse, start: Start) -> None:
        start_response(start.status, start.headers)
        self._headers_set = True

    def error_body(self, start_response: StartResponse, exc: Exception) -> bytes:
        """Log ``exc`` once and answer with its status through ``start_response``.

        ``exc_info`` goes with it only when the response's headers were set already (PEP 3333
        needs it only then; uWSGI refuses it on a first call).
        """
        status = exc.status_code if isinstance(exc, BridgeError) else 500
        method = self._environ.get("REQUEST_METHOD", "GET")
        target = f"{method} {self._environ.get('SCRIPT_NAME', '')}{self._environ.get('PATH_INFO')}"
        if status == 411:  # the server's limit, not this client's fault: the operator must see it
            _logger.warning("answered %d to %s: %s", status, target, exc)
        elif isinstance(exc, ClientError):
            _logger.info("answered %d to %s: %s", status, target, exc)
        elif isinstance(exc, BridgeError):
            _logger.error("answered %d to %s: %s", status, target, exc, exc_info=exc)
        else:
            _logger.error("the ASGI app raised; answered 500 to %s", target, exc_info=exc)
        headers, body = error_response(status)
        wsgi_headers = asgi_headers_to_wsgi(headers).headers
        if self._headers_set:
            exc_info = cast("OptExcInfo", (type(exc), exc, exc.__traceback__))
            start_response(status_line(status), wsgi_headers, exc_info)
        else:
            start_response(status_line(status), wsgi_headers)
            self._headers_set = True
        return b"" if method == "HEAD" else body

    def _file_response(self, item: PathSend, start_response: StartResponse) -> Iterable[bytes]:
        file = item.file
        start = cast("Start", item.start)  # the first item: the start comes with it
        self._start_response(start_response, start)
        file_wrapper = self._environ.get("wsgi.file_wrapper")
        if file_wrapper is not None:
            return self._settled_after(file_wrapper(file, CHUNK))
        return ResponseBody(self, start_response, b"", file)

    def _read_ahead(self) -> None:
        """Read body chunks until ``READ_AHEAD`` bytes wait for the app, or the body ends."""
        task = cast("AppTask", self._task)
        handoff = self._handoff
        while True:
            data, more = self._read_chunk()
            self._read += len(data)
            last = not more or self._read - handoff.consumed >= READ_AHEAD
            self._call_soon(task.on_body, data, more, last)
            if last:
                return

    def _read_chunk(self) -> tuple[bytes, bool]:
        remaining = self._remaining
        size = CHUNK if remaining is None else min(CHUNK, remaining)
        try:
            data = self._environ["wsgi.input"].read(size)
        except OSError as exc:
            self.abandon()
            raise ClientDisconnected(f"reading the request body failed: {exc}") from exc
        except Exception:
            self.abandon()
            raise
        if remaining is None:
            return data, bool(data)
        if not data:
            self.abandon()
            raise ClientDisconnected(f"the request body ended {remaining} bytes short")
        self._remaining = remaining = max(remaining - len(data), 0)
        return data, remaining > 0

    def _call_soon(self, callback: Callable[..., object], *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop stopped: nobody is left to tell
            self._loop.call_soon(callback, *args)


class _SettlingBody:
    """A response whose ``close()`` then lets the app's task end (inline loop)."""

    __slots__ = ("_body", "_settle")

    def __init__(self, body: Iterable[bytes], settle: Callable[[], None]) -> None:
        self._body = body
        self._settle = settle

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        """Close the body, then run the loop until the app's task has ended (PEP 3333: called
        once the server is done with the response)."""
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._settle()
