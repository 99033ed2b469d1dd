"""Fan one ASGI lifespan out to each distinct ASGI app a Router mounts, as a single lifespan.

Theory of operation: on ``lifespan.startup`` each app gets its own lifespan call (a task, with a
copy of the scope whose ``state`` dict is the server's, so all apps share it). They start one
after another, in the order the routes were given (then ``fallback``), each awaited until it
answers. Then:

* ``lifespan.startup.complete``: the app runs; it will get ``lifespan.shutdown``.
* ``lifespan.startup.failed`` (or another lifespan message that is not an answer to startup):
  startup fails with ``"<route>: <message>"``; the apps already started are shut down first
  (newest first), the server gets ``lifespan.startup.failed``.
* the app raises before it answered, or returns without answering: it does not support lifespan
  and is left out, with one INFO line that says why. The ASGI lifespan spec: "If an exception is
  raised when calling the application callable with a ``lifespan.startup`` message or a
  ``scope`` with type ``lifespan``, the server must continue but not send any lifespan events."
  A naive app that treats every scope as ``http`` is one of these: the message it sends on the
  lifespan scope (``http.response.start``) is refused with an exception, as Uvicorn does.

On ``lifespan.shutdown`` the started apps are shut down newest first; any ``failed`` answer or
exception becomes one ``lifespan.shutdown.failed`` whose message lists them all. Apps still running
after that are cancelled. WSGI apps have no lifespan and are never part of this.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import anyio
from anyio.abc import TaskGroup
from asgiref.typing import (
    ASGI3Application,
    ASGIReceiveCallable,
    ASGIReceiveEvent,
    ASGISendCallable,
    ASGISendEvent,
    LifespanScope,
)

from .._errors import ApplicationError

__all__ = ["run_lifespan"]

logger = logging.getLogger("bridge")


async def run_lifespan(
    apps: Sequence[tuple[str, ASGI3Application]],
    scope: LifespanScope,
    receive: ASGIReceiveCallable,
    send: ASGISendCallable,
) -> None:
    """Serve one lifespan connection for the ``(label, app)`` pairs (see the module docs)."""
    await receive()  # lifespan.startup
    children = [_Child(label, app) for label, app in apps]
    try:
        async with anyio.create_task_group() as task_group:
            await _serve(children, task_group, scope, receive, send)
            task_group.cancel_scope.cancel()
    finally:
        for child in children:
            child.close()


async def _serve(
    children: list[_Child],
    task_group: TaskGroup,
    scope: LifespanScope,
    receive: ASGIReceiveCallable,
    send: ASGISendCallable,
) -> None:
    started: list[_Child] = []
    for child in children:
        task_group.start_soon(child.run, scope)
        problem = await child.start()
        if problem is not None:
            await _shut_down(started)
            await send({"type": "lifespan.startup.failed", "message": problem})
            return
        if child.running:
            started.append(child)
    await send({"type": "lifespan.startup.complete"})
    await receive()  # lifespan.shutdown
    problems = await _shut_down(started)
    if problems:
        await send({"type": "lifespan.shutdown.failed", "message": "; ".join(problems)})
    else:
        await send({"type": "lifespan.shutdown.complete"})


async def _shut_down(started: list[_Child]) -> list[str]:
    """Shut ``started`` down, newest first; return the failure messages."""
    problems = [await child.stop() for child in reversed(started)]
    return [problem for problem in problems if problem is not None]


class _Child:
    """One mounted app's lifespan call: a task talking to the router over two memory streams."""

    def __init__(self, label: str, app: ASGI3Application) -> None:
        self.label = label
        self.app = app
        self.running = False
        self._error: Exception | None = None
        self._to_app, self._inbox = anyio.create_memory_object_stream[ASGIReceiveEvent](math.inf)
        self._outbox, self._from_app = anyio.create_memory_object_stream[ASGISendEvent](math.inf)

    async def run(self, scope: LifespanScope) -> None:
        """Call the app with a copy of ``scope`` (sharing its ``state``) until it returns."""
        try:
            await self.app(LifespanScope(**scope), self._receive, self._send)
        except Exception as exc:
            self._error = exc
        finally:
            self._outbox.close()
            self._inbox.close()

    async def _receive(self) -> ASGIReceiveEvent:
        return await self._inbox.receive()

    async def _send(self, message: ASGISendEvent) -> None:
        kind = message.get("type")
        if not (isinstance(kind, str) and kind.startswith("lifespan.")):
            raise ApplicationError(f"unexpected message type {kind!r} on the lifespan scope")
        await self._outbox.send(message)

    async def start(self) -> str | None:
        """Send ``lifespan.startup`` and wait; return a failure message, or ``None``."""
        answer = await self._ask({"type": "lifespan.startup"})
        if answer is None:
            reason = "returned" if self._error is None else f"raised {self._error!r}"
            logger.info(
                "%s %s without answering lifespan.startup: it does not speak lifespan, and "
                "gets none (ASGI lifespan spec)",
                self.label,
                reason,
            )
            return None
        if answer["type"] == "lifespan.startup.complete":
            self.running = True
            return None
        if answer["type"] == "lifespan.startup.failed":
            return f"{self.label}: {answer.get('message', '')}"
        return f"{self.label} answered lifespan.startup with {answer['type']!r}"

    async def stop(self) -> str | None:
        """Send ``lifespan.shutdown`` and wait; return a failure message, or ``None``."""
        answer = await self._ask({"type": "lifespan.shutdown"})
        if answer is None:
            return None if self._error is None else f"{self.label} raised {self._error!r}"
        if answer["type"] == "lifespan.shutdown.complete":
            return None
        return f"{self.label}: {answer.get('message', '')}"

    async def _ask(self, message: ASGIReceiveEvent) -> ASGISendEvent | None:
        """Send ``message`` to the app and return its answer, or ``None`` once it has returned."""
        try:
            await self._to_app.send(message)
            return await self._from_app.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            return None

    def close(self) -> None:
        """Close all four stream ends (the app's too: it may never have been started)."""
        for stream in (self._to_app, self._inbox, self._outbox, self._from_app):
            stream.close()
