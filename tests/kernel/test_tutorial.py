"""The tutorial and the README's quick start, run as a reader runs them.

Every command a lesson shows runs, in the order shown, in one shell with
the virtual environment activated (as the tutorial's first page asks), and
prints what the lesson shows (tests/doc_commands.py says what may differ).
The README's quick start runs from a shell where nothing is activated yet.
"""
from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from pybpfc.runtime.cgroup import cgroup2_root
from tests.doc_commands import (Block, activated_environment, console_blocks, matches,
                                normalize, run_session)
from tests.support import REPO_ROOT, is_mounted, require_kernel_feature, require_root

TUTORIAL = REPO_ROOT / "docs" / "tutorial"
LESSONS = sorted(p for p in TUTORIAL.glob("[0-9][0-9]-*.md") if console_blocks(p))
TRACING = Path("/sys/kernel/tracing")


def check_session(blocks: list[Block], env: dict[str, str]) -> None:
    commands = [command for block in blocks for command in block.commands]
    outputs = run_session([c.text for c in commands], env)
    root = cgroup2_root()
    for block in blocks:
        for command in block.commands:
            actual = normalize(outputs.pop(0), root)
            expected = normalize(command.expected)
            assert matches(expected, actual), (
                f"{block.page.relative_to(REPO_ROOT)}:{command.line}: `{command.text}` printed\n"
                f"{actual}\n\nwhere the page shows\n{expected}")


@contextlib.contextmanager
def tracefs_for(blocks: list[Block]) -> Iterator[list[Block]]:
    """The blocks to run.  A page that mounts tracefs does so only where it
    is missing; whatever its commands mounted is unmounted afterwards, even
    when they fail.  Lines an earlier print() left in the trace buffer are
    read away first, so the page's own are the ones shown."""
    if not any("when-tracefs-missing" in b.conditions for b in blocks):
        yield blocks
        return
    missing = not is_mounted(TRACING, "tracefs")
    drain_trace_buffer()
    try:
        yield [b for b in blocks if missing or "when-tracefs-missing" not in b.conditions]
    finally:
        if missing and is_mounted(TRACING, "tracefs"):
            subprocess.run(["umount", str(TRACING)], check=True)


def drain_trace_buffer() -> None:
    """Read the kernel's trace buffer empty through a tracefs mounted on a
    temporary directory of the test's own."""
    directory = Path(tempfile.mkdtemp(prefix="pybpfc-tracefs-"))
    try:
        mount = subprocess.run(["mount", "-t", "tracefs", "tracefs", str(directory)],
                               capture_output=True, text=True)
        require_kernel_feature("tracefs", mount.returncode == 0, mount.stderr.strip())
        try:
            fd = os.open(directory / "trace_pipe", os.O_RDONLY | os.O_NONBLOCK)
            try:
                while True:
                    try:
                        if not os.read(fd, 65536):
                            break
                    except OSError as error:
                        if error.errno == errno.EAGAIN:
                            break
                        raise
            finally:
                os.close(fd)
        finally:
            subprocess.run(["umount", str(directory)], check=True)
    finally:
        directory.rmdir()


@pytest.mark.parametrize("page", LESSONS, ids=lambda p: p.stem)
def test_lesson_prints_what_it_shows(page: Path) -> None:
    require_root("the tutorial's commands")
    with tracefs_for(console_blocks(page)) as blocks:
        check_session(blocks, activated_environment())


def fresh_shell_environment() -> dict[str, str]:
    """A shell's environment before it activated anything: no virtual
    environment on PATH."""
    env = activated_environment()
    venvs = {Path(env.pop("VIRTUAL_ENV"), "bin"), REPO_ROOT / ".venv" / "bin"}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                                  if p and Path(p) not in venvs)
    return env


def test_readme_quick_start_runs_as_written() -> None:
    """``make demo``, then the commands after it, exactly as the README
    shows them, from a shell that has activated nothing."""
    require_root("the quick start")
    quick_start = console_blocks(REPO_ROOT / "README.md")[0]
    assert [c.text for c in quick_start.commands][:2] == ["make demo", ". .venv/bin/activate"]
    check_session([quick_start], fresh_shell_environment())


def test_tutorial_start_puts_pybpfc_on_the_path() -> None:
    start = console_blocks(TUTORIAL / "README.md")
    assert start[0].commands[0].text == ". .venv/bin/activate"
    check_session(start, fresh_shell_environment())
