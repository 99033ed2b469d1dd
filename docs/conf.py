"""Sphinx configuration: MyST Markdown pages, API reference from docstrings, warnings are errors.

The pages are plain Markdown that reads the same on a Git host as in the HTML site: links are
Markdown links, anchors are the headings' own (GitHub-style slugs, ``myst_heading_anchors``), and
the few things only Sphinx needs are added here at build time instead of written into the pages:

- the navigation (``toctree``) is made from the link lists of ``index.md`` (:func:`_add_toctrees`);
- ``changelog.md`` links to ``CHANGELOG.md`` and the build shows that file in its place.

After the build every ``href`` with a ``#fragment`` into the site is checked against the ids of
its target page (:func:`_check_anchors`): a broken anchor is a warning, so an error under ``-W``.
"""

from __future__ import annotations

import html
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from sphinx.util import logging

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

logger = logging.getLogger(__name__)

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent / "src"))

project = "bridge"
author = "The bridge developers"
copyright = "2026, The bridge developers"

# No sphinx.ext.viewcode: its source pages are of private modules, and its back-links break
# (a private module whose objects are documented under two module names gets one link prefix).
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.intersphinx"]
source_suffix = {".md": "markdown"}
root_doc = "index"
# snippets/: the code the pages show, as files the test suite runs (tests/docs/).
exclude_patterns = ["_build", "snippets"]
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"show-inheritance": True}  # api.md lists each class's members
# Keep the ASGI/WSGI aliases short in signatures instead of expanding their unions.
autodoc_type_aliases = {
    name: name
    for name in (
        "ASGI3Application",
        "ASGIReceiveCallable",
        "ASGISendCallable",
        "Scope",
        "HTTPScope",
        "WSGIApplication",
        "WSGIEnvironment",
        "StartResponse",
        "LifespanMode",
    )
}
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

# Furo: a maintained stock theme that reads well on a phone and a wide screen alike (the
# navigation collapses into a drawer; alabaster keeps a fixed 940 px column), has a light and a
# dark mode, shows the page's own table of contents beside it (these pages are long and
# table-heavy), and lets wide tables scroll instead of squeezing them.
html_theme = "furo"
html_title = "bridge"
html_static_path = ["_static"]
html_css_files = ["tables.css"]

# The pages that make the site's navigation: those index.md links to, in its order, under its
# "## " headings (each heading a caption).
_LINK_ITEM = re.compile(r"^[-*] \[[^\]]+\]\(([\w-]+)\.md\)")


def _add_toctrees(app: Sphinx, docname: str, source: list[str]) -> None:
    """Build-time sources: index.md gets hidden toctrees, changelog.md the changelog itself."""
    if docname == "changelog":
        changelog = (DOCS.parent / "CHANGELOG.md").read_text(encoding="utf-8")
        source[0] = changelog
        return
    if docname != root_doc:
        return
    sections: list[tuple[str, list[str]]] = []
    for line in source[0].splitlines():
        if line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif sections and (match := _LINK_ITEM.match(line)):
            sections[-1][1].append(match.group(1))
    trees = [
        "```{toctree}\n:hidden:\n:caption: " + caption + "\n\n" + "\n".join(pages) + "\n```\n"
        for caption, pages in sections
        if pages
    ]
    source[0] += "\n" + "\n".join(trees)


class _Links(HTMLParser):
    """Collect the ids a page defines and the ``href`` values it uses."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)
            elif name == "href":
                self.hrefs.append(value)


def broken_anchors(outdir: Path) -> list[str]:
    """Return ``page: href`` for each link to a ``#fragment`` that its target page lacks."""
    pages: dict[Path, _Links] = {}
    for path in sorted(outdir.rglob("*.html")):
        parser = _Links()
        parser.feed(path.read_text(encoding="utf-8"))
        pages[path.resolve()] = parser
    broken = []
    for path, parser in pages.items():
        for href in parser.hrefs:
            target, hash_mark, fragment = href.partition("#")
            if not hash_mark or "://" in target or target.startswith("mailto:"):
                continue
            target_path = (path.parent / target.partition("?")[0]).resolve() if target else path
            if target_path.suffix != ".html":
                continue
            known = pages.get(target_path)
            if known is None or html.unescape(fragment) not in known.ids | {""}:
                broken.append(f"{path.relative_to(outdir.resolve())}: {href}")
    return broken


def _check_anchors(app: Sphinx, exception: Exception | None) -> None:
    """Warn (an error under -W) for each link into the site whose ``#fragment`` does not exist."""
    if exception is not None or app.builder.format != "html":
        return
    for link in broken_anchors(Path(app.outdir)):
        logger.warning("broken anchor: %s", link)


def _check_public_api(app: Sphinx, env: BuildEnvironment) -> None:
    """Warn (an error under -W) for each name in ``bridge.__all__`` that api.md leaves out."""
    import bridge

    documented = env.domaindata["py"]["objects"]
    for name in bridge.__all__:
        if f"bridge.{name}" not in documented:
            logger.warning("bridge.%s is in bridge.__all__ but not documented in api.md", name)


def setup(app: Sphinx) -> dict[str, bool]:
    """Register the build-time sources, the public-API check and the anchor check."""
    app.connect("source-read", _add_toctrees)
    app.connect("env-check-consistency", _check_public_api)
    app.connect("build-finished", _check_anchors)
    return {"parallel_read_safe": True}
