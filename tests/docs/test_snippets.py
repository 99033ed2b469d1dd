"""Every code block of the docs and the READMEs runs as written, or says why not.

Each block carries a marker comment (see ``markdown.py``): a ``snippet`` or ``excerpt`` is
compared with its file, and the file is run; a ``run`` block's commands are run, servers included
(see ``console.py``); a ``check`` block is compared with the code; a ``skip`` block names its
reason. A block without a marker fails the suite.
"""

from __future__ import annotations

import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import bridge
from tests.docs import console
from tests.docs.markdown import KINDS, REPO_ROOT, Block, all_blocks

BLOCKS = all_blocks()
# MyST directives that only the generated API page may use: it is autodoc, and says so.
DIRECTIVE_PAGES = {"docs/api.md": ("{eval-rst}",)}


def of_kind(*kinds: str) -> list[object]:
    """The blocks whose marker is one of ``kinds``, as parameters with readable ids."""
    return [
        pytest.param(block, id=block.id)
        for block in BLOCKS
        if block.marker is not None and block.marker[0] in kinds
    ]


@pytest.mark.parametrize("block", [pytest.param(block, id=block.id) for block in BLOCKS])
def test_every_block_says_what_it_is(block: Block) -> None:
    """A block is a file the tests run, a console session they run, a check, or a named skip."""
    page = str(block.page.relative_to(REPO_ROOT))
    if block.info.startswith("{"):
        allowed = DIRECTIVE_PAGES.get(page, ())
        assert block.info.split()[0] in allowed, (
            f"{block.id}: {block.info} renders raw on a Git host"
        )
        return
    assert block.marker is not None, (
        f"{block.id}: no <!-- snippet/excerpt/run/check/skip --> marker"
    )
    kind, argument = block.marker
    assert kind in KINDS, f"{block.id}: unknown marker {kind!r}"
    if kind == "skip":
        assert argument, f"{block.id}: a skip names its reason"


@pytest.mark.parametrize("block", of_kind("snippet", "excerpt"))
def test_snippet_is_its_file(block: Block) -> None:
    """The page shows the file as it is (the whole file, or consecutive lines of it)."""
    path = block.path_argument()
    assert path.is_file(), f"{block.id}: no file {path}"
    text = path.read_text(encoding="utf-8")
    if block.marker and block.marker[0] == "snippet":
        assert block.body.strip("\n") == text.strip("\n"), f"{block.id} differs from {path}"
    else:
        assert f"\n{block.body.strip(chr(10))}\n" in f"\n{text}\n", f"{block.id} is not in {path}"


def _import_root(path: Path) -> Path:
    """The directory to put on ``sys.path`` so that ``path`` imports as in its page."""
    root = path.parent
    while (root / "__init__.py").exists():
        root = root.parent
    return root


def test_snippet_files_run() -> None:
    """Each file a page shows runs (imports) without error, from its own project's root."""
    by_root: dict[Path, set[Path]] = {}
    for block in BLOCKS:
        if block.marker and block.marker[0] in ("snippet", "excerpt"):
            path = block.path_argument()
            if path.suffix == ".py":
                by_root.setdefault(_import_root(path), set()).add(path)
    assert by_root
    for root, paths in sorted(by_root.items()):
        code = "import runpy, sys\nfor path in sys.argv[1:]:\n    runpy.run_path(path)\n"
        done = subprocess.run(
            [sys.executable, "-c", code, *map(str, sorted(paths))],
            cwd=root, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{sorted(paths)} from {root}:\n{done.stderr}"


@pytest.mark.e2e
@pytest.mark.parametrize("block", of_kind("run"))
def test_console_block_runs(block: Block, tmp_path: Path) -> None:
    """The commands run as shown; servers serve on 127.0.0.1; shown output is printed."""
    options = dict(word.split("=", 1) for word in (block.marker or ("", ""))[1].split())
    cwd = REPO_ROOT
    if "cwd" in options:
        cwd = tmp_path / "work"
        shutil.copytree(block.page.parent / options.pop("cwd"), cwd)
    if "make" in options:
        assert cwd != REPO_ROOT, f"{block.id}: make= needs cwd= (files go to a copy)"
        name, size = options.pop("make").split(":")
        (cwd / name).write_bytes(b"\0" * int(size))
    env = (
        {
            name: value.replace("{tmp}", str(tmp_path))
            for name, value in (options.pop("env").split("=", 1),)
        }
        if "env" in options
        else {}
    )
    assert not options, f"{block.id}: unknown run options {options}"
    missing = [
        program
        for command in console.commands(block.body)
        if (program := console.program_of(command.line)) in console.SERVERS
        and shutil.which(program, path=str(Path(sys.executable).parent)) is None
        and shutil.which(program) is None
    ]
    # Every server the docs show is a test dependency (uWSGI as the pyuwsgi wheel, which has
    # no Windows build): a missing one is a broken install, not a reason to skip.
    if missing and sys.platform == "win32":
        pytest.skip(f"{', '.join(missing)} not installed")
    assert not missing, f"{', '.join(missing)} not installed: scripts/test installs them all"
    with console.session(cwd, env) as session:
        for command in console.commands(block.body):
            session.run(command)


@pytest.mark.parametrize("block", of_kind("check"))
def test_checked_block_matches_the_code(block: Block) -> None:
    """A signature or a class tree shown on a page is the code's own."""
    what, _, name = (block.marker or ("", ""))[1].partition(" ")
    if what == "signature":
        assert _normalise(block.body) == _normalise(name + _signature_without_types(name))
    elif what == "exception-tree":
        _check_exception_tree(block.body)
    else:
        pytest.fail(f"{block.id}: unknown check {what!r}")


def _normalise(text: str) -> str:
    return re.sub(r"\(\s+", "(", re.sub(r"\s+", " ", text.strip()))


def _signature_without_types(name: str) -> str:
    target = getattr(bridge, name.removeprefix("bridge."))
    signature = inspect.signature(target)
    plain = [
        param.replace(annotation=inspect.Parameter.empty) for param in signature.parameters.values()
    ]
    return str(signature.replace(parameters=plain, return_annotation=inspect.Signature.empty))


_TREE_LINE = re.compile(
    r"^(?P<indent>[│├└─\s]*)(?P<name>\w+)(?: \((?P<extra>\w+)\))?\s+(?P<status>\d{3})\b"
)


def _check_exception_tree(body: str) -> None:
    """Each class is under its base, with its extra base and ``status_code``; none is missing."""
    header, *lines = body.splitlines()
    assert header.split()[0] == "BridgeError"
    parents: list[type] = [bridge.BridgeError]
    shown = {"BridgeError"}
    for line in lines:
        match = _TREE_LINE.match(line)
        assert match, f"not a tree line: {line!r}"
        cls = getattr(bridge, match["name"])
        depth = len(match["indent"]) // 4
        assert parents[depth - 1] in cls.__bases__, f"{cls.__name__} is not a {parents[depth - 1]}"
        parents[depth:] = [cls]
        if match["extra"]:
            assert match["extra"] in {base.__name__ for base in cls.__bases__}, cls
        assert cls.status_code == int(match["status"]), cls
        shown.add(cls.__name__)
    family = {
        name
        for name in bridge.__all__
        if isinstance(getattr(bridge, name), type)
        and issubclass(getattr(bridge, name), bridge.BridgeError)
    }
    assert shown == family
