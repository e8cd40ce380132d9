"""Attaching a program to a function of a binary (``uprobe``) or to its
return (``uretprobe``): a perf event of the kernel's ``uprobe`` PMU at the
function's file offset, with the program on it through a BPF link.

The target is libbpf's ``BINARY:FUNCTION[+OFFSET]`` (a path, a shared
library such as ``libc.so.6``, or a command on PATH).  With a pid the probe
fires only in that process; without, in every process that runs the file.
"""
from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass
from typing import Optional

from . import system
from .elf_symbols import elf_symbols, find_binary
from .errors import BpfError
from .features import PMU_DEVICES, pmu_type
from .perf_structs import PerfEventAttr
from .tracing_link import TracingLink, attach_to_perf_events

_TARGET = re.compile(r"(?P<binary>.+):(?P<function>[A-Za-z_.$][\w.$@]*)(\+(?P<offset>0x[0-9a-fA-F]+|\d+))?")


@dataclass(frozen=True)
class UprobeTarget:
    binary: str            # the real path of the file
    function: str
    offset: int            # bytes into the function
    file_offset: int       # where the probe goes

    def __str__(self) -> str:
        extra = f"+{self.offset:#x}" if self.offset else ""
        return f"{self.binary}:{self.function}{extra}"


def resolve_target(target: str, what: str) -> UprobeTarget:
    """``BINARY:FUNCTION[+OFFSET]`` -> the file and file offset to probe."""
    m = _TARGET.fullmatch(target)
    if m is None:
        raise BpfError(f"{what}: '{target}' is not BINARY:FUNCTION[+OFFSET] (e.g. "
                       "/usr/bin/bash:readline or libc.so.6:malloc)")
    try:
        binary = find_binary(m["binary"])
        offset = int(m["offset"], 0) if m["offset"] else 0
        symbols = elf_symbols(binary)
        address = symbols.address_of(m["function"]) + offset
        return UprobeTarget(binary, m["function"], offset, symbols.file_offset(address))
    except BpfError as err:
        raise BpfError(f"{what}: {err}") from None


def _retprobe_bit() -> int:
    """The bit of ``config`` that makes a uprobe a return probe, as the PMU
    describes it (``config:0``)."""
    path = PMU_DEVICES / "uprobe" / "format" / "retprobe"
    try:
        text = path.read_text().strip()
        return int(text.removeprefix("config:"))
    except (OSError, ValueError) as err:
        raise BpfError(f"{path}: cannot read the return-probe bit: {err}") from None


def attach_uprobe(prog_fd: int, program_name: str, target: str, *, retprobe: bool,
                  pid: Optional[int] = None) -> TracingLink:
    """Attach at ``target``'s entry (or return, with ``retprobe``), in
    process ``pid`` only or in every process."""
    kind = "uretprobe" if retprobe else "uprobe"
    what = f"program '{program_name}' on {kind} {target}"
    pmu = pmu_type("uprobe")
    if pmu is None:
        raise BpfError(f"{what}: this kernel has no uprobe PMU ({PMU_DEVICES / 'uprobe'}; "
                       "CONFIG_UPROBE_EVENTS)")
    place = resolve_target(target, what)
    what = f"program '{program_name}' on {kind} {place}"
    path = ctypes.create_string_buffer(place.binary.encode())
    attr = PerfEventAttr(type=pmu, config=(1 << _retprobe_bit()) if retprobe else 0,
                         config1=ctypes.addressof(path), config2=place.file_offset,
                         sample_period=1, wakeup_events=1)
    if pid is None:
        fd = system.perf_event_open(attr, -1, system.online_cpus()[0], what=what)
    else:
        fd = system.perf_event_open(attr, pid, -1, what=what)
    return attach_to_perf_events(prog_fd, program_name, kind, str(place), [fd])
