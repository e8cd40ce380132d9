"""Objects of kinds this kernel lacks (kprobe: no CONFIG_KPROBES; fentry and
lsm: no BPF trampolines) are read like any other, and refused at load with
the missing kernel feature named.  On a kernel that has the feature the
test skips, saying so, even under CI=true: there is nothing to refuse."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pytest

from pybpfc import abi
from pybpfc.runtime.collection import load
from pybpfc.runtime.elf import read_object
from pybpfc.runtime.features import MissingFeatureError, pmu_type
from tests.support import require_root

BuildTracing = Callable[..., Path]

# (clang flag, program, section, program type, expected attach type, feature)
KINDS = [
    ("KIND_KPROBE", "on_unlink_kprobe", "kprobe/do_unlinkat", "BPF_PROG_TYPE_KPROBE", None,
     abi.FEATURE_KPROBES),
    ("KIND_FENTRY", "on_unlink_fentry", "fentry/do_unlinkat", "BPF_PROG_TYPE_TRACING",
     "BPF_TRACE_FENTRY", abi.FEATURE_TRAMPOLINES),
    ("KIND_LSM", "on_file_open", "lsm/file_open", "BPF_PROG_TYPE_LSM", "BPF_LSM_MAC",
     abi.FEATURE_BPF_LSM),
]


@pytest.mark.kernel
@pytest.mark.parametrize("flag,name,section,prog_type,attach_type,feature", KINDS,
                         ids=[k[0] for k in KINDS])
def test_kinds_this_kernel_lacks_are_read_and_refused_by_feature(
        build_tracing: BuildTracing, flag: str, name: str, section: str, prog_type: str,
        attach_type: str, feature: str) -> None:
    require_root("loading programs")
    obj = build_tracing("unavailable_kinds", f"-D{flag}", name=flag.lower())
    spec = read_object(obj)
    (program,) = spec.programs.values()
    assert (program.name, program.section) == (name, section)
    assert program.prog_type == abi.PROG_TYPES[prog_type]
    assert program.expected_attach_type == (abi.ATTACH_TYPES[attach_type] if attach_type
                                            else None)
    if feature == abi.FEATURE_KPROBES and pmu_type("kprobe") is not None:
        pytest.skip("this kernel has kprobes: nothing to refuse")
    fds_before = set(os.listdir("/proc/self/fd"))
    try:
        with load(spec):
            pass
    except MissingFeatureError as error:
        assert error.feature == feature
        assert str(error).startswith(f"program '{name}': section '{section}' needs "
                                     f"{abi.KERNEL_FEATURES[feature]}, which this kernel "
                                     "lacks: ")
    else:
        pytest.skip(f"this kernel loads {section} programs: it has "
                    f"{abi.KERNEL_FEATURES[feature]}")
    assert set(os.listdir("/proc/self/fd")) == fds_before
