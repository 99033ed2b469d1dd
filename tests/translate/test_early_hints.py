"""``bridge._translate.early_hints``: 103 Early Hints between ``wsgi.early_hints`` and ASGI.

RFC 8297 2: a 103 carries header fields (``Link``, RFC 8288) for the final response; the ASGI
"Early Hints" extension carries ``links``, the ``Link`` field values as byte strings; Gunicorn's
``wsgi.early_hints(headers)`` takes ``(name, value)`` pairs of ``str`` or ``bytes``.
"""

from __future__ import annotations

import pytest

from bridge import ApplicationError
from bridge._translate import early_hint_headers, early_hint_links

PRELOAD = "</style.css>; rel=preload; as=style"


@pytest.mark.parametrize(
    ("headers", "links"),
    [
        pytest.param([("Link", PRELOAD)], [PRELOAD.encode()], id="one-link"),
        pytest.param([("link", "</a>"), ("LINK", "</b>")], [b"</a>", b"</b>"], id="any-case"),
        pytest.param([(b"Link", b"</a>")], [b"</a>"], id="bytes-as-gunicorn-takes"),
        pytest.param([("Link", "  </a>\t")], [b"</a>"], id="surrounding-space-removed"),
        pytest.param([("X-Trace", "1"), ("Link", "</a>")], [b"</a>"], id="other-fields-dropped"),
        pytest.param([], [], id="none"),
        pytest.param((("Link", "</a>"),), [b"</a>"], id="any-iterable"),
    ],
)
def test_early_hint_links(headers: object, links: list[bytes]) -> None:
    assert early_hint_links(headers) == links


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        pytest.param("Link: </a>", "must be a list of", id="a-string"),
        pytest.param(None, "must be a list of", id="none"),
        pytest.param([["Link", "</a>"]], "must be a .name, value. tuple", id="list-pair"),
        pytest.param([("Link", 1)], "must be str or bytes", id="int-value"),
        pytest.param([("Link", "</a>\r\nSet-Cookie: x=1")], "control character", id="crlf"),
        pytest.param([("Bad Name", "x")], "not an HTTP token", id="bad-name"),
    ],
)
def test_early_hint_links_refuses_malformed_headers(headers: object, error: str) -> None:
    with pytest.raises(ApplicationError, match=error):
        early_hint_links(headers)


@pytest.mark.parametrize(
    ("links", "headers"),
    [
        pytest.param([PRELOAD.encode()], [("Link", PRELOAD)], id="one-link"),
        pytest.param((b"</a>", b" </b> "), [("Link", "</a>"), ("Link", "</b>")], id="two"),
        pytest.param([], [], id="none"),
    ],
)
def test_early_hint_headers(links: object, headers: list[tuple[str, str]]) -> None:
    assert early_hint_headers(links) == headers


@pytest.mark.parametrize(
    ("links", "error"),
    [
        pytest.param(b"</a>", "needs an iterable of byte strings", id="bytes"),
        pytest.param(None, "needs an iterable of byte strings", id="missing"),
        pytest.param(["</a>"], "must be bytes", id="str-link"),
        pytest.param([b"</a>\r\nX: y"], "control character", id="crlf"),
    ],
)
def test_early_hint_headers_refuses_malformed_links(links: object, error: str) -> None:
    with pytest.raises(ApplicationError, match=error):
        early_hint_headers(links)
