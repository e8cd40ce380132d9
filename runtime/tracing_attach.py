"""``Program.attach`` for tracing programs: what the program's kind
attaches to (``abi.ProgramKind.attach_target``) picks the attach file, and
the target is the one given, or else the one its section names
(``tracepoint/syscalls/sys_enter_openat``, ``uprobe//bin/bash:readline``)."""
from __future__ import annotations

from typing import Any, Optional

from pybpfc import abi

from .attach_btf import attach_kernel_btf
from .attach_iter import attach_iterator
from .attach_perf_event import attach_perf_event
from .attach_raw_tracepoint import attach_raw_tracepoint
from .attach_tracepoint import attach_tracepoint
from .attach_uprobe import attach_uprobe
from .errors import BpfError
from .features import MissingFeatureError
from .tracing_link import TracingLink

TRACING_TARGETS = frozenset({
    abi.TARGET_TRACEPOINT, abi.TARGET_RAW_TRACEPOINT, abi.TARGET_KERNEL_BTF,
    abi.TARGET_ITERATOR, abi.TARGET_UPROBE, abi.TARGET_URETPROBE, abi.TARGET_PERF_EVENT,
    abi.TARGET_KPROBE, abi.TARGET_KRETPROBE})

# The keyword options each kind of target takes.
_OPTIONS = {abi.TARGET_UPROBE: {"pid"}, abi.TARGET_URETPROBE: {"pid"},
            abi.TARGET_PERF_EVENT: {"event", "frequency", "period", "pid"}}
_EXAMPLES = {abi.TARGET_TRACEPOINT: "syscalls/sys_enter_openat",
             abi.TARGET_RAW_TRACEPOINT: "sys_enter", abi.TARGET_UPROBE: "/bin/bash:readline",
             abi.TARGET_URETPROBE: "/bin/bash:readline"}


def attach_tracing(prog_fd: int, program_name: str, section: str, kind: abi.ProgramKind,
                   target: Optional[str], options: dict[str, Any]) -> TracingLink:
    what = f"program '{program_name}'"
    where = kind.attach_target
    unknown = sorted(set(options) - _OPTIONS.get(where, set()))
    if unknown:
        allowed = ", ".join(sorted(_OPTIONS.get(where, ()))) or "none"
        raise BpfError(f"{what}: attaching to {abi.ATTACH_TARGETS[where]} takes no option "
                       f"{', '.join(unknown)} (options: {allowed})")
    named = kind.target_in(section)
    if where in (abi.TARGET_KERNEL_BTF, abi.TARGET_ITERATOR, abi.TARGET_PERF_EVENT):
        if target is not None:
            raise BpfError(f"{what}: section '{section}' attaches to "
                           f"{abi.ATTACH_TARGETS[where]}; attach() takes no target")
        if where == abi.TARGET_KERNEL_BTF:
            return attach_kernel_btf(prog_fd, program_name, section, kind)
        if where == abi.TARGET_ITERATOR:
            return attach_iterator(prog_fd, program_name, section, kind)
        return attach_perf_event(prog_fd, program_name, **options)
    if where in (abi.TARGET_KPROBE, abi.TARGET_KRETPROBE):
        assert kind.feature is not None
        raise MissingFeatureError(what, section, kind.feature,
                                  "pybpfc's runtime attaches no kprobes")
    chosen = target if target is not None else named
    if not chosen:
        raise BpfError(f"{what}: section '{section}' names no {where}: give one to attach() "
                       f"(e.g. '{_EXAMPLES[where]}') or write it in the section "
                       f"({kind.name}/{_EXAMPLES[where]})")
    if where == abi.TARGET_TRACEPOINT:
        return attach_tracepoint(prog_fd, program_name, chosen)
    if where == abi.TARGET_RAW_TRACEPOINT:
        return attach_raw_tracepoint(prog_fd, program_name, chosen)
    return attach_uprobe(prog_fd, program_name, chosen,
                         retprobe=where == abi.TARGET_URETPROBE, pid=options.get("pid"))
