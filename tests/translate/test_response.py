"""``bridge._translate.response``: status lines and response headers both ways (PEP 3333)."""

from __future__ import annotations

from typing import Any

import pytest

from bridge import ApplicationError
from bridge._translate import (
    HeaderTranslation,
    asgi_headers_to_wsgi,
    error_response,
    parse_status,
    response_content_length,
    response_has_body,
    response_start,
    status_line,
    wsgi_headers_to_asgi,
)
from tests.translate.helpers import (
    HOP_BY_HOP,
)

# --- status lines ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "line"),
    [
        (100, "100 Continue"),
        (200, "200 OK"),
        (204, "204 No Content"),
        (404, "404 Not Found"),
        (500, "500 Internal Server Error"),
        (299, "299 Unknown"),
        (599, "599 Unknown"),
    ],
)
def test_status_line(code: int, line: str) -> None:
    """PEP 3333 ``status``: code, space, reason phrase; unknown codes still get a valid line."""
    assert status_line(code) == line
    assert parse_status(line) == code


@pytest.mark.parametrize("code", [99, 600, 1000, -200, True, "200", 200.0, None])
def test_status_line_refuses_invalid_codes(code: object) -> None:
    """RFC 9110 15: status codes are integers from 100 to 599."""
    with pytest.raises(ApplicationError, match="integer from 100 to 599, got"):
        status_line(code)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        pytest.param("200 OK", 200, id="ok"),
        pytest.param("200", 200, id="no-reason"),
        pytest.param("200 ", 200, id="empty-reason"),
        pytest.param("404 Not Found", 404, id="multi-word"),
        pytest.param("299 Whatever", 299, id="unknown-code"),
        pytest.param("599 x", 599, id="highest"),
        pytest.param("100 Continue", 100, id="lowest"),
        pytest.param("200 Ok\tfine", 200, id="tab"),
        pytest.param("200 \xd6kay", 200, id="latin1-obs-text"),
    ],
)
def test_parse_status_accepts(status: str, code: int) -> None:
    """PEP 3333 ``status``; RFC 9112 4 ``reason-phrase = *( HTAB / SP / VCHAR / obs-text )``."""
    assert parse_status(status) == code


@pytest.mark.parametrize(
    "status",
    [
        "",
        "OK",
        "20 OK",
        "2000 OK",
        "200OK",
        " 200 OK",
        "099 Low",
        "600 Too High",
        "200 OK\r\n",
        "200 OK\nSet-Cookie: a=1",
        "200 OK\x00",
        "200 OK\x7f",
        "200 \u20ac",
        "\uff12\uff10\uff10 OK",
    ],
)
def test_parse_status_refuses_garbage(status: str) -> None:
    """PEP 3333: status must not hold control characters; RFC 9110 15: code 100 to 599."""
    with pytest.raises(ApplicationError, match="code from 100 to 599, got"):
        parse_status(status)


@pytest.mark.parametrize("status", [200, True, None, b"200 OK", ("200", "OK")])
def test_parse_status_refuses_non_str(status: object) -> None:
    """PEP 3333: ``status`` is a native string."""
    with pytest.raises(ApplicationError, match="status must be a str"):
        parse_status(status)


