"""The records a parsed ``.BTF`` is made of: kinds, types and their members,
the string table; the layouts of ``linux/btf.h``.  No parsing here (``btf.py``
does it), no syscalls."""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from .spec import SpecError

BTF_MAGIC = 0xEB9F
# .BTF's and .BTF.ext's header: magic, version, flags, hdr_len, then two
# (offset, length) pairs (types and strings; func info and line info).
HEADER = struct.Struct("<HBBIIIII")

# INT encoding bits
INT_SIGNED, INT_CHAR, INT_BOOL = 1, 2, 4
# FUNC linkage (kept in vlen) and VAR linkage
LINKAGE_STATIC, LINKAGE_GLOBAL, LINKAGE_EXTERN = 0, 1, 2
# DATASECs libbpf fills from outside the object (kernel config, kernel symbols).
EXTERN_DATASECS = (".kconfig", ".ksyms")

MAX_CHAIN = 64   # deepest typedef/modifier/array chain we follow before calling it a loop


class Kind(IntEnum):
    VOID = 0      # only type id 0
    INT = 1
    PTR = 2
    ARRAY = 3
    STRUCT = 4
    UNION = 5
    ENUM = 6
    FWD = 7
    TYPEDEF = 8
    VOLATILE = 9
    CONST = 10
    RESTRICT = 11
    FUNC = 12
    FUNC_PROTO = 13
    VAR = 14
    DATASEC = 15
    FLOAT = 16
    DECL_TAG = 17
    TYPE_TAG = 18
    ENUM64 = 19


# Kinds whose third word is a size; the others keep a type id there.
SIZED_KINDS = {Kind.INT, Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64, Kind.DATASEC, Kind.FLOAT}
# Kinds resolve() looks through.
MODIFIER_KINDS = {Kind.TYPEDEF, Kind.CONST, Kind.VOLATILE, Kind.RESTRICT, Kind.TYPE_TAG}


@dataclass


class Member:
    """A STRUCT/UNION member (``bit_offset``, ``bitfield_size``) or a
    FUNC_PROTO parameter (both left 0)."""
    name: str
    type: int
    bit_offset: int = 0
    bitfield_size: int = 0
    name_off: int = 0


@dataclass


class Enumerator:
    name: str
    value: int
    name_off: int = 0


@dataclass


class VarSecinfo:
    """One variable of a DATASEC: the VAR's type id, its offset and size."""
    type: int
    offset: int
    size: int


@dataclass


class BtfType:
    """One BTF type.  ``size`` holds the third word of sized kinds (INT,
    STRUCT, UNION, ENUM, ENUM64, DATASEC, FLOAT); ``type`` holds it for the
    others (the pointee, target, return type, ...; 0 for ARRAY and FWD).
    ``name_off`` is where the name was in the string table as read; encode()
    reuses it while it still holds ``name``."""
    kind: Kind
    name: str = ""
    size: int = 0
    type: int = 0
    kind_flag: bool = False
    linkage: int = 0            # FUNC, VAR
    encoding: int = 0           # INT: INT_SIGNED | INT_CHAR | INT_BOOL
    bits: int = 0               # INT
    bits_offset: int = 0        # INT
    elem_type: int = 0          # ARRAY
    index_type: int = 0         # ARRAY
    nelems: int = 0             # ARRAY
    members: list[Member] = field(default_factory=list)        # STRUCT, UNION, FUNC_PROTO
    values: list[Enumerator] = field(default_factory=list)     # ENUM, ENUM64
    vars: list[VarSecinfo] = field(default_factory=list)       # DATASEC
    component_idx: int = -1     # DECL_TAG
    name_off: int = 0

    @property
    def signed(self) -> bool:
        if self.kind == Kind.INT:
            return bool(self.encoding & INT_SIGNED)
        return self.kind_flag and self.kind in (Kind.ENUM, Kind.ENUM64)


class StringTable:
    """The BTF string section: NUL-terminated strings addressed by offset."""

    def __init__(self, data: bytes = b"\0"):
        self.data = bytearray(data)

    def __getitem__(self, offset: int) -> str:
        if not 0 <= offset < len(self.data):
            raise SpecError(f"BTF: string offset {offset} is outside the string table "
                            f"({len(self.data)} bytes)")
        end = self.data.find(b"\0", offset)
        if end < 0:
            raise SpecError(f"BTF: string at offset {offset} is not NUL-terminated")
        try:
            return self.data[offset:end].decode()
        except UnicodeDecodeError:
            raise SpecError(f"BTF: string at offset {offset} is not UTF-8") from None

    def add(self, text: str) -> int:
        """Offset of ``text``, appending it if no existing string (or string
        tail) already spells it."""
        if not text:
            return 0
        raw = text.encode() + b"\0"
        found = self.data.find(raw)
        if found >= 0:
            return found
        self.data += raw
        return len(self.data) - len(raw)

    def __len__(self) -> int:
        return len(self.data)


class StructValue(dict):  # type: ignore[type-arg]
    """A decoded struct/union/datasec: a dict of fields that also allows
    ``value.field``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def to_signed(value: int, bits: int, signed: bool) -> int:
    if signed and bits and value >> (bits - 1):
        return value - (1 << bits)
    return value


def unpack_header(data: bytes, what: str) -> tuple[int, int, int, int, int, int]:
    """flags, hdr_len and the two (offset, length) pairs of the header of a
    ``.BTF`` or ``.BTF.ext`` (``what``) section, checked."""
    if len(data) < HEADER.size:
        raise SpecError(f"{what}: {len(data)} bytes is too short for the "
                        f"{HEADER.size}-byte header")
    magic, version, flags, hdr_len, off1, len1, off2, len2 = HEADER.unpack_from(data)
    if magic == 0x9FEB:
        raise SpecError(f"{what}: big-endian BTF is not supported")
    if magic != BTF_MAGIC:
        raise SpecError(f"{what}: bad magic {magic:#06x} (expected {BTF_MAGIC:#06x})")
    if version != 1:
        raise SpecError(f"{what}: unsupported version {version}")
    if not HEADER.size <= hdr_len <= len(data):
        raise SpecError(f"{what}: header length {hdr_len} is invalid for {len(data)} bytes")
    return flags, hdr_len, off1, len1, off2, len2
