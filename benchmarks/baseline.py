"""The baseline for before/after runs: bridge's code at a git revision, as package ``bridge_base``.

``--baseline REV`` extracts ``src/bridge`` as it was at REV (``git archive``) into a temporary
directory, renamed ``bridge_base``, so that the ``@base`` implementations (``bridge@base``,
``bridge-greenlet@base``) serve the same apps in the same run as the current code, interleaved
round by round. This works because every import inside ``src/bridge`` is relative: an absolute
``import bridge...`` in the baseline would load the *current* code instead, so
:func:`check_relative_imports` refuses such a tree with the file and line.

Server processes of an ``@base`` configuration get the directory on ``PYTHONPATH`` and
``BENCH_BRIDGE_PACKAGE=bridge_base``, which the benchmark's WSGI app reads to call the
baseline's ``await_`` (see ``apps/wsgi_app.py``).
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from benchmarks.apps.served import BASE_PACKAGE, is_base

SOURCE = "src/bridge"
PACKAGE_ENV = "BENCH_BRIDGE_PACKAGE"


class BaselineError(RuntimeError):
    """The baseline revision cannot serve as ``bridge_base``; the message says why."""


@dataclass(frozen=True)
class Baseline:
    """An extracted baseline: the revision asked for, its commit, and the directory holding it."""

    revision: str
    commit: str
    path: Path  # the directory to put on sys.path; the package is path / BASE_PACKAGE

    def server_env(self, impl: str) -> Mapping[str, str]:
        """Environment additions for the server of ``impl`` (none unless it is ``@base``)."""
        if not is_base(impl):
            return {}
        paths = [str(self.path), *filter(None, [os.environ.get("PYTHONPATH")])]
        return {"PYTHONPATH": os.pathsep.join(paths), PACKAGE_ENV: BASE_PACKAGE}


@contextlib.contextmanager
def extracted(revision: str, *, repo: Path) -> Iterator[Baseline]:
    """Extract ``src/bridge`` at ``revision`` as ``bridge_base``; remove it on exit.

    The harness's own process gets the directory on ``sys.path`` too, so that it can check
    which ``@base`` options exist before starting servers.

    :raises BaselineError: the revision is unknown, has no src/bridge, or imports bridge
        absolutely.
    """
    try:
        commit = _git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except BaselineError:
        raise BaselineError(f"{revision!r} is not a commit of {repo}") from None
    archive = _git_bytes(repo, "archive", "--format=tar", commit, SOURCE)
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as directory:
        path = Path(directory)
        unpack(archive, path)
        check_relative_imports(path / BASE_PACKAGE)
        sys.path.insert(0, directory)
        try:
            yield Baseline(revision, commit, path)
        finally:
            sys.path.remove(directory)
            for name in [m for m in sys.modules if m.split(".")[0] == BASE_PACKAGE]:
                del sys.modules[name]


def unpack(archive: bytes, directory: Path) -> Path:
    """Unpack a ``git archive`` tar of ``src/bridge`` into ``directory / bridge_base``.

    :raises BaselineError: the archive has no ``src/bridge/__init__.py``.
    """
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(f"{SOURCE}/") and m.isfile()]
        for member in members:
            member.name = f"{BASE_PACKAGE}/{member.name.removeprefix(f'{SOURCE}/')}"
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4+: refuse links and odd paths
            tar.extractall(directory, members=members, filter="data")
        else:  # pragma: no cover - git archive's own output, members already filtered
            tar.extractall(directory, members=members)
    package = directory / BASE_PACKAGE
    if not (package / "__init__.py").is_file():
        raise BaselineError(f"the baseline has no {SOURCE}/__init__.py")
    return package


def check_relative_imports(package: Path) -> None:
    """Refuse a package whose modules import ``bridge`` absolutely (they would load the current
    code, not the baseline's).

    :raises BaselineError: naming every offending file and line.
    """
    found = []
    for module in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_bytes(), filename=str(module))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            if any(name == "bridge" or name.startswith("bridge.") for name in names):
                found.append(f"{module.relative_to(package.parent)}:{node.lineno}")
    if found:
        raise BaselineError(
            "the baseline imports bridge absolutely, so bridge_base would run the current code "
            f"there; make these imports relative: {', '.join(found)}"
        )


def _git(repo: Path, *args: str) -> str:
    return _git_bytes(repo, *args).decode().strip()


def _git_bytes(repo: Path, *args: str) -> bytes:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, check=False)
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip() or "no such revision"
        raise BaselineError(f"git {args[0]} {' '.join(args[1:])[-80:]}: {message}")
    return done.stdout
