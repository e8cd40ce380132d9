"""``pybpfc run`` for tracing programs: they attach to the kernel events
their sections name (a tracepoint, a function of a binary, a sampling perf
event), not to the command's cgroup, so they see those events in every
process; the program decides which to keep (by pid, by comm, ...).

Iterators are not attached: they run when read, not at events.
"""
from __future__ import annotations

import sys
from typing import Any

from pybpfc import abi

# Sampling rate of perf_event programs under `pybpfc run` (an odd rate,
# so sampling does not run in step with timers).
RUN_FREQUENCY = 99


def attaches_to_events(prog: Any) -> bool:
    from pybpfc.runtime.tracing_attach import TRACING_TARGETS
    return prog.attach_target in TRACING_TARGETS and prog.attach_target != abi.TARGET_ITERATOR


def attach_to_events(prog: Any) -> Any:
    """Attach a tracing program to the event its section names; say where."""
    options = {"frequency": RUN_FREQUENCY} if prog.attach_target == abi.TARGET_PERF_EVENT else {}
    link = prog.attach(**options)
    print(f"pybpfc run: attached {prog.name} to {link.kind} {link.target}", file=sys.stderr)
    return link


def is_event_link(link: Any) -> bool:
    from pybpfc.runtime.tracing_link import TracingLink
    return isinstance(link, TracingLink)

