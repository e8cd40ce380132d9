"""The running kernel's BTF (``/sys/kernel/btf/vmlinux``), read lazily.

vmlinux BTF is about 5 MB and 130,000 types; parsing every type into
``BtfType`` records (``btf.Btf.parse``) takes more than a second in Python,
too slow for ``pybpfc run``.  This reader walks the type headers once (the
start of each type and its name), looks names up in the string table, and
parses only the types asked for, with ``btf.py``'s parser.  It is a ``Btf``
(``resolve``, ``size_of``, ``decode``, ... work; walking every type parses
them all).  No syscalls: the file is read like any other.
"""
from __future__ import annotations

import functools
import struct
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Optional, Union, cast, overload

from .btf import Btf, BtfType, Kind, StringTable, parse_types
from .btf_types import unpack_header
from .errors import BpfError
from .spec import SpecError

VMLINUX_BTF = Path("/sys/kernel/btf/vmlinux")

# Bytes that follow a type's 12-byte header: a fixed count, or per member (vlen).
_FIXED_TAIL = {Kind.INT: 4, Kind.ARRAY: 12, Kind.VAR: 4, Kind.DECL_TAG: 4}
_PER_MEMBER = {Kind.STRUCT: 12, Kind.UNION: 12, Kind.ENUM: 8, Kind.ENUM64: 12,
               Kind.FUNC_PROTO: 8, Kind.DATASEC: 12}


class _LazyTypes(Sequence[BtfType]):
    """A BTF blob's types by id, each parsed when first asked for."""

    def __init__(self, kernel: "KernelBtf", types: bytes):
        self._kernel = kernel
        self._types = types
        self._starts, self.name_offsets = self._walk(types)
        self._parsed: dict[int, BtfType] = {0: BtfType(Kind.VOID)}

    def _walk(self, types: bytes) -> tuple["array[int]", "array[int]"]:
        """Where each type starts and its name's offset (index 0 is void)."""
        starts, names = array("I", [0]), array("I", [0])
        header = struct.Struct("<III").unpack_from
        pos, end = 0, len(types)
        fixed, per_member = {int(k): v for k, v in _FIXED_TAIL.items()}, \
            {int(k): v for k, v in _PER_MEMBER.items()}
        while pos < end:
            if pos + 12 > end:
                raise BpfError(f"{self._kernel.what}: type #{len(starts)} is truncated")
            name_off, info, _ = header(types, pos)
            kind = (info >> 24) & 0x1F
            starts.append(pos)
            names.append(name_off)
            pos += 12 + fixed.get(kind, 0) + per_member.get(kind, 0) * (info & 0xFFFF)
        if pos != end:
            raise BpfError(f"{self._kernel.what}: the last type runs past the type section")
        return starts, names

    def __len__(self) -> int:
        return len(self._starts)

    @overload
    def __getitem__(self, type_id: int) -> BtfType: ...

    @overload
    def __getitem__(self, ids: slice) -> list[BtfType]: ...

    def __getitem__(self, type_id: Union[int, slice]) -> Union[BtfType, list[BtfType]]:
        if isinstance(type_id, slice):
            return [self[i] for i in range(*type_id.indices(len(self)))]
        if type_id < 0:
            type_id += len(self)
        found = self._parsed.get(type_id)
        if found is not None:
            return found
        if not 0 < type_id < len(self._starts):
            raise IndexError(type_id)
        start = self._starts[type_id]
        end = self._starts[type_id + 1] if type_id + 1 < len(self._starts) else len(self._types)
        found = self._parsed[type_id] = _parse_one(self._types[start:end],
                                                   self._kernel.strings)
        return found


class KernelBtf(Btf):
    """A kernel BTF blob as a ``Btf`` whose types are parsed on first use,
    and looked up by name through the string table.  ``what`` names the
    file in errors."""

    def __init__(self, data: bytes, what: str = str(VMLINUX_BTF)):
        self.what = what
        try:
            flags, hdr_len, type_off, type_len, str_off, str_len = unpack_header(data, "BTF")
        except SpecError as err:
            raise BpfError(f"{what}: {err}") from None
        body = memoryview(data)[hdr_len:]
        if type_off + type_len > len(body) or str_off + str_len > len(body):
            raise BpfError(f"{what}: BTF sections run past the end of the file")
        strings = StringTable(bytes(body[str_off:str_off + str_len]))
        super().__init__(strings=strings, flags=flags)
        self._raw_strings = bytes(strings.data)
        self._lazy = _LazyTypes(self, bytes(body[type_off:type_off + type_len]))
        self.types = cast(list[BtfType], self._lazy)

    def __len__(self) -> int:
        return len(self._lazy)

    def ids_named(self, name: str) -> list[int]:
        """Every type id with this name (several kinds may share one)."""
        offsets = set()
        needle = b"\0" + name.encode() + b"\0"
        at = self._raw_strings.find(needle) if name else -1
        while at >= 0:
            offsets.add(at + 1)
            at = self._raw_strings.find(needle, at + 1)
        return [tid for tid, off in enumerate(self._lazy.name_offsets) if off in offsets]

    def find(self, name: str, kind: Optional[Kind] = None) -> Optional[int]:
        """The first type called ``name`` (of ``kind`` if given), or None."""
        for tid in self.ids_named(name):
            if kind is None or self[tid].kind == kind:
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