@pytest.mark.parametrize(
    ("status", "method", "has_body"),
    [
        (200, "GET", True),
        (404, "POST", True),
        (200, "HEAD", False),
        (500, "HEAD", False),
        (100, "GET", False),
        (101, "GET", False),
        (199, "GET", False),
        (204, "GET", False),
        (304, "GET", False),
        (304, "HEAD", False),
    ],
)
def test_response_has_body(status: int, method: str, has_body: bool) -> None:
    """RFC 9110 6.4.1: no content for HEAD, 1xx, 204 and 304 responses."""
    assert response_has_body(status, method) is has_body


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, b"400 Bad Request\n"),
        (500, b"500 Internal Server Error\n"),
        (504, b"504 Gateway Timeout\n"),
    ],
)
def test_error_response(status: int, body: bytes) -> None:
    """The plain-text answer to a failed request, with an exact Content-Length (RFC 9110 8.6)."""
    headers, actual = error_response(status)
    assert actual == body
    assert headers == [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    assert response_content_length(headers) == len(body)


def test_error_response_closing_the_connection_says_so() -> None:
    """RFC 9112 9.6: "A server that sends a "close" connection option MUST initiate closure of
    the connection ... after it sends the response containing close"; the header says it."""
    headers, _ = error_response(500, close=True)
    assert headers[-1] == (b"connection", b"close")


def test_error_response_refuses_invalid_status() -> None:
    """RFC 9110 15: bridge never answers with an invalid status code either."""
    with pytest.raises(ApplicationError, match="from 100 to 599, got 600"):
        error_response(600)


# --- response headers --------------------------------------------------------------------------


def test_wsgi_headers_to_asgi_lower_cases_names_and_encodes_latin1() -> None:
    """ASGI "Response Start": lower-case byte names; PEP 3333 headers are latin-1 strings."""
    headers = [("Content-Type", "text/html"), ("X-A", ""), ("X-B", "caf\xe9\tok")]
    assert wsgi_headers_to_asgi(headers) == HeaderTranslation(
        [(b"content-type", b"text/html"), (b"x-a", b""), (b"x-b", b"caf\xe9\tok")], []
    )


def test_asgi_headers_to_wsgi_decodes_latin1() -> None:
    """ASGI header byte pairs (lists or tuples) become PEP 3333 ``(str, str)`` tuples."""
    headers = [(b"content-type", b"text/html"), [b"X-A", b"\xe9"], (b"x-b", b"")]
    assert asgi_headers_to_wsgi(headers) == HeaderTranslation(
        [("content-type", "text/html"), ("X-A", "\xe9"), ("x-b", "")], []
    )


def test_response_header_values_lose_surrounding_whitespace_rfc9110_5_5() -> None:
    """RFC 9110 5.5: leading/trailing SP and HTAB are not part of a field value.

    Django writes ``Set-Cookie`` with a leading space; h11 refuses such a value outright.
    """
    wsgi = [("Set-Cookie", " csrftoken=abc; Path=/"), ("X-A", "\t a b \t")]
    assert wsgi_headers_to_asgi(wsgi).headers == [
        (b"set-cookie", b"csrftoken=abc; Path=/"),
        (b"x-a", b"a b"),
    ]
    asgi = [(b"set-cookie", b" csrftoken=abc; Path=/ "), (b"x-a", b"\ta b\t")]
    assert asgi_headers_to_wsgi(asgi).headers == [
        ("set-cookie", "csrftoken=abc; Path=/"),
        ("x-a", "a b"),
    ]


@pytest.mark.parametrize("name", HOP_BY_HOP)
def test_hop_by_hop_headers_are_dropped_and_reported(name: str) -> None:
    """PEP 3333 "Other HTTP Features": apps must not send hop-by-hop headers (RFC 9110 7.6.1)."""
    wsgi = [("X-A", "1"), (name, "x"), ("X-B", "2")]
    asgi = [(b"x-a", b"1"), (name.encode(), b"x"), (b"x-b", b"2")]
    assert wsgi_headers_to_asgi(wsgi) == ([(b"x-a", b"1"), (b"x-b", b"2")], [name.lower()])
    assert asgi_headers_to_wsgi(asgi) == ([("x-a", "1"), ("x-b", "2")], [name.lower()])


UNSAFE_VALUES = [
    pytest.param("a\r\nSet-Cookie: x=1", id="crlf-injection"),
    pytest.param("a\rb", id="cr"),
    pytest.param("a\nb", id="lf"),
    pytest.param("a\x00b", id="nul"),
    pytest.param("a\x01b", id="other-control"),
    pytest.param("a\x7fb", id="del"),
]
BAD_NAMES = [
    pytest.param("", id="empty"),
    pytest.param("X A", id="space"),
    pytest.param("X:A", id="colon"),
    pytest.param("X\r\nA", id="crlf"),
    pytest.param("X(A)", id="separator"),
    pytest.param("\xc4", id="latin1-letter"),
]


@pytest.mark.parametrize("value", UNSAFE_VALUES)
def test_response_header_values_with_control_characters_are_refused(value: str) -> None:
    """RFC 9110 5.5: CR, LF and NUL (header injection) and other CTLs are invalid in values."""
    with pytest.raises(ApplicationError, match="'X-A' holds a control character"):
        wsgi_headers_to_asgi([("X-A", value)])
    with pytest.raises(ApplicationError, match="'X-A' holds a control character"):
        asgi_headers_to_wsgi([(b"X-A", value.encode("latin-1"))])
    with pytest.raises(ApplicationError, match="'Location' holds a control character"):
        wsgi_headers_to_asgi([("Location", value)])  # a common name, checked another way


def test_response_header_values_may_hold_htab_and_latin1() -> None:
    """RFC 9110 5.5: HTAB and obs-text (0x80-0xFF) are allowed inside a field value."""
    wsgi = [("Content-Type", "a\tb\xe9"), ("X-A", "a\tb\xe9")]
    assert wsgi_headers_to_asgi(wsgi).headers == [
        (b"content-type", b"a\tb\xe9"),
        (b"x-a", b"a\tb\xe9"),
    ]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_response_header_names_must_be_tokens(name: str) -> None:
    """RFC 9110 5.1: a field name is a ``token``."""
    with pytest.raises(ApplicationError, match="name is not an HTTP token"):
        wsgi_headers_to_asgi([(name, "1")])
    with pytest.raises(ApplicationError, match="name is not an HTTP token"):
        asgi_headers_to_wsgi([(name.encode("latin-1"), b"1")])


def test_wsgi_header_values_must_be_latin1() -> None:
    """PEP 3333 "Unicode Issues": header strings must be representable in latin-1."""
    with pytest.raises(ApplicationError, match="'X-A' is not latin-1"):
        wsgi_headers_to_asgi([("X-A", "\u20ac")])


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        pytest.param((("a", "b"),), "must be a list, got tuple", id="tuple-of-headers"),
        pytest.param(None, "must be a list, got NoneType", id="none"),
        pytest.param([["a", "b"]], "must be a \\(name, value\\) tuple", id="list-item"),
        pytest.param([("a", "b", "c")], "must be a \\(name, value\\) tuple", id="three-items"),
        pytest.param([(b"a", b"b")], "name and value must be str", id="bytes"),
        pytest.param([("a", 1)], "name and value must be str", id="int-value"),
    ],
)
def test_wsgi_headers_to_asgi_refuses_wrong_shapes(headers: object, message: str) -> None:
    """PEP 3333 ``start_response``: ``response_headers`` is a list of ``(str, str)`` tuples."""
    with pytest.raises(ApplicationError, match=message):
        wsgi_headers_to_asgi(headers)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        pytest.param(None, "must be an iterable of pairs", id="none"),
        pytest.param(5, "must be an iterable of pairs", id="int"),
        pytest.param([(b"a",)], "must be a \\[name, value\\] pair of bytes", id="one-item"),
        pytest.param([(b"a", b"b", b"c")], "pair of bytes", id="three-items"),
        pytest.param([("a", "b")], "pair of bytes", id="str-pair"),
        pytest.param([b"ab"], "pair of bytes", id="bytes-as-pair"),
        pytest.param([5], "pair of bytes", id="int-pair"),
    ],
)
def test_asgi_headers_to_wsgi_refuses_wrong_shapes(headers: Any, message: str) -> None:
    """ASGI "Response Start": ``headers`` is an iterable of ``[name, value]`` byte pairs."""
    with pytest.raises(ApplicationError, match=message):
        asgi_headers_to_wsgi(headers)


