"""A Falcon (WSGI) app for the real-application matrix (``wsgi_frameworks``).

Falcon reads JSON media from a bounded ``wsgi.input``, answers errors as JSON, and hands a
``resp.stream`` that has ``read()`` to ``wsgi.file_wrapper`` (here an in-memory ``BytesIO``: no
file descriptor, so it must be streamed, never sent by path).
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import falcon
from patterns import blocks


class Notes:
    """A small in-memory collection: POST JSON, GET it back."""

    def __init__(self) -> None:
        self.notes: list[dict[str, object]] = []

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {
            "notes": self.notes,
            "root_path": req.root_path,
            "limit": req.get_param_as_int("limit"),
        }

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        media = req.get_media()
        if not isinstance(media, dict) or not isinstance(media.get("text"), str):
            raise falcon.HTTPBadRequest(
                title="bad note", description="a note needs a 'text' string"
            )
        self.notes.append({"id": len(self.notes) + 1, "text": media["text"]})
        resp.status = falcon.HTTP_201
        resp.location = f"{req.root_path}/notes/{len(self.notes)}"
        resp.media = self.notes[-1]


class Report:
    """``size`` bytes of ``patterns.blocks`` from a file-like object with no file descriptor."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = "application/octet-stream"
        size = req.get_param_as_int("size", default=1024 * 1024)
        resp.stream = io.BytesIO(b"".join(blocks(size)))


class Ticks:
    """``n`` lines from a generator: a body of unknown length, streamed."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        count = req.get_param_as_int("n", default=100)

        def lines() -> Iterator[bytes]:
            for number in range(count):
                yield f"tick {number}\n".encode()

        resp.content_type = "text/plain"
        resp.stream = lines()


app = falcon.App()
app.add_route("/notes", Notes())
app.add_route("/report", Report())
app.add_route("/ticks", Ticks())
