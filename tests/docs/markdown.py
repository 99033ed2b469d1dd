"""The documentation's Markdown files, their fenced code blocks, and the comment that says what
each block is.

A block is preceded (on the nearest non-blank line) by one HTML comment, invisible on a Git host
and in the HTML site, that tells the tests what to do with it:

- ``<!-- snippet: PATH -->``: the block is the whole file ``PATH`` (relative to the page);
- ``<!-- excerpt: PATH -->``: the block is consecutive lines of ``PATH``;
- ``<!-- run -->`` or ``<!-- run: cwd=DIR env=NAME=VALUE make=FILE:BYTES -->``: a console block
  whose ``$`` commands are run (servers on 127.0.0.1; see ``console.py``);
- ``<!-- check: WHAT -->``: a block the tests compare with the code (``signature NAME``,
  ``exception-tree``);
- ``<!-- skip: REASON -->``: a block deliberately not run, and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs"
KINDS = ("snippet", "excerpt", "run", "check", "skip")

#: Pages left out of every check, and why.
NOT_CHECKED = {
    "benchmarks/README.md": "the benchmark harness's own commands, which take minutes",
    # Rewritten separately; give its blocks markers and delete this entry when it lands.
    "docs/benchmarks.md": "benchmark commands and their reports",
}

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<kind>[a-z-]+)\s*(?::\s*(?P<args>.*?))?\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int  # of the opening fence, from 1
    info: str
    body: str
    marker: tuple[str, str] | None  # (kind, arguments) of the comment before the block

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(REPO_ROOT)}:{self.line}"

    def path_argument(self) -> Path:
        """The file a ``snippet`` or ``excerpt`` marker names, resolved against the page."""
        assert self.marker is not None
        return (self.page.parent / self.marker[1]).resolve()


def pages() -> list[Path]:
    """Every Markdown page whose code blocks the tests check."""
    found = [
        *sorted(DOCS.glob("*.md")),
        REPO_ROOT / "README.md",
        *sorted(REPO_ROOT.glob("examples/*/README.md")),
    ]
    return [page for page in found if str(page.relative_to(REPO_ROOT)) not in NOT_CHECKED]


def blocks(page: Path) -> list[Block]:
    """Return the fenced code blocks of ``page``, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        body = "\n".join(line[indent:] for line in lines[index + 1 : end])
        found.append(Block(page, index + 1, opening["info"].strip(), body, _marker(lines, index)))
        index = end + 1
    return found


def _marker(lines: list[str], fence_index: int) -> tuple[str, str] | None:
    before = fence_index - 1
    while before >= 0 and not lines[before].strip():
        before -= 1
    match = _MARKER.match(lines[before]) if before >= 0 else None
    return (match["kind"], match["args"] or "") if match else None


def all_blocks() -> list[Block]:
    return [block for page in pages() for block in blocks(page)]