@pytest.mark.parametrize(
    ("headers", "length"),
    [
        pytest.param([], None, id="none"),
        pytest.param([(b"x-a", b"1")], None, id="other-headers"),
        pytest.param([(b"content-length", b"12")], 12, id="one"),
        pytest.param([(b"Content-Length", b" 12 ")], 12, id="case-and-spaces"),
        pytest.param([(b"content-length", b"0")], 0, id="zero"),
        pytest.param([(b"content-length", b"7"), (b"content-length", b"7")], 7, id="equal"),
    ],
)
def test_response_content_length(headers: list[tuple[bytes, bytes]], length: int | None) -> None:
    """RFC 9110 8.6: ``Content-Length = 1*DIGIT``; equal repeats count once."""
    assert response_content_length(headers) == length


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param([b"1", b"2"], "conflicting content-length values", id="conflicting"),
        pytest.param([b"x"], "non-negative integer, got b'x'", id="letters"),
        pytest.param([b"-1"], "non-negative integer", id="negative"),
        pytest.param([b""], "non-negative integer", id="empty"),
    ],
)
def test_response_content_length_refuses_invalid(values: list[bytes], message: str) -> None:
    """RFC 9110 8.6: any other Content-Length is invalid, and the app broke the response."""
    with pytest.raises(ApplicationError, match=message):
        response_content_length([(b"content-length", value) for value in values])


