"""The compiler never fails in any other way than a located CompileError:
over programs generated from the language's grammar (valid ones and ones
with one fault) and mutations of examples/, it either compiles or reports
``fuzz.py:LINE:COL: error: ...``.  A sample of the valid programs is loaded
into the kernel, whose verifier must accept them.

Inputs come from fuzz/programs.py with a seed printed on failure (set
PYBPFC_FUZZ_SEED to replay); each batch compiles in a forked child, so an
input that kills the process is reported instead of ending pytest.  Bugs
already recorded in fuzz/FINDINGS.md are counted apart; anything new fails.
"""
from __future__ import annotations

import collections
import os
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.choose import DrawChooser, RandomChooser
from fuzz.compile_check import (COMPILE_ERROR, INTERNAL, KNOWN_REJECTION, LOADED, OK,
                                VERIFIER_LIMIT, compile_generated, known_finding,
                                load_generated)
from fuzz.isolate import CRASH, TIMEOUT, run_isolated
from fuzz.programs import GENERATORS, mutated_example, valid_program
import pytest

from tests.support import require_root
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import CompileError, Source

PER_GENERATOR = 700          # 2,100 inputs in all
KERNEL_SAMPLE = 200


def base_seed() -> int:
    return int(os.environ.get("PYBPFC_FUZZ_SEED", random.randrange(1 << 32)))


def test_generated_programs_compile_or_fail_with_a_located_error() -> None:
    seed = base_seed()
    inputs = [(g, seed + i) for g in sorted(GENERATORS) for i in range(PER_GENERATOR)]
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    new_bugs: list[str] = []
    known: collections.Counter[str] = collections.Counter()
    for (generator, s), result in run_isolated(compile_generated, inputs):
        kind, detail = result
        counts[generator][kind] += 1
        if kind in (INTERNAL, CRASH):
            finding = known_finding(detail)
            if finding:
                known[finding] += 1
            else:
                new_bugs.append(f"{generator} seed {s}: {detail}\n"
                                f"{GENERATORS[generator](RandomChooser(s))}")
    print(f"\nseed {seed}: {dict(counts)}; known findings: {dict(known)}")
    assert sum(sum(c.values()) for c in counts.values()) == len(inputs) >= 2000
    assert not new_bugs, f"{len(new_bugs)} internal errors; the first:\n{new_bugs[0]}"
    # The grammar generator must really produce valid programs, and the
    # faulty ones must really be refused, or the test proves little.
    assert counts["valid"][OK] >= 0.95 * PER_GENERATOR, counts["valid"]
    assert counts["nearly_valid"][COMPILE_ERROR] >= 0.6 * PER_GENERATOR, counts["nearly_valid"]
    assert counts["mutated_example"][COMPILE_ERROR] >= 0.6 * PER_GENERATOR


@pytest.mark.kernel
def test_valid_programs_pass_the_kernel_verifier() -> None:
    require_root("loading programs")
    seed = base_seed()
    counts: collections.Counter[str] = collections.Counter()
    failures = []
    # A program the verifier walks for seconds hits its limits; it is cut short.
    for s, (kind, detail) in run_isolated(load_generated,
                                         [seed + i for i in range(KERNEL_SAMPLE)],
                                         time_limit=3):
        kind = VERIFIER_LIMIT if kind == TIMEOUT else kind
        counts[kind if kind != KNOWN_REJECTION else f"{kind} {detail}"] += 1
        if kind not in (LOADED, KNOWN_REJECTION, VERIFIER_LIMIT, COMPILE_ERROR) \
                and not (kind in (INTERNAL, CRASH) and known_finding(detail)):
            failures.append(f"seed {s}: {kind}: {detail}\n{valid_program(RandomChooser(s))}")
    print(f"\nseed {seed}: {dict(counts)}")
    assert not failures, f"{len(failures)} valid programs failed; the first:\n{failures[0]}"
    assert counts[LOADED] >= 0.85 * KERNEL_SAMPLE, counts


@st.composite
def mutated(draw: Any) -> str:
    return mutated_example(DrawChooser(draw))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_examples_compile_or_fail_cleanly(text: str) -> None:
    """The same property, driven by hypothesis so a failure shrinks."""
    try:
        compile_source(Source("fuzz.py", text))
    except CompileError as err:
        assert err.render().startswith("fuzz.py")
