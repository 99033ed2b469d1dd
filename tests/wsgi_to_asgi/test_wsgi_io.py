"""WsgiToAsgi's file objects: ``wsgi.input`` semantics and ``wsgi.file_wrapper`` with pathsend."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bridge
from bridge._wsgi_to_asgi.wsgi_io import FileWrapper, WsgiInput, regular_file
from tests.wsgi_to_asgi.helpers import Exchange, http_scope, serve, threads_in_bridge, wsgi

PATHSEND = {"http.response.pathsend": {}}


@pytest.fixture(autouse=True)
def _no_thread_left_in_bridge() -> Iterator[None]:
    yield
    assert threads_in_bridge() == []


def stream(*chunks: bytes, content_length: int | None = None) -> WsgiInput:
    pending = list(chunks)
    result = WsgiInput(lambda: pending.pop(0) if pending else b"")
    result.limit(content_length)
    return result


# --- wsgi.input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calls", "expected"),
    [
        ([("read", None)], [b"ab\ncd\nef"]),
        ([("read", 0), ("read", 4), ("read", -1), ("read", 1)], [b"", b"ab\nc", b"d\nef", b""]),
        ([("readline", None), ("readline", 1), ("readline", 9)], [b"ab\n", b"c", b"d\n"]),
        ([("readline", 0), ("readline", -1), ("read", 2)], [b"", b"ab\n", b"cd"]),
        ([("readlines", None)], [[b"ab\n", b"cd\n", b"ef"]]),
        ([("readlines", 4)], [[b"ab\n", b"cd\n"]]),
        ([("readlines", 0)], [[b"ab\n", b"cd\n", b"ef"]]),
    ],
    ids=["read-all", "read-n", "readline-n", "readline-edge", "readlines", "readlines-hint",
         "readlines-zero"],
)  # fmt: skip
def test_pep3333_input_methods_follow_io_semantics(
    calls: list[tuple[str, int | None]], expected: list[Any]
) -> None:
    """PEP 3333 'Input and Error Streams': read, readline, readlines as io.BufferedReader."""
    body = stream(b"a", b"b\nc", b"d\ne", b"f")
    assert [getattr(body, name)(arg) for name, arg in calls] == expected


def test_pep3333_input_iterates_lines_and_ends_with_empty_bytes() -> None:
    """PEP 3333 'Input and Error Streams': ``__iter__`` yields lines; ``b""`` at the end."""
    body = stream(b"one\ntw", b"o\n")
    assert list(body) == [b"one\n", b"two\n"]
    assert body.read(10) == b""
    assert body.readline() == b""


def test_pep3333_input_stops_at_content_length_without_taking_more() -> None:
    """PEP 3333 CONTENT_LENGTH: the stream never reads past it (the rest is never taken)."""
    taken: list[bytes] = []
    pending = [b"abc", b"defg", b"never taken"]

    def take() -> bytes:
        taken.append(pending.pop(0))
        return taken[-1]

    body = WsgiInput(take)
    body.limit(5)
    assert body.read(-1) == b"abcde"
    assert body.read(1) == b""
    assert taken == [b"abc", b"defg"]


_CALLS = st.lists(
    st.tuples(
        st.sampled_from(["read", "readline", "readlines"]),
        st.one_of(st.none(), st.integers(min_value=-1, max_value=12)),
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(
    # take() returns b"" only at the end of the body (the Inbox never yields an empty chunk)
    chunks=st.lists(
        st.binary(min_size=1, max_size=9).map(lambda b: b.replace(b"\x00", b"\n")), max_size=8
    ),
    calls=_CALLS,
    cut=st.one_of(st.none(), st.integers(min_value=0, max_value=40)),
)
def test_pep3333_input_matches_bufferedreader_for_any_chunking(
    chunks: list[bytes], calls: list[tuple[str, int | None]], cut: int | None
) -> None:
    """PEP 3333 'Input and Error Streams' (the io semantics): for any split of the body into
    received chunks, any Content-Length cut and any sequence of calls, ``wsgi.input`` returns
    what :class:`io.BufferedReader` returns over the same bytes."""
    body = b"".join(chunks)
    reference = io.BufferedReader(io.BytesIO(body if cut is None else body[:cut]))  # type: ignore[arg-type]
    ours = stream(*chunks, content_length=cut)
    for name, arg in [*calls, ("read", -1)]:
        assert getattr(ours, name)(arg) == getattr(reference, name)(arg), (name, arg)


# --- wsgi.file_wrapper and pathsend -----------------------------------------------------------


def file_app(open_file: Any, headers: list[tuple[str, str]] | None = None) -> Any:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream"), *(headers or [])])
        return environ["wsgi.file_wrapper"](open_file(), 4)  # type: ignore[no-any-return]

    return app


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(b"0123456789")
    return path


@pytest.mark.anyio
async def test_asgi_pathsend_sends_a_regular_file_by_path_with_its_length(data_file: Path) -> None:
    """ASGI 'Path Send' extension: a named regular file at offset 0 goes by path (zero copy).
    Not validated: ``wsgiref.validate`` wraps the iterable and hides the file wrapper."""
    opened: list[Any] = []

    def open_file() -> Any:
        opened.append(data_file.open("rb"))
        return opened[-1]

    adapter = bridge.WsgiToAsgi(file_app(open_file))
    exchange = await serve(adapter, http_scope(extensions=PATHSEND))
    assert exchange.sent[1] == {"type": "http.response.pathsend", "path": str(data_file)}
    assert (b"content-length", b"10") in exchange.headers
    assert opened[0].closed


@pytest.mark.anyio
@pytest.mark.parametrize("content_length", [None, "10"])
async def test_asgi_pathsend_never_names_a_file_the_app_deletes_on_close(
    data_file: Path, content_length: str | None
) -> None:
    """ASGI 'Path Send' names a file by path, and a server may open it after ``send()``
    returned (Granian does). A file the app's ``close()`` deletes (a ``NamedTemporaryFile`` in
    Flask's ``send_file`` or Django's ``FileResponse``) is gone by then: its bytes are sent
    instead, read from a descriptor bridge kept (PEP 3333 ``wsgi.file_wrapper``: the result must
    be "the same as iterating"), with the same Content-Length."""
    closed: list[bool] = []

    class DeletedOnClose(io.FileIO):
        def close(self) -> None:
            if not self.closed:
                closed.append(True)
                data_file.unlink()
            super().close()

    headers = [] if content_length is None else [("Content-Length", content_length)]
    app = file_app(lambda: DeletedOnClose(data_file, "rb"), headers)
    exchange = await serve(bridge.WsgiToAsgi(app), http_scope(extensions=PATHSEND))
    assert closed == [True]
    assert all(m["type"] != "http.response.pathsend" for m in exchange.sent)
    assert exchange.body == b"0123456789"
    assert [v for n, v in exchange.headers if n == b"content-length"] == [b"10"]


@pytest.mark.anyio
async def test_asgi_pathsend_keeps_a_matching_content_length(data_file: Path) -> None:
    """ASGI 'Path Send': a declared Content-Length equal to the file size is kept as is."""
    app = file_app(lambda: data_file.open("rb"), [("Content-Length", "10")])
    exchange = await serve(bridge.WsgiToAsgi(app), http_scope(extensions=PATHSEND))
    assert exchange.sent[1]["type"] == "http.response.pathsend"
    assert [v for n, v in exchange.headers if n == b"content-length"] == [b"10"]


def _seeked(path: Path) -> Any:
    file = path.open("rb")
    file.seek(3)
    return file


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("extensions", "make", "headers", "method", "body"),
    [
        ({}, "file", [], "GET", b"0123456789"),
        (PATHSEND, "seeked", [], "GET", b"3456789"),
        (PATHSEND, "file", [("Content-Length", "4")], "GET", b"0123"),
        (PATHSEND, "bytesio", [], "GET", b"in memory"),
        (PATHSEND, "renamed", [], "GET", b"0123456789"),
        (PATHSEND, "file", [], "HEAD", b""),
    ],
    ids=["no-extension", "not-at-offset-0", "content-length-clash", "not-a-file",
         "path-now-elsewhere", "head"],
)  # fmt: skip
async def test_pep3333_file_wrapper_streams_in_blocks_when_pathsend_does_not_apply(
    data_file: Path,
    extensions: dict[str, Any],
    make: str,
    headers: list[tuple[str, str]],
    method: str,
    body: bytes,
) -> None:
    """PEP 3333 'Optional Platform-Specific File Handling': otherwise the wrapper is iterated
    in ``blksize`` blocks like any iterable, and closed."""
    opened: list[Any] = []

    def open_file() -> Any:
        if make == "bytesio":
            opened.append(io.BytesIO(b"in memory"))
        elif make == "seeked":
            opened.append(_seeked(data_file))
        else:
            opened.append(data_file.open("rb"))
            if make == "renamed":
                os.replace(data_file, data_file.with_suffix(".moved"))
                data_file.write_bytes(b"another file")
        return opened[-1]

    app = bridge.WsgiToAsgi(file_app(open_file, headers))  # unvalidated: see the pathsend test
    exchange = await serve(app, http_scope(method, extensions=extensions))
    assert all(m["type"] != "http.response.pathsend" for m in exchange.sent)
    assert exchange.body == body
    assert exchange.complete
    assert opened[0].closed
    if method == "GET" and make == "file" and not headers:
        assert [len(m["body"]) for m in exchange.bodies] == [4, 4, 2, 0]


def test_regular_file_refuses_what_cannot_be_sent_by_path(tmp_path: Path) -> None:
    """Only a named regular file qualifies: not a pipe, an fd-only file, or a closed file."""
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as pipe, os.fdopen(write_end, "wb"):
        assert regular_file(pipe) is None
    path = tmp_path / "f"
    path.write_bytes(b"x")
    with path.open("rb") as named, open(os.dup(named.fileno()), "rb") as unnamed:
        assert regular_file(named) == (str(path), 1)
        assert regular_file(unnamed) is None
    assert regular_file(named) is None  # closed
    assert regular_file(object()) is None


def test_file_wrapper_without_close_is_fine() -> None:
    """PEP 3333: the wrapper calls the file's close() only 'if it has one'."""

    class Reader:
        def __init__(self) -> None:
            self.data = [b"ab", b""]

        def read(self, size: int) -> bytes:
            return self.data.pop(0)

    wrapper = FileWrapper(Reader(), 2)  # type: ignore[arg-type]
    assert list(wrapper) == [b"ab"]
    wrapper.close()


@pytest.mark.anyio
async def test_asgi_pathsend_needs_start_response_first(data_file: Path) -> None:
    """PEP 3333: a file wrapper returned before start_response is still an app error."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return FileWrapper(data_file.open("rb"))

    exchange = Exchange()
    with pytest.raises(bridge.ApplicationError, match="start_response"):
        await serve(bridge.WsgiToAsgi(app), http_scope(extensions=PATHSEND), exchange)


@pytest.mark.anyio
async def test_pep3333_file_wrapper_through_middleware_is_streamed(data_file: Path) -> None:
    """PEP 3333: a wrapped file the server cannot recognise (here behind ``wsgiref.validate``)
    is an ordinary iterable, streamed in blocks."""
    app = wsgi(file_app(lambda: data_file.open("rb")))
    exchange = await serve(app, http_scope(extensions=PATHSEND))
    assert exchange.body == b"0123456789"
