"""The cheapest possible loop-thread adapter, as a yardstick for ``AsgiToWsgi`` (not a product).

Any adapter that runs an ASGI app on a private loop thread for a WSGI server pays, per request,
one wake-up of the loop (``call_soon_threadsafe``) and one wake-up of the WSGI thread (a queue).
:class:`HandOffFloor` pays exactly that and nothing else: no environ translation beyond the path,
no validation, no request body, no streaming, no backpressure, no lifespan, no error handling
(``close()`` exists for the smoke test; the benchmark's servers just exit). Its hello rate is
the ceiling of that design on the machine at hand, so the report can say how much of bridge's
distance to the native WSGI app is the hand-off itself.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from collections.abc import Callable, Iterable
from typing import Any


class HandOffFloor:
    """Serve ``app`` (an ASGI app whose response is one start and one final body) from WSGI."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                try:
                    import uvloop

                    loop = uvloop.new_event_loop()
                except ImportError:
                    loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=loop.run_forever, daemon=True)
                self._thread.start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def close(self) -> None:
        """Stop the loop and join its thread."""
        with self._lock:
            loop, self._loop, thread, self._thread = self._loop, None, self._thread, None
        if loop is not None and thread is not None and self._pid == os.getpid():
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        loop = self._running_loop()
        answer: queue.SimpleQueue[tuple[int, list[tuple[bytes, bytes]], bytes]] = (
            queue.SimpleQueue()
        )
        scope = {"type": "http", "method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"]}
        loop.call_soon_threadsafe(loop.create_task, _answer_once(self._app, scope, answer.put))
        status, headers, body = answer.get()
        start_response(f"{status} OK", [(k.decode(), v.decode()) for k, v in headers])
        return [body]


class InlineFloor:
    """The cheapest on-thread adapter, as a yardstick for ``AsgiToWsgi(loop_thread="never")``.

    One stdlib asyncio loop per process, never run between requests; per request the WSGI thread
    runs the app to its end with ``run_until_complete`` (no thread, no hand-off), with the same
    scope and answer as :class:`HandOffFloor` and nothing else: no body, no streaming, no
    timeout, no lifespan, no error handling. Its hello rate is the ceiling of that design.
    """

    def __init__(self, app: Any) -> None:
        self._app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    def close(self) -> None:
        """Close the loop."""
        if self._loop is not None and self._pid == os.getpid():
            self._loop.close()
        self._loop = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if self._loop is None or self._pid != os.getpid():
            self._loop, self._pid = asyncio.new_event_loop(), os.getpid()
        answer: list[Any] = []
        scope = {"type": "http", "method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"]}
        self._loop.run_until_complete(_answer_once(self._app, scope, answer.append))
        status, headers, body = answer[0]
        start_response(f"{status} OK", [(k.decode(), v.decode()) for k, v in headers])
        return [body]


async def _answer_once(
    app: Any, scope: dict[str, Any], deliver: Callable[[tuple[int, Any, bytes]], object]
) -> None:
    """Run ``app`` for ``scope`` with an empty body; ``deliver`` its (status, headers, body)."""
    start: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        else:
            deliver((start["status"], start.get("headers", []), message.get("body", b"")))

    await app(scope, receive, send)


class GreenletFloor:
    """The cheapest greenlet-style WSGI-on-ASGI adapter, as a yardstick for the greenlet runner.

    It calls the WSGI app on the loop thread (as ``runner="greenlet"`` does, but without even a
    greenlet switch), with a PEP 3333 environ that has the required keys and the request's
    headers, and sends what the app returned as one start and one body message. It checks
    nothing, streams nothing, reads no body and handles no error: its hello rate is what
    answering through *any* PEP 3333 call costs on this server, the ceiling for
    ``WsgiToAsgi(runner="greenlet")``.
    """

    def __init__(self, app: Any) -> None:
        self._app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await receive()
        environ = {
            "REQUEST_METHOD": scope["method"],
            "SCRIPT_NAME": "",
            "PATH_INFO": scope["path"],
            "QUERY_STRING": scope["query_string"].decode("latin-1"),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": None,
            "wsgi.errors": None,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in scope["headers"]:
            environ["HTTP_" + name.decode("latin-1").upper().replace("-", "_")] = value.decode(
                "latin-1"
            )
        started: list[Any] = []
        body = b"".join(
            self._app(environ, lambda status, headers: started.extend((status, headers)))
        )
        status, headers = started
        await send(
            {
                "type": "http.response.start",
                "status": int(status[:3]),
                "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
            }
        )
        await send({"type": "http.response.body", "body": body})
