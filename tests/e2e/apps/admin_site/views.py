"""Views beside the admin: an async view using the async ORM, an async stream, a CSV export.

``/export/`` writes the documents into a ``NamedTemporaryFile`` and returns it as a
``FileResponse``: the file is deleted when the response is closed, as in most "download a
report" views.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator

from django.http import FileResponse, HttpRequest, JsonResponse, StreamingHttpResponse

from admin_site.models import Document


async def stats(request: HttpRequest) -> JsonResponse:
    """List the documents with the async ORM, after yielding to the event loop once."""
    await asyncio.sleep(0)
    return JsonResponse(
        {
            "count": await Document.objects.acount(),
            "documents": [[doc.pk, doc.title] async for doc in Document.objects.order_by("pk")],
            "path": request.path,
            "script_name": request.META.get("SCRIPT_NAME"),
            "async": asyncio.current_task() is not None,
        }
    )


async def countdown(request: HttpRequest) -> StreamingHttpResponse:
    """Stream ``n`` lines from an async generator (ASGI only: WSGI would consume it up front)."""
    count = int(request.GET.get("n", "5"))

    async def lines() -> AsyncIterator[bytes]:
        for number in range(count, 0, -1):
            await asyncio.sleep(0)
            yield f"{number}\n".encode()

    return StreamingHttpResponse(lines(), content_type="text/plain")


def export(request: HttpRequest) -> FileResponse:
    """Return the documents as CSV in a temporary file that is deleted when the response closes."""
    out = tempfile.NamedTemporaryFile(suffix=".csv")  # noqa: SIM115  (the response closes it)
    out.write(b"id,title\n")
    for doc in Document.objects.order_by("pk"):
        out.write(f"{doc.pk},{doc.title}\n".encode())
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename="documents.csv")
