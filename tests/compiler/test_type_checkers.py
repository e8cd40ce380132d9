"""Editors and type checkers see pybpfc where a user's program is.

A program is an ordinary Python module that imports from ``pybpfc``, and a
script that drives it imports ``pybpfc.runtime``.  After ``make venv``, mypy
and pyright run on such files in a directory outside the repository must
resolve both to their real types.  An editable install made of an import
hook would run fine yet leave both checkers with "Cannot find implementation
or library stub", so every check here runs in a temporary directory, with
the environment a user's shell would have (no PYTHONPATH pointing at the
working tree).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from tests.support import REPO_ROOT

# What a user writes: hook programs, and scripts that load them.
PROGRAMS = sorted(REPO_ROOT.glob("examples/*.py")) + \
    sorted(REPO_ROOT.glob("docs/tutorial/lessons/*.py")) + [REPO_ROOT / "scripts/try_ttl.py"]

# Lesson files that are wrong on purpose, and the line the checkers flag.
WRONG_ON_PURPOSE = {"04_forgot_none.py": 10, "08_forgot_length.py": 7}

RUNTIME_USER = '''\
"""Loads an object, attaches it to a new cgroup and reads a global."""
from pybpfc.runtime.cgroup import TemporaryCgroup
from pybpfc.runtime.collection import Collection, load


def refused(path: str) -> int:
    with TemporaryCgroup() as group, load(path) as objects:
        with objects["deny_ttl"].attach(group.path):
            pass
        count: int = objects.globals["refused"]
        return count


def opened(path: str) -> Collection:
    return load(path)
'''

# Wrong uses of pybpfc's own types: a checker that resolved the package
# reports each of them; one that did not would see Any and say nothing.
MISUSE = '''\
from pybpfc import u8
from pybpfc.runtime.cgroup import TemporaryCgroup
from pybpfc.runtime.collection import load

objects = load(42)
group = TemporaryCgroup(prefix=7)
small: u8 = "text"
'''
MISUSE_LINES = (5, 6, 7)


def user_environment() -> dict[str, str]:
    """The caller's environment without what points Python at the working
    tree: the checkers must find pybpfc through the installation."""
    env = dict(os.environ)
    for name in ("PYTHONPATH", "MYPYPATH", "PYTHONSAFEPATH"):
        env.pop(name, None)
    return env


def outside_repository(tmp_path: Path) -> Path:
    workdir = tmp_path / "my_project"
    workdir.mkdir()
    assert REPO_ROOT not in workdir.resolve().parents
    return workdir


def run_mypy(workdir: Path, *files: str,
             python: str = sys.executable) -> "subprocess.CompletedProcess[str]":
    # --python-executable: the interpreter whose installed packages mypy
    # reads (by default the one running it, as `.venv/bin/mypy` does).
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--python-executable", python,
                           "--cache-dir", str(workdir / ".mypy_cache"), *files],
                          capture_output=True, text=True, cwd=workdir, env=user_environment())


def run_pyright(workdir: Path, *files: str,
                python: str = sys.executable) -> "subprocess.CompletedProcess[str]":
    # --pythonpath: the interpreter whose installed packages pyright reads,
    # as an editor does with the interpreter selected for the project.
    # The wrapper from PyPI runs the pyright it ships; without the variable
    # it would also ask PyPI whether a newer one exists.
    (workdir / "pyrightconfig.json").write_text('{"typeCheckingMode": "strict"}\n')
    env = user_environment() | {"PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"}
    return subprocess.run([sys.executable, "-m", "pyright", "--pythonpath", python,
                           *files], capture_output=True, text=True, cwd=workdir, env=env,
                          timeout=300)


@dataclass(frozen=True)
class Checker:
    name: str
    run: Callable[..., "subprocess.CompletedProcess[str]"]
    error_mark: str         # what marks an error line: PATH:LINE:... then this
    missing_import: str     # what it says of a module it cannot find

    def errors(self, workdir: Path, *files: str,
               python: str = sys.executable) -> tuple[set[tuple[str, int]], str]:
        """(file name, line) of each error it reports, and its output;
        ``python`` is the project's interpreter, whose packages it reads."""
        result = self.run(workdir, *files, python=python)
        found = set()
        for line in result.stdout.splitlines():
            if self.error_mark in line:
                path, number = line.strip().split(":")[:2]
                found.add((Path(path).name, int(number)))
        assert self.missing_import not in result.stdout, result.stdout
        return found, result.stdout + result.stderr


CHECKERS = [Checker("mypy", run_mypy, ": error:", "import-not-found"),
            Checker("pyright", run_pyright, " - error:", "reportMissingImports")]


@pytest.fixture
def user_files(tmp_path: Path) -> Path:
    """The programs and a runtime script, copied into a directory outside
    the repository."""
    workdir = outside_repository(tmp_path)
    for path in PROGRAMS:
        shutil.copy(path, workdir / path.name)
    (workdir / "drive.py").write_text(RUNTIME_USER)
    return workdir


def checked_files(workdir: Path) -> list[str]:
    return sorted(p.name for p in workdir.glob("*.py"))


def test_pybpfc_is_installed_where_the_checkers_look(tmp_path: Path) -> None:
    workdir = outside_repository(tmp_path)
    found = subprocess.run(
        [sys.executable, "-c", "import pybpfc, pybpfc.runtime.collection as c; print(c.__file__)"],
        capture_output=True, text=True, cwd=workdir, env=user_environment())
    assert found.returncode == 0, (
        f"{sys.executable} cannot import pybpfc outside the repository; run `make venv`\n"
        f"{found.stderr}")


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.name)
def test_checker_resolves_pybpfc_outside_the_repository(checker: Checker,
                                                        user_files: Path) -> None:
    errors, output = checker.errors(user_files, *checked_files(user_files))
    assert errors == set(WRONG_ON_PURPOSE.items()), output


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.name)
def test_checker_knows_pybpfc_types(checker: Checker, tmp_path: Path) -> None:
    workdir = outside_repository(tmp_path)
    (workdir / "misuse.py").write_text(MISUSE)
    errors, output = checker.errors(workdir, "misuse.py")
    assert errors == {("misuse.py", line) for line in MISUSE_LINES}, output
