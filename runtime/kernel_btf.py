"""The running kernel's BTF (``/sys/kernel/btf/vmlinux``), read lazily.

vmlinux BTF is about 5 MB and 130,000 types; parsing every type into
``BtfType`` records (``btf.Btf.parse``) takes more than a second in Python,
too slow for ``pybpfc run``.  This reader walks the type headers once (the
start of each type and its name), looks names up in the string table, and
parses only the types asked for, with ``btf.py``'s parser.  No syscalls:
the file is read like any other.
"""
from __future__ import annotations

import functools
import struct
from array import array
from pathlib import Path
from typing import Optional, Union

from .btf import BtfType, Kind, StringTable, parse_types
from .btf_types import unpack_header
from .errors import BpfError
from .spec import SpecError

VMLINUX_BTF = Path("/sys/kernel/btf/vmlinux")

# Bytes that follow a type's 12-byte header: a fixed count, or per member (vlen).
_FIXED_TAIL = {Kind.INT: 4, Kind.ARRAY: 12, Kind.VAR: 4, Kind.DECL_TAG: 4}
_PER_MEMBER = {Kind.STRUCT: 12, Kind.UNION: 12, Kind.ENUM: 8, Kind.ENUM64: 12,
               Kind.FUNC_PROTO: 8, Kind.DATASEC: 12}
_KIND_NAMES = {"typedef": Kind.TYPEDEF, "func": Kind.FUNC, "struct": Kind.STRUCT,
               "union": Kind.UNION, "enum": Kind.ENUM, "enum64": Kind.ENUM64,
               "int": Kind.INT, "var": Kind.VAR}


class KernelBtf:
    """Types of a kernel BTF blob by id and by name; ``types`` are parsed on
    first use.  ``what`` names the file in errors."""

    def __init__(self, data: bytes, what: str = str(VMLINUX_BTF)):
        self.what = what
        try:
            flags, hdr_len, type_off, type_len, str_off, str_len = unpack_header(data, "BTF")
        except SpecError as err:
            raise BpfError(f"{what}: {err}") from None
        body = memoryview(data)[hdr_len:]
        if type_off + type_len > len(body) or str_off + str_len > len(body):
            raise BpfError(f"{what}: BTF sections run past the end of the file")
        self._types = bytes(body[type_off:type_off + type_len])
        self.strings = StringTable(bytes(body[str_off:str_off + str_len]))
        self._raw_strings = bytes(self.strings.data)
        self._starts, self._names = self._walk(self._types)
        self._parsed: dict[int, BtfType] = {}

    def _walk(self, types: bytes) -> tuple["array[int]", "array[int]"]:
        """Where each type starts and its name's offset (index 0 is void)."""
        starts, names = array("I", [0]), array("I", [0])
        header = struct.Struct("<III").unpack_from
        pos, end = 0, len(types)
        fixed, per_member = {int(k): v for k, v in _FIXED_TAIL.items()}, \
            {int(k): v for k, v in _PER_MEMBER.items()}
        while pos < end:
            if pos + 12 > end:
                raise BpfError(f"{self.what}: type #{len(starts)} is truncated")
            name_off, info, _ = header(types, pos)
            kind = (info >> 24) & 0x1F
            starts.append(pos)
            names.append(name_off)
            pos += 12 + fixed.get(kind, 0) + per_member.get(kind, 0) * (info & 0xFFFF)
        if pos != end:
            raise BpfError(f"{self.what}: the last type runs past the type section")
        return starts, names

    def __len__(self) -> int:
        return len(self._starts)

    def __getitem__(self, type_id: int) -> BtfType:
        """The type with this id, parsed now if it was not yet."""
        found = self._parsed.get(type_id)
        if found is not None:
            return found
        if not 0 < type_id < len(self._starts):
            raise BpfError(f"{self.what}: no type #{type_id} (there are {len(self._starts)})")
        start = self._starts[type_id]
        end = self._starts[type_id + 1] if type_id + 1 < len(self._starts) else len(self._types)
        found = self._parsed[type_id] = _parse_one(self._types[start:end], self.strings)
        return found

    def name_of(self, type_id: int) -> str:
        return self.strings[self._names[type_id]] if type_id else ""

    def ids_named(self, name: str) -> list[int]:
        """Every type id with this name (several kinds may share one)."""
        if not name:
            return []
        # vmlinux BTF keeps each string once: find it, then the types naming it.
        at = self._raw_strings.find(b"\0" + name.encode() + b"\0")
        if at < 0:
            return []
        offset = at + 1
        return [tid for tid, off in enumerate(self._names) if off == offset]

    def find(self, name: str, kind: Union[Kind, str, None] = None) -> Optional[int]:
        """The first type called ``name`` (of ``kind``: a Kind or "typedef",
        "func", "struct", ...), or None."""
        wanted = _KIND_NAMES[kind] if isinstance(kind, str) else kind
        for tid in self.ids_named(name):
            if wanted is None or self[tid].kind == wanted:
                return tid
        return None


def _parse_one(raw: bytes, strings: StringTable) -> BtfType:
    try:
        (parsed,) = parse_types(raw, strings)
    except (SpecError, ValueError) as err:
        raise BpfError(f"kernel BTF: {err}") from None
    return parsed


@functools.lru_cache(maxsize=1)
def vmlinux_btf() -> KernelBtf:
    """The running kernel's BTF, read once per process."""
    try:
        data = VMLINUX_BTF.read_bytes()
    except FileNotFoundError:
        raise BpfError(f"{VMLINUX_BTF}: missing; this kernel was built without "
                       "CONFIG_DEBUG_INFO_BTF, which CO-RE and BTF-typed programs "
                       "need") from None
    except OSError as err:
        raise BpfError(f"{VMLINUX_BTF}: cannot read it: {err.strerror}") from None
    return KernelBtf(data)
