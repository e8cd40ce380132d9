"""Malformed objects never crash the runtime and never leak: reading (and,
when that succeeds, loading) each of thousands of corrupted objects ends in
success or a BpfError whose message starts with what is wrong, and
/proc/self/fd holds the same entries afterwards.  Objects built by clang
with features the runtime lacks are refused by name.

Inputs come from fuzz/objects.py with a seed printed on failure (set
PYBPFC_FUZZ_SEED to replay).
"""
from __future__ import annotations

import collections
import os
import random

import pytest

from fuzz.choose import RandomChooser
from fuzz.object_check import INTERNAL, LOAD_ERROR, LOADED, READ_ERROR, check_object, open_fds
from fuzz.objects import REPO_ROOT, BaseObject, base_objects, build_c_objects, malformed_object
from tests.support import require_kernel_feature, require_root
from pybpfc.runtime.collection import load
from pybpfc.runtime.errors import BpfError

INPUTS = 5000


@pytest.fixture(scope="module")
def bases() -> list[BaseObject]:
    try:
        return base_objects()
    except RuntimeError as err:      # clang missing
        require_kernel_feature("clang", False, str(err))
        raise


@pytest.mark.kernel
def test_malformed_objects_give_clear_errors_and_leak_nothing(bases: list[BaseObject]) -> None:
    require_root("loading objects")
    seed = int(os.environ.get("PYBPFC_FUZZ_SEED", random.randrange(1 << 32)))
    counts: collections.Counter[str] = collections.Counter()
    problems = []
    fds_before = open_fds()
    for i in range(INPUTS):
        how, data = malformed_object(RandomChooser(seed + i), bases)
        outcome = check_object(data, in_kernel=True)
        counts[outcome.kind] += 1
        if outcome.kind == INTERNAL or outcome.leaked_fds:
            problems.append(f"seed {seed + i} ({how}): {outcome}")
    print(f"\nseed {seed}: {dict(counts)}")
    assert sum(counts.values()) == INPUTS
    assert not problems, f"{len(problems)} problems; the first: {problems[0]}"
    assert open_fds() == fds_before
    # The mutations must reach every stage, or the test proves little.
    for stage in (READ_ERROR, LOAD_ERROR, LOADED):
        assert counts[stage] >= INPUTS // 50, counts


UNSUPPORTED = {
    "kfunc": r"^program 'uses_kfuncs': instruction \d+: relocation against undefined symbol "
             r"'(bpf_rcu_read_lock|init_net)' \(extern variables and kernel functions are not supported\)",
    "struct_ops": r"^program 'fuzz_init': section 'struct_ops/init' names no kind of program "
                  r"pybpfc loads",
    "tail_call": r"^section '.maps': relocations in map definitions \(map-in-map or program "
                 r"array initial values\) are not supported",
}


@pytest.mark.kernel
@pytest.mark.parametrize("stem", sorted(UNSUPPORTED))
def test_objects_using_what_the_runtime_lacks_are_refused_by_name(stem: str) -> None:
    require_root("loading objects")
    try:
        (data,) = build_c_objects([REPO_ROOT / "tests" / "c" / "unsupported" / f"{stem}.c"]
                                  ).values()
    except RuntimeError as err:
        require_kernel_feature("clang", False, str(err))
        raise
    before = open_fds()
    with pytest.raises(BpfError, match=UNSUPPORTED[stem]):
        with load(data):
            pass
    assert open_fds() == before
