"""Attaching a program to a raw tracepoint (``raw_tracepoint/NAME``): the
tracepoint by its name alone (BPF_RAW_TRACEPOINT_OPEN), no tracefs, no
perf event.  The program sees the tracepoint's arguments as 64-bit slots."""
from __future__ import annotations

import re

from .bpf_tracing import raw_tracepoint_open
from .errors import BpfError
from .tracing_link import TracingLink

_NAME = re.compile(r"[A-Za-z0-9_]+")


def attach_raw_tracepoint(prog_fd: int, program_name: str, name: str) -> TracingLink:
    """Attach to the raw tracepoint ``name`` (``sys_enter``, ``sched_switch``:
    a tracepoint's name without its category)."""
    what = f"program '{program_name}' on raw tracepoint {name}"
    if not _NAME.fullmatch(name):
        raise BpfError(f"{what}: not a tracepoint name (the name without its category, e.g. "
                       "sys_enter or sched_switch)")
    fd = raw_tracepoint_open(prog_fd, name, what=what)
    return TracingLink(program_name, "raw tracepoint", name, link_fds=[fd])
