"""Parsing costs time and memory in proportion to the program: ten times
the text takes about ten times as long, never a hundred, and a long token
takes no more memory than its text.

Run from the repository root: python -m pytest tests/compiler/test_parser_scaling.py -q
"""
from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from typing import Callable, Iterator

import pytest

from pybpfc.compiler.errors import CompileError, Source
from pybpfc.compiler.parser import parse
from tests.support import REPO_ROOT


class _TooSlow(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    def expire(*_: object) -> None:
        raise _TooSlow(f"took more than {seconds:.1f} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _parse_seconds(text: str) -> float:
    started = time.perf_counter()
    try:
        parse(Source("big.py", text))
    except CompileError:
        pass    # refusing a program must be as quick as accepting one
    return time.perf_counter() - started


def _statements(n: int) -> str:
    return "pass\n" * n


def _list_items(n: int) -> str:
    return "x = [1,\n" + "1,\n" * n + "]\n"


def _operands(n: int) -> str:
    return "x = (1\n" + "+ 1\n" * n + ")\n"


@pytest.mark.parametrize("program", [_statements, _list_items, _operands],
                         ids=["statements", "list items", "operands"])
def test_ten_times_the_program_takes_about_ten_times_as_long(
        program: Callable[[int], str]) -> None:
    small = min(_parse_seconds(program(5_000)) for _ in range(3))
    # Quadratic work would take a hundred times as long: stop it well before.
    budget = 25 * small + 1.0
    with _time_limit(budget):
        large = _parse_seconds(program(50_000))
    assert large < budget


def test_a_token_of_a_million_lines_takes_constant_memory() -> None:
    # One _NEWLINE token spans blank and comment lines; matching it must not
    # keep a backtracking record per line (it took 4.4 GB for 2 MB before).
    code = ("import resource\n"
            "from pybpfc.compiler import lalr\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "text = 'x = 1\\n' + '\\n# c\\n' * 250_000 + '0' * 60_000 + '\\n'\n"
            "tokens = list(lalr.language()[1].lex(text))\n"
            "assert len(tokens) == 6, tokens\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    grown_kb = int(result.stdout)
    assert grown_kb < 64 * 1024, f"lexing 1.3 MB grew the process by {grown_kb} KB"


def test_the_benchmark_of_compile_time_against_size_reports_each_kind() -> None:
    # benchmarks/scaling.py, as make bench runs it (here with BENCH_QUICK's
    # sizes): every kind of program at each size, and the target's verdict.
    from benchmarks import scaling
    said: list[str] = []
    met = scaling.section(lambda *lines: said.extend(lines),
                          lambda header, rows: [" | ".join(row) for row in [header, *rows]],
                          quick=True)
    rows = [line for line in said if line.count(" | ") == 6]
    assert len(rows) == 1 + len(scaling.FAMILIES) * 2
    assert said[-2].startswith("Target: ten times the lines at most 12 times the time")
    # The verdict matches what section() returned, in either wording.
    assert said[-2].endswith(": met." if met else ": **not met**.")
