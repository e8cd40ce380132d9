"""Attaching a ``perf_event`` program to sampling events: one perf event per
online CPU (the CPU clock by default), each with the program on it through
a BPF link.  The program runs at every sample, with the registers of the
interrupted code (``struct bpf_perf_event_data``)."""
from __future__ import annotations

import os
from typing import Optional

from pybpfc.abi import kernel

from . import system
from .errors import BpfError
from .perf_structs import PerfEventAttr
from .tracing_link import TracingLink, attach_to_perf_events

# The events a sampling program may count, as perf(1) names them.
EVENTS = {
    "cpu-clock": (kernel.PERF_TYPE_SOFTWARE, kernel.PERF_COUNT_SW_CPU_CLOCK),
    "task-clock": (kernel.PERF_TYPE_SOFTWARE, kernel.PERF_COUNT_SW_TASK_CLOCK),
    "cycles": (kernel.PERF_TYPE_HARDWARE, kernel.PERF_COUNT_HW_CPU_CYCLES),
    "instructions": (kernel.PERF_TYPE_HARDWARE, kernel.PERF_COUNT_HW_INSTRUCTIONS),
}
DEFAULT_FREQUENCY = 99      # samples per second and CPU, perf's habit for profiles


def attach_perf_event(prog_fd: int, program_name: str, *, event: str = "cpu-clock",
                      frequency: Optional[int] = None, period: Optional[int] = None,
                      pid: Optional[int] = None) -> TracingLink:
    """Sample ``event`` on every online CPU, ``frequency`` times a second or
    every ``period`` events (nanoseconds for the clocks); only while
    process ``pid`` runs, if given."""
    if frequency is not None and period is not None:
        raise BpfError(f"program '{program_name}': give a sampling frequency or a period, "
                       "not both")
    if event not in EVENTS:
        raise BpfError(f"program '{program_name}': unknown perf event '{event}' (known: "
                       f"{', '.join(EVENTS)})")
    rate = period if period is not None else frequency or DEFAULT_FREQUENCY
    if rate <= 0:
        raise BpfError(f"program '{program_name}': the sampling rate must be positive, "
                       f"not {rate}")
    how = f"every {period} events" if period is not None else f"at {rate} Hz"
    target = f"{event} {how}" + (f" in process {pid}" if pid is not None else "")
    what = f"program '{program_name}' on perf event {target}"
    perf_type, config = EVENTS[event]
    flags = 0 if period is not None else kernel.PERF_ATTR_FLAG_FREQ
    fds: list[int] = []
    try:
        for cpu in system.online_cpus():
            attr = PerfEventAttr(type=perf_type, config=config, sample_period=rate,
                                 flags=flags)
            fds.append(system.perf_event_open(attr, -1 if pid is None else pid, cpu,
                                              what=f"{what}, CPU {cpu}"))
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return attach_to_perf_events(prog_fd, program_name, "perf event", target, fds)
