"""Stack traces in tracing programs: the StackTraceMap a program records
stacks in, ``get_stackid`` and its flags; :mod:`pybpfc.lang` exports them.
What each is in the kernel comes from ``pybpfc.abi`` (maps, helpers,
kernel)."""
from __future__ import annotations

from typing import Final

from .abi import kernel as _kernel
from .lang_base import _map_only_in_a_hook

__all__ = ["StackTraceMap", "get_stackid", "BPF_F_USER_STACK", "BPF_F_FAST_STACK_CMP",
           "BPF_F_REUSE_STACKID"]

# get_stackid's flags (the low 8 bits, if set, are frames to skip).
BPF_F_USER_STACK: Final[int] = _kernel.BPF_F_USER_STACK
BPF_F_FAST_STACK_CMP: Final[int] = _kernel.BPF_F_FAST_STACK_CMP
BPF_F_REUSE_STACKID: Final[int] = _kernel.BPF_F_REUSE_STACKID


class StackTraceMap:
    """Stacks by id, filled by get_stackid(); user space reads them
    (``coll.maps[name].stack(id)``) and names them (pybpfc.runtime.stacks)."""
    def __init__(self, max_entries: int, depth: int = _kernel.PERF_MAX_STACK_DEPTH) -> None:
        self.max_entries = max_entries
        self.depth = depth


def get_stackid(ctx: object, stacks: StackTraceMap, flags: int, /) -> int:
    raise RuntimeError(f"get_stackid() is a kernel helper: {_map_only_in_a_hook('StackTraceMap')}")
