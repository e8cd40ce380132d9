"""Attaching a program to a tracepoint (``tracepoint/CATEGORY/NAME``): a
perf event of the tracepoint, by its id from tracefs, with the program on
it through a BPF link.  One event, on one CPU, is enough: the program runs
wherever the tracepoint fires."""
from __future__ import annotations

from pybpfc.abi.kernel import PERF_TYPE_TRACEPOINT

from . import system, tracepoint_events
from .perf_structs import PerfEventAttr
from .tracing_link import TracingLink, attach_to_perf_events


def attach_tracepoint(prog_fd: int, program_name: str, target: str) -> TracingLink:
    """Attach to ``target``, ``CATEGORY/NAME`` as in tracefs's events/."""
    what = f"program '{program_name}' on tracepoint {target}"
    category, name = tracepoint_events.split_tracepoint(target, what)
    with tracepoint_events.mounted_tracefs() as root:
        event = tracepoint_events.event_id(root, category, name, what)
    attr = PerfEventAttr(type=PERF_TYPE_TRACEPOINT, config=event, sample_period=1,
                         wakeup_events=1)
    fd = system.perf_event_open(attr, -1, system.online_cpus()[0], what=what)
    return attach_to_perf_events(prog_fd, program_name, "tracepoint", target, [fd])
