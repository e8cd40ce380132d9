"""The structs of ``perf_event_open(2)`` (``linux/perf_event.h``) as ctypes
layouts: ``struct perf_event_attr`` and the header of a perf buffer's
records.  No syscalls here: ``system.py`` makes them.  A test compiles the
header and checks every offset and size."""
from __future__ import annotations

import ctypes
import struct

u16 = ctypes.c_uint16
u32 = ctypes.c_uint32
u64 = ctypes.c_uint64


class PerfEventAttr(ctypes.Structure):
    """``struct perf_event_attr`` up to ``sig_data`` (PERF_ATTR_SIZE_VER8).
    The unions keep their first member's name plus the names used here:
    ``sample_period``/``sample_freq``, ``wakeup_events``, ``config1``
    (``uprobe_path``), ``config2`` (``probe_offset``).  The one-bit options
    after ``read_format`` are ``flags`` (``abi.kernel.PERF_ATTR_FLAG_*``)."""
    _c_type_ = "struct perf_event_attr"
    _fields_ = [
        ("type", u32),
        ("size", u32),
        ("config", u64),
        ("sample_period", u64),      # a union with sample_freq
        ("sample_type", u64),
        ("read_format", u64),
        ("flags", u64),              # the bitfields: disabled, inherit, ..., freq (bit 10), ...
        ("wakeup_events", u32),      # a union with wakeup_watermark
        ("bp_type", u32),
        ("config1", u64),            # a union with bp_addr, kprobe_func, uprobe_path
        ("config2", u64),            # a union with bp_len, kprobe_addr, probe_offset
        ("branch_sample_type", u64),
        ("sample_regs_user", u64),
        ("sample_stack_user", u32),
        ("clockid", ctypes.c_int32),
        ("sample_regs_intr", u64),
        ("aux_watermark", u32),
        ("sample_max_stack", u16),
        ("_reserved_2", u16),
        ("aux_sample_size", u32),
        ("_reserved_3", u32),
        ("sig_data", u64),
    ]


class PerfEventMmapPage(ctypes.Structure):
    """The fields of ``struct perf_event_mmap_page`` a perf buffer reader
    uses, at their offsets (the rest is padding here)."""
    _c_type_ = "struct perf_event_mmap_page"
    _fields_ = [
        ("_head_of_page", ctypes.c_uint8 * 1024),
        ("data_head", u64),
        ("data_tail", u64),
        ("data_offset", u64),
        ("data_size", u64),
    ]


# struct perf_event_header: u32 type, u16 misc, u16 size.
RECORD_HEADER = struct.Struct("<IHH")

STRUCTS = (PerfEventAttr, PerfEventMmapPage)
