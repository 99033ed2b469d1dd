"""One request of :class:`~bridge.WsgiToAsgi`, its half facing the ASGI server: :class:`ServerTask`.

It runs on the server's event loop (see the package docstring for the theory of operation).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio

from .._errors import ClientDisconnected, ClientError, RequestTooLarge
from .._runners import Inbox, Runner, Signal, Started, cancellation_check, running_on_asyncio
from .._translate import build_environ, declares_body, error_response
from .app_call import AppCall
from .wsgi_io import FileWrapper, WsgiInput

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication, WSGIEnvironment

    from asgiref.typing import (
        ASGIReceiveCallable,
        ASGISendCallable,
        ASGISendEvent,
        HTTPRequestEvent,
        HTTPScope,
    )


__all__ = ["RECEIVE_WINDOW", "ServerTask", "Settings"]

#: How many request body bytes the pump reads ahead of ``wsgi.input``.
RECEIVE_WINDOW = 256 * 1024
_PATHSEND = "http.response.pathsend"
_EARLY_HINT = "http.response.early_hint"

_Spawn = Callable[[Callable[[], Coroutine[Any, Any, None]]], None]


def _spawn_nothing(func: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """What a finished request spawns: nothing (its task group is closed)."""


def _client_gone() -> ClientDisconnected:
    return ClientDisconnected("the client disconnected before the request body was complete")


@dataclass(frozen=True, slots=True)
class Settings:
    """What every request of one :class:`~bridge.WsgiToAsgi` shares: the app, runner, options.

    :param app: the WSGI application.
    :param runner: runs the app call beside the loop.
    :param send_window: response bytes that may wait unsent before the app call pauses.
    :param max_request_body_size: the largest request body accepted, or ``None``.
    :param duplicate_header_limit: how often one request header may repeat.
    :param multiprocess: the value of ``wsgi.multiprocess``.
    :param warn_dropped: told the hop-by-hop response header names the app sent.
    """

    app: WSGIApplication
    runner: Runner
    send_window: int
    max_request_body_size: int | None
    duplicate_header_limit: int
    multiprocess: bool
    warn_dropped: Callable[[Iterable[str]], None]


class ServerTask:
    """One HTTP request's half facing the ASGI server, on its loop (see the package docstring).

    :param settings: what every request of the adapter shares.
    :param scope: the request's ``http`` scope.
    """

    __slots__ = (
        "_app_call",
        "_body_complete",
        "_body_size",
        "_deferred",
        "_failure",
        "_inbox",
        "_pumping",
        "_receive",
        "_scope",
        "_send",
        "_sender_finished",
        "_sender_signal",
        "_settings",
        "_spawn",
    )  # fmt: skip

    def __init__(
        self,
        settings: Settings,
        scope: HTTPScope,
        receive: ASGIReceiveCallable,
        send: ASGISendCallable,
    ) -> None:
        self._settings = settings
        self._scope = scope
        self._receive = receive
        self._send = send
        self._body_size = 0
        self._body_complete = False  # whether the request body was read to its end
        self._pumping = False
        self._sender_finished = False
        self._sender_signal: Signal | None = None  # made when the response starts streaming
        self._failure: Exception | None = None  # a helper's send()/receive() failure
        self._inbox: Inbox | None = None  # the request body still to come, if any
        self._spawn: _Spawn | None = None  # starts a helper task once a task group is open
        self._deferred: list[Callable[[], Coroutine[Any, Any, None]]] = []  # until then
        extensions = scope.get("extensions") or {}
        self._app_call = AppCall(
            window=settings.send_window,
            method=scope["method"],
            pathsend=_PATHSEND in extensions,
            start_streaming=self._start_streaming,
            warn_dropped=settings.warn_dropped,
            coroutine_started=self._start_pump,
            hint_send=send if _EARLY_HINT in extensions else None,
        )

    async def respond(self) -> None:
        """Serve the request; re-raise the app's exception once the response is dealt with."""
        try:
            error = await self._respond()
        finally:
            self._app_call.release()
        if error is not None and not isinstance(error, ClientError):
            raise error
        if self._failure is not None:
            raise self._failure

    async def _respond(self) -> Exception | None:
        """Refuse a bad request from its headers, else receive its start and serve it."""
        try:
            # Before the first receive(): an ASGI server sends "100 Continue" only then, so a
            # client that asked for it never uploads a body that is refused anyway.
            environ = self._build_environ()
        except ClientError as exc:
            self._body_complete = not declares_body(self._scope.get("headers", ()))
            await self._finish(exc)
            return exc
        first = await self._receive()
        if first["type"] != "http.request":
            return None  # the client left before the app was called
        try:
            self._attach_body(environ, first)
        except ClientError as exc:
            await self._finish(exc)
            return exc
        return await self._serve(environ)

    async def _serve(self, environ: WSGIEnvironment) -> Exception | None:
        """Run the worker side and send its response; return the app's exception, if any.

        The runner starts the worker at once if it can (the greenlet runner runs a short
        response to its end right here); helper tasks are needed only while it still runs, or
        once it asked for the sender or the pump, and then a task group holds them.
        """
        if self._inbox is not None:
            self._start_pump()  # deferred: no task group yet
        started: Started[None] | None = None
        error: Exception | None = None
        try:
            settings = self._settings
            label = environ["REQUEST_METHOD"] + " " + self._scope["path"]
            started = settings.runner.start(
                partial(self._app_call.run, settings.app, environ), label=label
            )
        except Exception as exc:
            error = exc
        if not self._deferred and (started is None or started.done):
            await self._finish(error)  # the whole response is known: no helper task
        elif running_on_asyncio():
            error = await self._serve_on_asyncio(started, error)
        else:
            error = await self._serve_on_anyio(started, error)
        return error

    async def _serve_on_asyncio(
        self, started: Started[None] | None, error: Exception | None
    ) -> Exception | None:
        children: list[asyncio.Task[None]] = []
        async with asyncio.TaskGroup() as group:

            def spawn(func: Callable[[], Coroutine[Any, Any, None]]) -> None:
                children.append(group.create_task(func()))

            self._spawn_in(spawn)
            try:
                error = await self._wait_and_finish(started, error)
                for child in children:
                    child.cancel()
            finally:
                # A cancelled child keeps its CancelledError, whose traceback holds frames that
                # hold this responder: drop the way back to the children (no reference cycle).
                self._spawn = _spawn_nothing
                children.clear()
        return error

    async def _serve_on_anyio(
        self, started: Started[None] | None, error: Exception | None
    ) -> Exception | None:
        async with anyio.create_task_group() as group:

            def spawn(func: Callable[[], Coroutine[Any, Any, None]]) -> None:
                group.start_soon(func)

            self._spawn_in(spawn)
            try:
                error = await self._wait_and_finish(started, error)
                group.cancel_scope.cancel()
            finally:
                self._spawn = _spawn_nothing  # no reference cycle (see _serve_on_asyncio)
        return error

    def _spawn_in(self, spawn: _Spawn) -> None:
        """Start the deferred helpers with ``spawn``, and every later one."""
        self._spawn = spawn
        deferred, self._deferred = self._deferred, []
        for helper in deferred:
            spawn(helper)

    def _spawn_helper(self, helper: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Start a helper task, or keep it for the task group if none is open yet."""
        if self._spawn is None:
            self._deferred.append(helper)
        else:
            self._spawn(helper)

    async def _wait_and_finish(
        self, started: Started[None] | None, error: Exception | None
    ) -> Exception | None:
        """Wait for the worker, if it started, then send the response."""
        if started is not None:
            try:
                await started.finish(on_cancel=self._disconnect)
            except Exception as exc:
                error = exc
        await self._finish(error)
        return error

    def _build_environ(self) -> WSGIEnvironment:
        """The request's environ, from the scope alone; a declared body over the limit is 413.

        ``wsgi.input`` reads nothing until :meth:`_attach_body` gives it the body.
        """
        settings = self._settings
        environ = build_environ(
            self._scope,
            wsgi_input=WsgiInput(bytes),
            wsgi_errors=sys.stderr,
            multiprocess=settings.multiprocess,
            duplicate_header_limit=settings.duplicate_header_limit,
        )
        limit = settings.max_request_body_size
        if limit is not None and int(environ.get("CONTENT_LENGTH") or 0) > limit:
            raise RequestTooLarge(f"the request body is larger than {limit} bytes")
        environ["wsgi.file_wrapper"] = FileWrapper
        if _EARLY_HINT in (self._scope.get("extensions") or {}):
            environ["wsgi.early_hints"] = self._app_call.early_hints
        return environ

    def _attach_body(self, environ: WSGIEnvironment, first: HTTPRequestEvent) -> None:
        """Give ``wsgi.input`` the body: the first message's bytes, then the pump's, if more."""
        body = first.get("body", b"")
        more = first.get("more_body", False)
        self._body_size = len(body)
        self._body_complete = not more
        if not (body or more):
            return  # no body at all (a GET): the environ's input already reads b""
        if more:
            self._inbox = Inbox(window=RECEIVE_WINDOW, first=body, complete=False)
            wsgi_input = WsgiInput(self._take)
        else:  # the whole body is here: no inbox, no wait
            wsgi_input = WsgiInput(partial(next, iter((body,)), b""))
        length = environ.get("CONTENT_LENGTH")
        wsgi_input.limit(None if length is None else int(length))
        environ["wsgi.input"] = wsgi_input
        limit = self._settings.max_request_body_size
        if limit is not None and self._body_size > limit:
            raise RequestTooLarge(f"the request body is larger than {limit} bytes")

    def _take(self) -> bytes:
        """``wsgi.input``'s source of bytes (worker side)."""
        link = self._app_call.link
        assert link is not None
        assert self._inbox is not None
        return self._inbox.take(link)

    def _start_pump(self) -> None:
        if not self._pumping:
            self._pumping = True
            self._spawn_helper(partial(self._guard, self._pump))

    async def _guard(self, helper: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run a helper task; if it fails, stop both channels and keep what it raised."""
        try:
            await helper()
        except OSError:
            self._disconnect()  # ASGI 2.4: send() raises OSError once the client is gone
        except Exception as exc:  # the server's send()/receive() broke: re-raised by respond()
            self._failure = self._failure or exc
            self._disconnect()
        except BaseException:
            self._disconnect()
            raise

    async def _pump(self) -> None:
        """Own ``receive()``: feed the body into the inbox, then wait for a disconnect."""
        limit = self._settings.max_request_body_size
        inbox = self._inbox
        while True:
            if inbox is not None and not inbox.complete:
                await inbox.wait_for_room()
            message = await self._receive()
            if message["type"] != "http.request":
                self._disconnect()
                return
            if inbox is None or inbox.complete:
                continue  # nothing more to read; keep listening for the disconnect
            body = message.get("body", b"")
            self._body_size += len(body)
            if limit is not None and self._body_size > limit:
                message_text = f"the request body is larger than {limit} bytes"
                inbox.fail(partial(RequestTooLarge, message_text))
                return
            inbox.feed(body, complete=not message.get("more_body", False))

    def _disconnect(self) -> None:
        """Stop both channels: the client is gone or the request task is being cancelled."""
        self._app_call.stop()
        if self._sender_signal is not None:
            self._sender_signal.notify()
        if self._inbox is not None and not self._inbox.complete:
            self._inbox.fail(_client_gone)

    def _start_streaming(self) -> None:
        """Start the sender and the pump (called on the loop by the worker's first flush)."""
        self._sender_signal = Signal()
        if self._app_call.stopped:  # cancelled or disconnected meanwhile: nothing will be sent
            self._app_call.stop()  # stops the outbox too, which the worker made after it stopped
            return
        self._spawn_helper(partial(self._guard, self._send_loop))
        self._start_pump()

    async def _send_loop(self) -> None:
        """Send what the worker puts in the outbox, in order, until it is closed."""
        cancelled = cancellation_check()
        outbox = self._app_call.outbox
        assert outbox is not None  # made by the flush that started this sender
        try:
            while (entry := await outbox.get()) is not None:
                message, size = entry
                if cancelled():
                    # Checked here because send() may never yield, and anyio may not deliver a
                    # cancellation to a task started after it (trio backend).
                    self._disconnect()
                    return
                await self._send(message)
                outbox.done(size)
        finally:
            self._sender_finished = True
            assert self._sender_signal is not None  # made before this sender started
            self._sender_signal.notify()

    @property
    def _http1(self) -> bool:
        """Whether the connection speaks HTTP/1.x, where ``Connection: close`` means something."""
        return self._scope.get("http_version", "1.1") in ("1.0", "1.1")

    async def _finish(self, error: Exception | None) -> None:
        """Send what the worker left, or an error response if nothing was sent yet.

        A ``send()`` failing with anything but ``OSError`` is the server's own problem: kept,
        and re-raised as it is by :meth:`respond`.
        """
        app_call = self._app_call
        outbox = app_call.outbox
        try:
            if outbox is not None:  # streamed
                outbox.close(app_call.pending if error is None else ())
                # Once the client is gone, a send() that still blocks is cancelled, not awaited.
                while not (self._sender_finished or outbox.stopped):
                    assert self._sender_signal is not None  # made with the outbox
                    await self._sender_signal.wait()
            elif not app_call.stopped:
                if error is None:
                    messages = [message for message, _ in app_call.pending]
                elif isinstance(error, ClientError):
                    close = self._http1 and not self._body_complete
                    messages = _error_messages(error.status_code, close=close)
                else:  # re-raised to the server, which may close the connection (Uvicorn does)
                    messages = _error_messages(500, close=self._http1)
                for message in messages:
                    await self._send(message)
        except OSError:
            pass  # ASGI 2.4: the client is gone, and nothing else is waiting for it
        except Exception as exc:
            self._failure = self._failure or exc


def _error_messages(status: int, *, close: bool) -> list[ASGISendEvent]:
    """bridge's own error answer, with ``Connection: close`` if ``close``."""
    headers, body = error_response(status, close=close)
    return [
        {"type": "http.response.start", "status": status, "headers": headers, "trailers": False},
        {"type": "http.response.body", "body": body, "more_body": False},
    ]
