"""Tracing hooks (tracepoints, raw and BTF tracepoints, uprobes, perf
events), as the interpreter runs them: what they read of the kernel's and
the traced task's memory comes from a fake memory the test sets
(``Fakes.memory``: address -> bytes), and a tracepoint's ``__data_loc``
field (``ctx.filename``) from the bytes given for it, placed after the
event record as the kernel places them.

The probe helpers follow ``kernel/trace/bpf_trace.c``: a read that leaves
the memory there is fails with -EFAULT and zeroes the buffer; a string
read copies up to the NUL (at most the buffer's size less one, then a
NUL) and returns the length with the NUL.
"""
from __future__ import annotations

import errno
import zlib
from typing import Any, Optional

from .. import abi
from ..compiler import ast as A
from ..compiler import contract as C
from ..compiler.types import IntType
from .helpers import MASK64, helper
from .interpreter import Run, expression
from .memory import load

# Where the simulation places a tracepoint's event record, so that a
# __data_loc field reads as a kernel address probe_read_kernel_str() can
# read (any address would do; this one looks like the kernel's).
RECORD_ADDRESS = 0xFFFF_8880_0010_0000


def read_memory(run: Run, address: int, size: int) -> Optional[bytes]:
    """``size`` bytes at ``address`` of the event record or of the fake
    memory, or None when they are not all there."""
    regions = [(RECORD_ADDRESS, bytes(run.event.context.block))]
    regions += list(run.fakes.memory.items())
    for start, data in regions:
        if start <= address and address + size <= start + len(data):
            return data[address - start:address - start + size]
    return None


def read_string(run: Run, address: int, size: int) -> Optional[bytes]:
    """The string at ``address`` with its NUL, at most ``size`` bytes (cut
    with a NUL), or None when memory ends before it does."""
    out = bytearray()
    while len(out) < size - 1:
        byte = read_memory(run, address + len(out), 1)
        if byte is None:
            return None
        if byte == b"\0":
            break
        out += byte
    return bytes(out) + b"\0"


def _probe_read(run: Run, args: list[Any]) -> int:
    buf, size, src = args
    data = read_memory(run, src, size)
    if data is None:
        buf.write(bytes(size))
        return -errno.EFAULT
    buf.write(data)
    return 0


def _probe_read_str(run: Run, args: list[Any]) -> int:
    buf, size, src = args
    if size == 0:
        return 0
    text = read_string(run, src, size)
    if text is None:
        buf.write(bytes(size))
        return -errno.EFAULT
    buf.write(text)
    return len(text)


for _name in ("probe_read_user", "probe_read_kernel"):
    helper(_name)(_probe_read)
for _name in ("probe_read_user_str", "probe_read_kernel_str"):
    helper(_name)(_probe_read_str)


@helper("get_smp_processor_id")
def get_smp_processor_id(run: Run, args: list[Any]) -> int:
    return run.fakes.cpu


@helper("get_current_task")
def get_current_task(run: Run, args: list[Any]) -> int:
    return run.fakes.task & MASK64


@helper("ktime_get_boot_ns")
def ktime_get_boot_ns(run: Run, args: list[Any]) -> int:
    """The same clock as ktime_get_ns(): no suspend happens in a test."""
    return run.fakes.next_time()


@expression(C.ContextDataLoc)
def data_loc(run: Run, e: A.Attribute) -> int:
    """``ctx.filename``: the record's address plus the low 16 bits."""
    f = e.resolved.field
    loc = int.from_bytes(run.expr(e.value).at(f.offset).read(4), "little")
    return RECORD_ADDRESS + (loc & 0xFFFF)


@expression(C.HistogramAdd)
def histogram_add(run: Run, e: A.Call) -> int:
    """Count the sample in its power-of-two bucket (below 0: bucket 0)."""
    from ..runtime.histogram import bucket_of
    call = e.resolved
    sample = call.args["sample"]
    assert isinstance(sample.ty, IntType)
    sim = run.state.maps[call.map.name]
    bucket = bucket_of(run.expr(sample))
    place = sim.lookup(bucket.to_bytes(4, "little"), run.fakes.cpu)
    if place is not None:
        assert sim.value_type is not None
        place.write(((load(place, sim.value_type) + 1) & MASK64).to_bytes(8, "little"))
    return 0


# get_stackid()'s flags: the frames to skip, then what it may do.
_SKIP_MASK = 0xFF
_STACK_FLAGS = (_SKIP_MASK | abi.kernel.BPF_F_USER_STACK | abi.kernel.BPF_F_FAST_STACK_CMP
                | abi.kernel.BPF_F_REUSE_STACKID)


@helper("get_stackid")
def get_stackid(run: Run, args: list[Any]) -> int:
    """As ``kernel/bpf/stackmap.c``: the stack (the fake kernel or user one,
    less the frames to skip, cut to the map's depth) goes in the slot its
    hash picks, and that slot is the id; a slot holding another stack is
    -EEXIST unless BPF_F_REUSE_STACKID replaces it.  The hash is not the
    kernel's, so ids differ from the kernel's; what they name does not."""
    _ctx, stacks, flags = args
    if flags & ~_STACK_FLAGS:
        return -errno.EINVAL
    frames = (run.fakes.user_stack if flags & abi.kernel.BPF_F_USER_STACK
              else run.fakes.kernel_stack)
    assert stacks.value_type is not None
    depth = stacks.value_type.size // 8
    ips = [ip & MASK64 for ip in frames[flags & _SKIP_MASK:]][:depth]
    if not ips:
        return -errno.EFAULT
    buckets = 1 << max(stacks.max_entries - 1, 0).bit_length()
    data = b"".join(ip.to_bytes(8, "little") for ip in ips)
    slot = zlib.crc32(data) & (buckets - 1)
    key = slot.to_bytes(4, "little")
    value = data.ljust(depth * 8, b"\0")
    held = stacks.entries.get(key)
    if held is not None and bytes(held[0]) != value \
            and not flags & abi.kernel.BPF_F_REUSE_STACKID:
        return -errno.EEXIST
    stacks.entries[key] = [bytearray(value)]
    return slot
