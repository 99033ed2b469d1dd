"""Fan one ASGI lifespan out to each distinct ASGI app a Router mounts, as a single lifespan.

Theory of operation: on ``lifespan.startup`` each app gets its own lifespan call (a task, with a
copy of the scope whose ``state`` dict is the server's, so all apps share it). They start one
after another, in the order the routes were given (then ``fallback``), each awaited until it
answers. Then:

* ``lifespan.startup.complete``: the app runs; it will get ``lifespan.shutdown``.
* ``lifespan.startup.failed``: startup fails with ``"<route>: <message>"``; the apps already
  started are shut down first (newest first), the server gets ``lifespan.startup.failed``.
* the app raises before it received the startup message, or returns without answering: it does
  not support lifespan (ASGI spec: the server must continue) and is left out, with a debug log.
* the app raises after receiving the startup message: a startup failure, with the exception's repr.

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
        self._received_startup = False
        self._error: Exception | None = None
        self._to_app, self._inbox = anyio.create_memory_object_stream[ASGIReceiveEvent](math.inf)
        self._outbox, self._from_app = anyio.create_memory_object_stream[ASGISendEvent](math.inf)

    async def run(self, scope: LifespanScope) -> None:
        """Call the app with a copy of ``scope`` (sharing its ``state``) until it returns."""
        try:
            await self.app(LifespanScope(**scope), self._receive, self._outbox.send)
        except Exception as exc:
            self._error = exc
        finally:
            self._outbox.close()
            self._inbox.close()

    async def _receive(self) -> ASGIReceiveEvent:
        message = await self._inbox.receive()
        self._received_startup = True
        return message

    async def start(self) -> str | None:
        """Send ``lifespan.startup`` and wait; return a failure message, or ``None``."""
        answer = await self._ask({"type": "lifespan.startup"})
        if answer is not None:
            if answer["type"] == "lifespan.startup.complete":
                self.running = True
                return None
            return f"{self.label}: {answer.get('message', '')}"
        if self._error is not None and self._received_startup:
            return f"{self.label} raised {self._error!r} during startup"
        logger.debug("%s does not support lifespan; it gets none", self.label, exc_info=self._error)
        return None

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
