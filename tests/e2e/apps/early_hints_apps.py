"""Apps that send 103 Early Hints, then wait for the rest of the request body before they answer.

The client sends the first bytes of the body with the head (an ASGI server may wait for them
before it calls the app), and the rest only once it has read the 103: so a test that gets its
final response has proved the hint left before the response was even produced.

``wsgi_hints`` (for ASGI servers) is a WSGI app calling ``environ["wsgi.early_hints"]``;
``asgi_hints`` (for WSGI servers) an ASGI app sending ``http.response.early_hint``. Each says in
its body whether the interface offered hints.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import bridge

LINK = "</style.css>; rel=preload; as=style"


def hinting_wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    hints = environ.get("wsgi.early_hints")
    if hints is not None:
        hints([("Link", LINK)])
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hints offered: %s; body: %s" % (b"yes" if hints else b"no", body)]


async def hinting_asgi_app(scope: Any, receive: Any, send: Any) -> None:
    offered = "http.response.early_hint" in scope["extensions"]
    if offered:
        await send({"type": "http.response.early_hint", "links": [LINK.encode()]})
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    headers = [(b"content-type", b"text/plain")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    answer = b"hints offered: %s; body: %s" % (b"yes" if offered else b"no", body)
    await send({"type": "http.response.body", "body": answer, "more_body": False})


wsgi_hints = bridge.WsgiToAsgi(hinting_wsgi_app)
asgi_hints = bridge.AsgiToWsgi(hinting_asgi_app, lifespan="off")
