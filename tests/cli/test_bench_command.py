"""`python -m benchmarks` with an argument it does not take never starts
the long, kernel-loading run: --help prints what it does, anything else is
refused."""
from __future__ import annotations

import subprocess
import sys

from tests.support import REPO_ROOT


def bench(*args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([sys.executable, "-m", "benchmarks", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)


def test_help_says_what_it_does_and_measures_nothing() -> None:
    done = bench("--help")
    assert done.returncode == 0, done.stderr
    assert "make bench" in done.stdout and "--instructions" in done.stdout
    assert "hook cost" not in done.stderr       # no section started


def test_an_unknown_argument_is_refused() -> None:
    done = bench("--rows=x")
    assert done.returncode == 2 and "unknown arguments --rows=x" in done.stderr
    assert done.stdout == ""
