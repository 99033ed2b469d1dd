"""Helpers for the AsgiToWsgi tests: hand-built environs, a recording start_response, gates.

Every call goes through :func:`wsgiref.validate.validator`, which checks the status, headers,
iterable and ``close()`` against PEP 3333.
"""

from __future__ import annotations

import gc
import io
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import sniffio

from bridge import AsgiToWsgi
from bridge._private_loop import REGISTRY

#: Bounded wait for anything another thread does (seconds); never a sleep.
WAIT = 10.0


class RecordingInput:
    """A ``wsgi.input`` that records each ``read`` size and can fail or trickle."""

    def __init__(self, data: bytes = b"", *, piece: int | None = None, fail: bool = False) -> None:
        self._stream = io.BytesIO(data)
        self._piece = piece
        self._fail = fail
        self.reads: list[int] = []

    def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        if self._fail:
            raise ConnectionResetError("peer reset")
        if self._piece is not None and size > self._piece:
            size = self._piece
        return self._stream.read(size)

    def readline(self, size: int = -1) -> bytes:
        return self._stream.readline(size)

    def readlines(self, hint: int = -1) -> list[bytes]:
        return self._stream.readlines(hint)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._stream)

    def tell(self) -> int:
        return self._stream.tell()


def make_environ(
    method: str = "GET",
    path: str = "/",
    *,
    body: bytes | RecordingInput = b"",
    content_length: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return a PEP 3333 environ; ``CONTENT_LENGTH`` is ``len(body)`` unless given."""
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path}
    environ["QUERY_STRING"] = ""
    setup_testing_defaults(environ)
    # A threaded server, as Gunicorn gthread, Waitress and mod_wsgi are: the loop runs in its own
    # thread (wsgiref's testing default says single-threaded: then the loop runs inline, which
    # the tests of that mode ask for explicitly).
    environ["wsgi.multithread"] = True
    stream = body if isinstance(body, RecordingInput) else RecordingInput(body)
    environ["wsgi.input"] = stream
    if content_length is None and isinstance(body, bytes) and body:
        content_length = len(body)
    if content_length is not None:
        environ["CONTENT_LENGTH"] = str(content_length)
    environ.update(extra)
    return environ


@dataclass
class Recorder:
    """A ``start_response`` that records every call."""

    calls: list[tuple[str, list[tuple[str, str]], Any]] = field(default_factory=list)

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        self.calls.append((status, headers, exc_info))
        return self._write

    def _write(self, data: bytes) -> None:
        raise AssertionError("bridge never uses the write() callable")

    @property
    def status(self) -> str:
        return self.calls[-1][0]

    @property
    def headers(self) -> list[tuple[str, str]]:
        return self.calls[-1][1]

    @property
    def exc_info(self) -> Any:
        return self.calls[-1][2]


@dataclass
class Result:
    """A finished response, and the exception bridge answered it with (``None``: none)."""

    recorder: Recorder
    body: bytes
    error: BaseException | None = None

    @property
    def status(self) -> str:
        return self.recorder.status


class ErrorLog(logging.Handler):
    """Collects the exceptions bridge logs with a traceback while it is installed."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: list[BaseException] = []
        self._logger = logging.getLogger("bridge.asgi")

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.errors.append(record.exc_info[1])

    def __enter__(self) -> ErrorLog:
        self._logger.addHandler(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._logger.removeHandler(self)

    @property
    def last(self) -> BaseException | None:
        return self.errors[-1] if self.errors else None


def start(
    adapter: AsgiToWsgi, environ: dict[str, Any], *, validate: bool = True
) -> tuple[Recorder, Any]:
    """Call the adapter through the validator; return the recorder and the response iterable.

    ``validate=False`` is for environs the validator itself rejects (a broken server).
    """
    recorder = Recorder()
    return recorder, (validator(adapter) if validate else adapter)(environ, recorder)


def run(
    adapter: AsgiToWsgi, environ: dict[str, Any] | None = None, *, validate: bool = True
) -> Result:
    """Call the adapter, read the whole body and close the iterable."""
    with ErrorLog() as errors:
        recorder, iterable = start(adapter, environ or make_environ(), validate=validate)
        try:
            body = b"".join(iterable)
        finally:
            if hasattr(iterable, "close"):
                iterable.close()
    return Result(recorder, body, errors.last)


def original(iterable: Any) -> Any:
    """The iterable the adapter returned, under the validator's wrapper."""
    return iterable.original_iterator


class Gate:
    """Lets the test thread release an app task waiting on the loop (asyncio or trio)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._opened = False
        self._release: Any = None

    def open(self) -> None:
        with self._lock:
            self._opened = True
            release = self._release
        if release is not None:
            release()

    async def wait(self) -> None:
        if sniffio.current_async_library() == "trio":
            import trio

            event: Any = trio.Event()
            token = trio.lowlevel.current_trio_token()
            release = lambda: token.run_sync_soon(event.set)  # noqa: E731
        else:
            import asyncio

            event = asyncio.Event()
            loop = asyncio.get_running_loop()
            release = lambda: loop.call_soon_threadsafe(event.set)  # noqa: E731
        with self._lock:
            if self._opened:
                return
            self._release = release
        await event.wait()


def loop_barrier(adapter: AsgiToWsgi) -> None:
    """Wait until the adapter's loop has run everything scheduled before this call."""
    runtime = adapter._slot.runtime
    assert runtime is not None
    done = threading.Event()
    runtime.loop.call_soon(done.set)
    assert done.wait(WAIT)


def running_app_tasks(adapter: AsgiToWsgi) -> int:
    """How many app tasks of the adapter are still running (read through the loop)."""
    runtime = adapter._slot.runtime
    assert runtime is not None
    box: list[int] = []
    done = threading.Event()

    def count() -> None:  # one more loop iteration: done-callbacks scheduled before us run first
        box.append(len(runtime.tasks))
        done.set()

    runtime.loop.call_soon(runtime.loop.call_soon_local, count)
    assert done.wait(WAIT)
    return box[0]


def assert_no_leaks() -> None:
    """No private-loop thread and no registry entry survives a test.

    WsgiToAsgi's pool threads (``bridge-worker-*``, ``bridge-spawner-*``) belong to other tests'
    adapters and retire when idle; they are checked by the WsgiToAsgi tests, not here.
    """
    threads = [t.name for t in threading.enumerate() if t.name.endswith("-loop")]
    assert threads == []
    assert REGISTRY._loops == {}
    assert REGISTRY._leases == {}


async def read_body(receive: Any) -> bytes:
    """Read the whole request body through ``receive``."""
    body = b""
    while True:
        message = await receive()
        assert message["type"] == "http.request", message
        body += message["body"]
        if not message["more_body"]:
            return body


#: The headers of a plain-text response (``wsgiref.validate`` wants a Content-Type).
TEXT = [(b"content-type", b"text/plain")]


async def respond_ok(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app that answers ``ok`` without reading the body."""
    await respond(send)


async def respond(send: Any, body: bytes = b"ok", status: int = 200, **start: Any) -> None:
    """Send a whole plain-text response."""
    headers = start.pop("headers", TEXT)
    await send({"type": "http.response.start", "status": status, "headers": headers, **start})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def collect_dropped(adapter: AsgiToWsgi, app_done: threading.Event) -> None:
    """After the caller dropped a response iterable without ``close()`` (a server that forgets
    it): collect it, wait until the app's task has finished and no exchange is left running."""
    gc.collect()
    assert app_done.wait(WAIT)
    assert running_app_tasks(adapter) == 0


async def hello(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app that answers ``hello``."""
    await respond(send, b"hello")
