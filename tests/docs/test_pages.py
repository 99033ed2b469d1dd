"""The pages read correctly as plain Markdown on a Git host, speak to users, and cite real tests.

- Every relative link leads to a file, and every ``#anchor`` to a heading of its page (GitHub's
  slugs, which the HTML build uses too: ``myst_heading_anchors``). The HTML build checks its own
  anchors after each build (``docs/conf.py``).
- No MyST role or target, which a Git host shows as raw text.
- No development history: issue numbers, sessions, commit hashes.
- Every test a page cites as ``file.py::test_name`` exists under ``tests/``.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

from tests.docs.markdown import REPO_ROOT, pages

PAGES = [*pages(), REPO_ROOT / "CHANGELOG.md"]
IDS = [str(page.relative_to(REPO_ROOT)) for page in PAGES]

_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_FENCED = re.compile(r"^(\s*)(`{3,}|~{3,}).*?^\1\2", flags=re.DOTALL | re.MULTILINE)
_INLINE_CODE = re.compile(r"(?<!\})`[^`\n]+`")
_MYST_SYNTAX = re.compile(r"\{[a-z][\w:-]*\}`|^\([\w-]+\)=\s*$|^:::", flags=re.MULTILINE)
_COMMIT_HASH = r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b"
_JARGON = re.compile(
    rf"\bissues? #?\d+|(?<![\w/])#\d+\b|\bsessions? \d+|{_COMMIT_HASH}", flags=re.IGNORECASE
)
_CITED_TEST = re.compile(r"`([\w./-]+\.py)::(\w+)")


def prose(page: Path) -> str:
    """The page without its fenced code blocks."""
    return _FENCED.sub("", page.read_text(encoding="utf-8"))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading (MyST makes the same one)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@cache
def anchors(page: Path) -> frozenset[str]:
    """The anchors of ``page``'s headings, with GitHub's ``-1``, ``-2`` for repeats."""
    seen: dict[str, int] = {}
    found = set()
    for line in prose(page).splitlines():
        if match := re.match(r"^#{1,6} (.+)$", line):
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_links_and_anchors_resolve(page: Path) -> None:
    broken = []
    for target in _LINK.findall(prose(page)):
        if re.match(r"^[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading with that anchor")
    assert broken == []


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_no_syntax_that_renders_raw_on_a_git_host(page: Path) -> None:
    text = _INLINE_CODE.sub("", prose(page))
    assert _MYST_SYNTAX.findall(text) == []


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_no_development_history(page: Path) -> None:
    """Users read these pages: no issue numbers, sessions or commit hashes."""
    text = re.sub(r"\]\([^)]*\)", "]", page.read_text(encoding="utf-8"))  # link targets
    assert _JARGON.findall(text) == []


@cache
def functions_in(cited: str) -> frozenset[str]:
    """The functions of every file under ``tests/`` whose path ends with ``cited``."""
    names: set[str] = set()
    for path in (REPO_ROOT / "tests").rglob(Path(cited).name):
        if not f"/{path.relative_to(REPO_ROOT / 'tests').as_posix()}".endswith(f"/{cited}"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(node.name)
    return frozenset(names)


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_cited_tests_exist(page: Path) -> None:
    """Each ``file.py::test_name`` a page cites is a function of a test file at that path.

    The path is matched as the tail of the file's path under ``tests/`` (``test_x.py`` anywhere,
    ``e2e/test_x.py`` in a folder ``e2e``), so a page that cites the file name alone survives a
    move into another folder, and a renamed test or file breaks it."""
    missing = [
        f"{file}::{name}"
        for file, name in _CITED_TEST.findall(page.read_text(encoding="utf-8"))
        if name not in functions_in(file)
    ]
    assert missing == []
