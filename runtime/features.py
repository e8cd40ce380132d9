"""What this kernel can do for the kinds of program that need more than
BPF itself (``abi.KERNEL_FEATURES``): kprobes need the kprobe PMU, fentry,
fexit and LSM programs need BPF trampolines.  A program of a kind whose
feature is missing is refused at load, naming the feature, rather than
loaded to fail later or refused with a bare errno."""
from __future__ import annotations

import errno
import functools
from pathlib import Path
from typing import Optional

from pybpfc import abi

from . import bpf
from .errors import BpfError, SyscallError

PMU_DEVICES = Path("/sys/bus/event_source/devices")


class MissingFeatureError(BpfError):
    """The kernel lacks what a program's kind needs; ``feature`` is its
    ``abi.KERNEL_FEATURES`` key."""

    def __init__(self, what: str, section: str, feature: str, why: str):
        self.feature = feature
        super().__init__(f"{what}: section '{section}' needs "
                         f"{abi.KERNEL_FEATURES[feature]}, which this kernel lacks: {why}")


def pmu_type(name: str) -> Optional[int]:
    """The perf ``type`` of a dynamic PMU (``uprobe``, ``kprobe``), or None
    if the kernel has no such PMU."""
    try:
        return int((PMU_DEVICES / name / "type").read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise BpfError(f"{PMU_DEVICES / name / 'type'}: cannot read it: {err}") from None


def check_before_load(what: str, section: str, kind: abi.ProgramKind) -> None:
    """Refuse a program whose kind needs what this kernel visibly lacks.
    (A kprobe program would load: only attaching needs the PMU, and a
    program that can never be attached is refused now.)"""
    if kind.feature == abi.FEATURE_KPROBES and pmu_type("kprobe") is None:
        raise MissingFeatureError(what, section, kind.feature,
                                  f"there is no {PMU_DEVICES / 'kprobe'}")


def explain_load_failure(what: str, section: str, kind: abi.ProgramKind,
                         error: SyscallError) -> Optional[MissingFeatureError]:
    """The missing feature behind a failed load, if that is what it was.

    A kernel without trampolines refuses fentry, fexit and LSM programs with
    EPERM before the verifier says a word; EPERM with an empty log is also
    what a caller without CAP_BPF gets, so a trivial raw tracepoint program
    is loaded to tell the two apart."""
    if kind.feature not in (abi.FEATURE_TRAMPOLINES, abi.FEATURE_BPF_LSM):
        return None
    if error.errno != errno.EPERM or error.log.strip() or not _may_load_tracing():
        return None
    return MissingFeatureError(what, section, kind.feature,
                               "it refuses such programs at load (EPERM, before verifying "
                               "them) while it loads other tracing programs")


# r0 = 0; exit
_RETURN_0 = bytes.fromhex("b700000000000000" "9500000000000000")


@functools.lru_cache(maxsize=1)
def _may_load_tracing() -> bool:
    """Whether this process may load tracing programs at all."""
    try:
        result = bpf.prog_load(bpf.BPF_PROG_TYPE_RAW_TRACEPOINT, _RETURN_0, "GPL",
                               "pybpfc_probe", log_level=0, what="feature probe")
    except SyscallError:
        return False
    bpf.close(result.fd)
    return True
