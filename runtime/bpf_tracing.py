"""The ``bpf(2)`` commands only tracing attachments use: opening a raw
tracepoint and creating an iterator's readable fd.  They go through
``bpf.py``'s one syscall function, like every other command (a test that
fakes ``bpf._sys_bpf`` sees them too)."""
from __future__ import annotations

import ctypes
from typing import Optional

from . import bpf


def raw_tracepoint_open(prog_fd: int, name: Optional[str], *, what: str) -> int:
    """BPF_RAW_TRACEPOINT_OPEN: a link fd attaching the program to the raw
    tracepoint ``name``; None for a BTF-typed program (tp_btf), whose
    target was named at load."""
    buffer = ctypes.create_string_buffer(name.encode()) if name is not None else None
    attr = bpf.BpfAttr()
    attr.raw_tracepoint.name = ctypes.addressof(buffer) if buffer is not None else 0
    attr.raw_tracepoint.prog_fd = prog_fd
    return bpf._call(bpf.BPF_RAW_TRACEPOINT_OPEN, "BPF_RAW_TRACEPOINT_OPEN", attr, what)


def iter_create(link_fd: int, *, what: str) -> int:
    """BPF_ITER_CREATE: a new fd reading one pass of an iterator link."""
    attr = bpf.BpfAttr()
    attr.iter_create.link_fd = link_fd
    return bpf._call(bpf.BPF_ITER_CREATE, "BPF_ITER_CREATE", attr, what)
