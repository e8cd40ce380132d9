"""Reading (and, when it reads, loading) one object, and judging how the
runtime coped: a clear ``BpfError`` or success, no other exception, no file
descriptor left open."""
from __future__ import annotations

import os
import re
import traceback
from typing import NamedTuple

from pybpfc.runtime.collection import load
from pybpfc.runtime.disasm import objdump
from pybpfc.runtime.elf import read_object
from pybpfc.runtime.errors import BpfError
from pybpfc.runtime.spec import ObjectSpec

# A runtime error names what is wrong first (runtime/errors.py, spec.py).
SUBJECT = re.compile(r"^(ELF( header)?: |section '|program '|function '|map '|BTF(\.ext)?: "
                     r"|file '|variable ')")
# Kernel objects a malformed spec may ask for are capped, to keep the machine
# healthy: a corrupted max_entries could make the kernel allocate gigabytes.
MAX_KERNEL_BYTES = 16 << 20

READ_ERROR, LOAD_ERROR, LOADED, TOO_BIG, INTERNAL = (
    "read error", "load error", "loaded", "too big to load", "internal error")


class Outcome(NamedTuple):
    kind: str
    detail: str = ""
    leaked_fds: int = 0


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def kernel_bytes(spec: ObjectSpec) -> int:
    maps: int = sum(m.max_entries * (m.key_size + m.value_size + 64) for m in spec.maps.values())
    return maps + sum(d.size for d in spec.data.values())


def check_object(data: bytes, in_kernel: bool) -> Outcome:
    before = open_fds()
    kind, detail = _judge(data, in_kernel)
    leaked = len(open_fds() - before)
    return Outcome(kind, detail, leaked)


def _judge(data: bytes, in_kernel: bool) -> tuple[str, str]:
    """What `pybpfc objdump` and `pybpfc maps` do with an object: read it,
    disassemble it, load it, and decode its globals and small maps."""
    stage = READ_ERROR
    try:
        spec = read_object(data)
        objdump(spec)
        if not in_kernel:
            return LOADED, "read only"
        if kernel_bytes(spec) > MAX_KERNEL_BYTES:
            return TOO_BIG, f"{kernel_bytes(spec)} bytes of maps"
        stage = LOAD_ERROR
        with load(spec) as coll:
            dict(coll.globals.items())
            for m in coll.maps.values():
                if m.spec.max_entries <= 1024:
                    list(m.items())
        return LOADED, ""
    except BpfError as err:
        message = str(err)
        if not SUBJECT.match(message):
            return INTERNAL, f"{type(err).__name__} does not name its subject: {message!r}"
        return stage, message.splitlines()[0]
    except Exception:
        return INTERNAL, traceback.format_exc(limit=-4)
