"""Kernel structs as the build machine's kernel describes them in BTF
(``/sys/kernel/btf/vmlinux``), for programs that read them: ``task.pid``,
``task.real_parent.tgid``, ``task.comm``.

A struct's members are flattened through its anonymous structs and unions
(C reaches them by name the same way), each with its offset from the
start of the struct and what a program may do with it: an integer (its
width and sign from BTF), a pointer to another struct (followed), a named
struct inside it (reached as a pointer to it, ``task.se.vruntime``), an
address (a pointer to anything else, read as u64), a byte array (copied
into a bytearray).  The offsets are this kernel's; the object carries
CO-RE relocations, so the kernel that loads it puts in its own.
"""
from __future__ import annotations

import difflib
import functools
from typing import Any, Optional

from ..records import record

# What a program may do with a member (``KernelMember.kind``).
INTEGER, POINTER, ADDRESS, BYTES, OTHER = "integer", "pointer", "address", "bytes", "other"
EMBEDDED = "embedded"     # a struct inside the struct: reached like a pointer to it


class KernelTypesUnknown(Exception):
    """The kernel's BTF cannot be read, or has no such struct; the message
    says which (the checker adds the position)."""

    def __init__(self, message: str, note: Optional[str] = None):
        super().__init__(message)
        self.note = note


@record(frozen=True, eq=True)
class KernelMember:
    name: str
    offset: int          # bytes from the start of the struct
    kind: str            # INTEGER, POINTER, ADDRESS, BYTES or OTHER
    size: int            # bytes; of the whole array for BYTES
    signed: bool = False
    target: str = ""     # POINTER: the struct it points to; EMBEDDED: the struct it is
    c_type: str = ""     # as C spells it, for messages
    bitfield: bool = False
    enum: bool = False   # INTEGER: an enum in the kernel (CO-RE matches kinds)


@record(frozen=True, eq=False)
class KernelStruct:
    name: str
    size: int
    members: dict[str, KernelMember]


def _strip(btf: Any, type_id: int) -> Any:
    """The type under typedefs and qualifiers."""
    from ..runtime.btf_types import Kind
    t = btf.types[type_id]
    while t.kind in (Kind.TYPEDEF, Kind.CONST, Kind.VOLATILE, Kind.RESTRICT, Kind.TYPE_TAG):
        t = btf.types[t.type]
    return t


def _member(btf: Any, name: str, offset: int, type_id: int, bitfield: bool) -> KernelMember:
    from ..runtime.btf_types import Kind
    t = _strip(btf, type_id)
    spelled = btf.types[type_id].name or t.name or t.kind.name.lower()
    if bitfield:
        return KernelMember(name, offset, OTHER, 0, c_type=spelled,
                            bitfield=True)
    if t.kind == Kind.INT and t.size in (1, 2, 4, 8):
        return KernelMember(name, offset, INTEGER, t.size, t.signed, c_type=spelled)
    if t.kind in (Kind.ENUM, Kind.ENUM64) and t.size in (1, 2, 4, 8):
        return KernelMember(name, offset, INTEGER, t.size, t.kind_flag, c_type=spelled,
                            enum=True)
    if t.kind == Kind.PTR:
        target = _strip(btf, t.type)
        if target.kind == Kind.STRUCT and target.name:
            return KernelMember(name, offset, POINTER, 8, target=target.name,
                                c_type=f"struct {target.name} *")
        return KernelMember(name, offset, ADDRESS, 8, c_type=f"{target.name or 'void'} *")
    if t.kind == Kind.ARRAY:
        elem = _strip(btf, t.elem_type)
        if elem.kind == Kind.INT and elem.size == 1 and t.nelems:
            return KernelMember(name, offset, BYTES, t.nelems,
                                c_type=f"{elem.name}[{t.nelems}]")
    if t.kind == Kind.STRUCT and t.name:
        return KernelMember(name, offset, EMBEDDED, t.size, target=t.name,
                            c_type=f"struct {t.name}")
    kind = {Kind.STRUCT: "struct ", Kind.UNION: "union "}.get(t.kind, "")
    return KernelMember(name, offset, OTHER, 0, c_type=f"{kind}{t.name or '(anonymous)'}")


def _flatten(btf: Any, type_id: int, base: int, into: dict[str, KernelMember]) -> None:
    """The named members of a struct or union at ``base``, and those of
    its anonymous members (walked without recursion)."""
    from ..runtime.btf_types import Kind
    pending = [(type_id, base)]
    while pending:
        tid, at = pending.pop()
        for m in _strip(btf, tid).members:
            offset = at + m.bit_offset // 8
            if not m.name:
                if _strip(btf, m.type).kind in (Kind.STRUCT, Kind.UNION):
                    pending.append((m.type, offset))
                continue
            if m.name not in into:
                bitfield = m.bitfield_size != 0 or m.bit_offset % 8 != 0
                into[m.name] = _member(btf, m.name, offset, m.type, bitfield)


def _btf() -> Any:
    from ..runtime.errors import BpfError
    from ..runtime.kernel_btf import vmlinux_btf
    try:
        return vmlinux_btf()
    except (BpfError, OSError) as err:
        raise KernelTypesUnknown(f"cannot read the kernel's BTF: {err}") from None


@functools.lru_cache(maxsize=64)
def kernel_struct(name: str) -> KernelStruct:
    """Struct ``name`` of the build machine's kernel."""
    from ..runtime.btf_types import Kind
    btf = _btf()
    found = btf.find(name, Kind.STRUCT)
    if found is None:
        close = close_struct_names(btf, name)
        raise KernelTypesUnknown(
            f"the kernel has no struct {name}",
            note=("close names: " + ", ".join(close)) if close else
            "the names are the kernel's C struct names (bpftool btf dump file "
            "/sys/kernel/btf/vmlinux)")
    members: dict[str, KernelMember] = {}
    _flatten(btf, found, 0, members)
    return KernelStruct(name, btf.types[found].size, members)


def close_struct_names(btf: Any, name: str) -> list[str]:
    """Struct names of the kernel's close to ``name``."""
    from ..runtime.btf_types import Kind
    strings = btf._raw_strings.split(b"\0")
    near = {s.decode("ascii", "replace") for s in strings
            if abs(len(s) - len(name)) <= 3 and s[:1].lower() == name[:1].encode().lower()}
    found = difflib.get_close_matches(name, sorted(near), n=8, cutoff=0.7)
    return [n for n in found if btf.find(n, Kind.STRUCT) is not None][:4]


def close_member_names(struct: KernelStruct, name: str) -> list[str]:
    return difflib.get_close_matches(name, list(struct.members), n=4, cutoff=0.6)
