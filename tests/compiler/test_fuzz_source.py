"""Short versions of ``make fuzz``'s source runs: program files mutated byte
by byte (line ends, NULs, coding cookies, bidirectional controls, confusable
letters, invalid UTF-8...) are read as Python reads them, and programs that
grow cost time and memory in proportion.

Every file is judged against Python (fuzz/source_check.py): pybpfc never
fails otherwise than with a located CompileError, never compiles what
Python refuses, and reads every name as Python does.  Seeds are printed
with a failure (PYBPFC_FUZZ_SEED replays a run); each batch runs in a
forked child, so an input that kills or hangs the process is reported.
"""
from __future__ import annotations

import collections
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.choose import DrawChooser, RandomChooser
from fuzz.isolate import CRASH, TIMEOUT, run_isolated
from fuzz.source_bytes import mutated_file
from fuzz.source_check import (BOTH_ACCEPT, BOTH_REFUSE, PROBLEMS, judge_file,
                               judge_mutated)
from fuzz.source_corpus import PROGRAMS
from fuzz.source_sizes import FAMILIES, measure, scaling_problems
from tests.compiler.test_fuzz_compiler import base_seed

MUTATED = 800


def test_mutated_files_are_read_as_python_reads_them() -> None:
    seed = base_seed()
    counts: collections.Counter[str] = collections.Counter()
    problems = []
    for s, (kind, detail) in run_isolated(judge_mutated, range(seed, seed + MUTATED),
                                         time_limit=20):
        counts[kind] += 1
        if kind in PROBLEMS or kind in (CRASH, TIMEOUT):
            problems.append(f"seed {s}: {kind}: {detail}\n{mutated_file(RandomChooser(s))!r}")
    print(f"\nseed {seed}: {dict(counts)}")
    assert not problems, f"{len(problems)} problems; the first:\n{problems[0]}"
    # The mutations must both break files and leave some valid, or the
    # comparison proves little.
    assert counts[BOTH_ACCEPT] >= 0.05 * MUTATED, counts
    assert counts[BOTH_REFUSE] >= 0.3 * MUTATED, counts


@st.composite
def mutated(draw: Any) -> bytes:
    return mutated_file(DrawChooser(draw))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_files_by_hypothesis(data: bytes) -> None:
    """The same property, driven by hypothesis so a failure shrinks."""
    verdict = judge_file(data)
    assert verdict.kind not in PROBLEMS, verdict.detail


@pytest.mark.parametrize("program", PROGRAMS, ids=range(len(PROGRAMS)))
def test_programs_at_the_edges_of_python_s_syntax(program: str) -> None:
    verdict = judge_file(program.encode())
    assert verdict.kind not in PROBLEMS, verdict.detail


@pytest.mark.parametrize("family", FAMILIES)
def test_growing_programs_cost_in_proportion(family: str) -> None:
    # Ten times the bytes may take at most 25 times as long here (make fuzz
    # asks 15, over more sizes): quadratic work takes a hundred times.
    measured, problems = scaling_problems(family, sizes=(5_000, 50_000), rounds=2,
                                          time_factor=25)
    assert not problems, (problems, measured)


def test_the_time_of_a_size_is_the_compiler_s_not_the_machine_s(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Time the child spends without the CPU (other processes running, here a
    # sleep) is not the compiler's: on a loaded machine it made linear work
    # look superlinear.  A hang still meets the wall-clock limit.
    import time

    from pybpfc.compiler import driver

    def waits(source: Any) -> None:
        time.sleep(0.5)
    monkeypatch.setattr(driver, "check_source", waits)
    measured = measure("statements", 1_000)
    assert measured.outcome == "ok"
    assert measured.seconds < 0.2 and measured.wall >= 0.5
    timed_out = measure("statements", 1_000, time_limit=0.2)
    assert timed_out.outcome.startswith(TIMEOUT)