@pytest.mark.parametrize(
    "pair",
    [
        pytest.param((b"content-type", b" text/plain "), id="common-name"),
        pytest.param([b"content-type", b"text/plain"], id="list-pair"),
        pytest.param((b"content-type", b"a\tb\xe9"), id="htab-and-latin1"),
        pytest.param((b"Content-Type", b"text/plain"), id="not-lower-case"),
        pytest.param((b"x-custom", b"1"), id="uncommon-name"),
    ],
)
def test_common_response_names_take_a_shortcut_with_the_same_result(pair: Any) -> None:
    """ASGI "Response Start" headers to PEP 3333: the shortcut for common names (checked once,
    ahead of time) gives what the full per-header checks give."""
    name, value = pair
    expected = (name.decode("latin-1"), value.decode("latin-1").strip(" \t"))
    assert asgi_headers_to_wsgi([pair]).headers == [expected]


@pytest.mark.parametrize("value", [b"a\r\nSet-Cookie: x=1", b"a\x00b", 5, "text/plain"])
def test_common_response_names_still_refuse_bad_values(value: Any) -> None:
    """RFC 9110 5.5 (no CR, LF or NUL in a field value) and ASGI's byte pairs hold for the
    common names too."""
    with pytest.raises(ApplicationError, match=r"control character|pair of bytes"):
        asgi_headers_to_wsgi([(b"content-type", value)])


def test_status_lines_of_unusual_codes() -> None:
    """PEP 3333 ``status``: registered codes get their phrase, others ``Unknown``; a bool is no
    status code, even though ``True == 1``."""
    assert status_line(418) == "418 I'm a Teapot"
    assert status_line(599) == "599 Unknown"
    with pytest.raises(ApplicationError, match="integer from 100 to 599"):
        status_line(True)


def test_response_start_checks_and_translates_start_response_arguments_once_each() -> None:
    """PEP 3333 ``start_response(status, response_headers)``: one memoised call gives the code,
    the ASGI headers, the dropped hop-by-hop names and the declared Content-Length; each call
    returns a new header list (the adapter appends to it), repeated calls give equal results,
    and arguments that fail the checks fail every time, hashable or not."""
    headers = [("Content-Type", "text/plain"), ("Connection", "close"), ("Content-Length", "2")]
    first = response_start("200 OK", headers)
    assert first == (200, [(b"content-type", b"text/plain"), (b"content-length", b"2")],
                     ("connection",), 2)  # fmt: skip
    first[1].append((b"x-added", b"1"))
    again = response_start("200 OK", list(headers))
    assert again == (200, [(b"content-type", b"text/plain"), (b"content-length", b"2")],
                     ("connection",), 2)  # fmt: skip
    assert again[1] is not first[1]
    assert response_start("404 Not Found", []) == (404, [], (), None)
    unhashable: Any = [["Content-Type", "text/plain"]]
    bad_calls: list[tuple[Any, Any, str]] = [
        ("200 OK", [("X A", "1")], "not an HTTP token"),
        ("20 OK", [], "status must be a code"),
        (["200 OK"], [], "status must be a str"),
        ("200 OK", unhashable, "must be a \\(name, value\\) tuple"),
        ("200 OK", ("Content-Type", "text/plain"), "must be a list"),
        ("200 OK", [("Content-Length", "x")], "non-negative integer"),
    ]
    for status, bad_headers, message in bad_calls:
        for _ in range(2):
            with pytest.raises(ApplicationError, match=message):
                response_start(status, bad_headers)


def test_a_repeated_response_header_list_gives_fresh_lists_and_the_same_result() -> None:
    """PEP 3333 ``start_response(status, response_headers)``: the memoised translation of a
    list an app sends again returns new lists each time (the adapter appends to them) and still
    reports the hop-by-hop names it dropped; a list that fails the checks fails every time."""
    headers = [("Content-Type", "text/plain"), ("Connection", "close"), ("Content-Length", "2")]
    first = wsgi_headers_to_asgi(headers)
    first.headers.append((b"x-added", b"1"))
    first.dropped.clear()
    again = wsgi_headers_to_asgi(list(headers))
    assert again == ([(b"content-type", b"text/plain"), (b"content-length", b"2")], ["connection"])
    for _ in range(2):
        with pytest.raises(ApplicationError, match="not an HTTP token"):
            wsgi_headers_to_asgi([("X A", "1")])
