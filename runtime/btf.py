"""BTF and BTF.ext: parse, inspect, fix up, re-encode; decode and encode values.

Pure data, no syscalls.  The layouts are those of ``linux/btf.h`` and
``tools/lib/bpf/libbpf_internal.h`` (the ``.BTF.ext`` section).  Every failure
is a ``SpecError`` whose message starts with ``BTF:`` or ``BTF.ext:``.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from collections.abc import Iterator, Mapping
from typing import Any, Optional

from .spec import SpecError

BTF_MAGIC = 0xEB9F
_HEADER = struct.Struct("<HBBIIIII")       # magic, version, flags, hdr_len, type/str off+len
_EXT_HEADER = struct.Struct("<HBBIIIII")   # magic, version, flags, hdr_len, func/line off+len
_TYPE = struct.Struct("<III")              # name_off, info, size_or_type
_U32 = struct.Struct("<I")

# INT encoding bits
INT_SIGNED, INT_CHAR, INT_BOOL = 1, 2, 4
# FUNC linkage (kept in vlen) and VAR linkage
LINKAGE_STATIC, LINKAGE_GLOBAL, LINKAGE_EXTERN = 0, 1, 2
# DATASECs libbpf fills from outside the object (kernel config, kernel symbols).
EXTERN_DATASECS = (".kconfig", ".ksyms")

_MAX_CHAIN = 64   # deepest typedef/modifier/array chain we follow before calling it a loop


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
_SIZED = {Kind.INT, Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64, Kind.DATASEC, Kind.FLOAT}
# Kinds resolve() looks through.
_MODIFIERS = {Kind.TYPEDEF, Kind.CONST, Kind.VOLATILE, Kind.RESTRICT, Kind.TYPE_TAG}


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


class Btf:
    """A parsed ``.BTF`` section: ``types[id]`` (id 0 is void) and ``strings``."""

    def __init__(self, types: Optional[list[BtfType]] = None,
                 strings: Optional[StringTable] = None, flags: int = 0):
        self.types: list[BtfType] = types if types is not None else [BtfType(Kind.VOID)]
        self.strings = strings if strings is not None else StringTable()
        self.flags = flags

    def __getitem__(self, type_id: int) -> BtfType:
        if not 0 <= type_id < len(self.types):
            raise SpecError(f"BTF: no type #{type_id} (there are {len(self.types)})")
        return self.types[type_id]

    # ------------------------------------------------------------ parsing

    @classmethod
    def parse(cls, data: bytes) -> Btf:
        data = bytes(data)
        if len(data) < _HEADER.size:
            raise SpecError(f"BTF: {len(data)} bytes is too short for the "
                            f"{_HEADER.size}-byte header")
        magic, version, flags, hdr_len, type_off, type_len, str_off, str_len = \
            _HEADER.unpack_from(data)
        if magic == 0x9FEB:
            raise SpecError("BTF: big-endian BTF is not supported")
        if magic != BTF_MAGIC:
            raise SpecError(f"BTF: bad magic {magic:#06x} (expected {BTF_MAGIC:#06x})")
        if version != 1:
            raise SpecError(f"BTF: unsupported version {version}")
        if not _HEADER.size <= hdr_len <= len(data):
            raise SpecError(f"BTF: header length {hdr_len} is invalid for "
                            f"{len(data)} bytes of BTF")
        body = data[hdr_len:]
        for what, off, length in (("type", type_off, type_len), ("string", str_off, str_len)):
            if off + length > len(body):
                raise SpecError(f"BTF: {what} section ({length} bytes at {off}) runs past the "
                                f"end of the data ({len(body)} bytes after the header)")
        if str_len == 0 or body[str_off] != 0 or body[str_off + str_len - 1] != 0:
            raise SpecError("BTF: the string section must start and end with a NUL byte")
        btf = cls(strings=StringTable(body[str_off:str_off + str_len]), flags=flags)
        btf.types.extend(_parse_types(body[type_off:type_off + type_len], btf.strings))
        btf._check_references()
        return btf

    def _check_references(self) -> None:
        count = len(self.types)
        for tid, t in enumerate(self.types):
            refs = list(self._references(t))
            for ref in refs:
                if not 0 <= ref < count:
                    raise SpecError(f"BTF: type #{tid} ({t.kind.name} '{t.name}') refers to "
                                    f"type #{ref}, which does not exist ({count} types)")

    @staticmethod
    def _references(t: BtfType) -> Iterator[int]:
        if t.kind == Kind.ARRAY:
            yield t.elem_type
            yield t.index_type
        elif t.kind not in _SIZED and t.kind not in (Kind.VOID, Kind.FWD):
            yield t.type
        for m in t.members:
            yield m.type
        for v in t.vars:
            yield v.type

    # ----------------------------------------------------------- encoding

    def encode(self) -> bytes:
        """Serialise to the ``.BTF`` wire format (types then strings).  An
        unmodified parse of LLVM output encodes to the same bytes."""
        out = bytearray()
        for t in self.types[1:]:
            out += self._encode_type(t)
        types = bytes(out)
        strings = bytes(self.strings.data)
        header = _HEADER.pack(BTF_MAGIC, 1, self.flags, _HEADER.size,
                              0, len(types), len(types), len(strings))
        return header + types + strings

    def _name_off(self, name: str, old: int) -> int:
        try:
            if self.strings[old] == name:
                return old
        except SpecError:
            pass
        return self.strings.add(name)

    def _encode_type(self, t: BtfType) -> bytes:
        k = t.kind
        if k in (Kind.STRUCT, Kind.UNION, Kind.FUNC_PROTO):
            vlen = len(t.members)
        elif k in (Kind.ENUM, Kind.ENUM64):
            vlen = len(t.values)
        elif k == Kind.DATASEC:
            vlen = len(t.vars)
        elif k == Kind.FUNC:
            vlen = t.linkage
        else:
            vlen = 0
        info = (int(t.kind_flag) << 31) | (int(k) << 24) | vlen
        third = t.size if k in _SIZED else t.type
        out = bytearray(_TYPE.pack(self._name_off(t.name, t.name_off), info, third))
        if k == Kind.INT:
            out += _U32.pack((t.encoding << 24) | (t.bits_offset << 16) | t.bits)
        elif k == Kind.ARRAY:
            out += struct.pack("<III", t.elem_type, t.index_type, t.nelems)
        elif k in (Kind.STRUCT, Kind.UNION):
            for m in t.members:
                offset = (m.bitfield_size << 24 | m.bit_offset) if t.kind_flag else m.bit_offset
                out += struct.pack("<III", self._name_off(m.name, m.name_off), m.type, offset)
        elif k == Kind.ENUM:
            for e in t.values:
                out += struct.pack("<II", self._name_off(e.name, e.name_off),
                                   e.value & 0xFFFFFFFF)
        elif k == Kind.ENUM64:
            for e in t.values:
                value = e.value & 0xFFFFFFFFFFFFFFFF
                out += struct.pack("<III", self._name_off(e.name, e.name_off),
                                   value & 0xFFFFFFFF, value >> 32)
        elif k == Kind.FUNC_PROTO:
            for m in t.members:
                out += struct.pack("<II", self._name_off(m.name, m.name_off), m.type)
        elif k == Kind.VAR:
            out += _U32.pack(t.linkage)
        elif k == Kind.DATASEC:
            for vsi in t.vars:
                out += struct.pack("<III", vsi.type, vsi.offset, vsi.size)
        elif k == Kind.DECL_TAG:
            out += struct.pack("<i", t.component_idx)
        return bytes(out)

    # ------------------------------------------------------------- lookup

    def find(self, name: str, kind: Optional[Kind] = None) -> Optional[int]:
        """Id of the first type called ``name`` (of ``kind`` if given), or None."""
        for tid, t in enumerate(self.types):
            if t.name == name and (kind is None or t.kind == kind) and tid:
                return tid
        return None

    def resolve(self, type_id: int) -> int:
        """Skip typedefs and const/volatile/restrict/type_tag modifiers."""
        for _ in range(_MAX_CHAIN):
            t = self[type_id]
            if t.kind not in _MODIFIERS:
                return type_id
            type_id = t.type
        raise SpecError(f"BTF: type #{type_id}: modifier chain is too deep (a loop?)")

    def size_of(self, type_id: int, _depth: int = 0) -> int:
        if _depth > _MAX_CHAIN:
            raise SpecError(f"BTF: type #{type_id}: type chain is too deep (a loop?)")
        tid = self.resolve(type_id)
        t = self[tid]
        if t.kind in _SIZED:
            return t.size
        if t.kind == Kind.PTR:
            return 8
        if t.kind == Kind.ARRAY:
            return t.nelems * self.size_of(t.elem_type, _depth + 1)
        if t.kind == Kind.VAR:
            return self.size_of(t.type, _depth + 1)
        raise SpecError(f"BTF: {self.describe(tid)} has no size")

    def describe(self, type_id: int) -> str:
        """``#12 STRUCT 'stats'``: for messages."""
        t = self[type_id]
        if type_id == 0:
            return "#0 void"
        return f"#{type_id} {t.kind.name}" + (f" '{t.name}'" if t.name else "")

    def datasecs(self) -> dict[str, int]:
        return {t.name: tid for tid, t in enumerate(self.types) if t.kind == Kind.DATASEC}

    # ------------------------------------------------------------ fix-ups

    def fixup_datasecs(self, section_sizes: Mapping[str, int],
                       symbols: Mapping[str, Mapping[str, tuple[int, bool]]]) -> None:
        """What libbpf does before handing an LLVM object's BTF to the kernel.

        LLVM leaves every DATASEC's size 0 and every variable offset 0 (a
        static linker would patch them through ``.rel.BTF``): take the size
        from the ELF section of the same name and each offset from the
        variable's symbol; ``symbols[section][name] = (offset, hidden)``.
        Hidden symbols become static VARs (as in libbpf).  The kernel wants
        a DATASEC's variables in increasing offset order, so sort them.
        """
        for t in self.types:
            if t.kind != Kind.DATASEC:
                continue
            # Extern-backed sections (libbpf's .kconfig/.ksyms) have no ELF
            # section; whoever resolves the externs lays them out.
            if t.name in EXTERN_DATASECS or t.vars and all(
                    self[v.type].kind == Kind.VAR and self[v.type].linkage == LINKAGE_EXTERN
                    for v in t.vars):
                continue
            fix_offsets = False
            # A section may hold only unnamed data (string constants): no
            # variables, but the kernel still wants its size.
            if t.size == 0:
                size = section_sizes.get(t.name)
                if not size:
                    raise SpecError(f"BTF: DATASEC '{t.name}' has no ELF section of that name "
                                    f"to take its size from")
                t.size, fix_offsets = size, True
            section_syms = symbols.get(t.name, {})
            for vsi in t.vars:
                var = self[vsi.type]
                if var.kind != Kind.VAR:
                    raise SpecError(f"BTF: DATASEC '{t.name}' lists {self.describe(vsi.type)}, "
                                    f"not a VAR")
                if var.linkage == LINKAGE_EXTERN:
                    continue
                sym = section_syms.get(var.name)
                if sym is None:
                    if var.linkage == LINKAGE_STATIC and not fix_offsets:
                        continue
                    raise SpecError(f"BTF: DATASEC '{t.name}': no ELF symbol for variable "
                                    f"'{var.name}'")
                offset, hidden = sym
                if fix_offsets:
                    vsi.offset = offset
                if hidden:
                    var.linkage = LINKAGE_STATIC
                if vsi.offset + vsi.size > t.size:
                    raise SpecError(f"BTF: DATASEC '{t.name}': variable '{var.name}' "
                                    f"({vsi.size} bytes at {vsi.offset}) runs past the "
                                    f"section's {t.size} bytes")
            t.vars.sort(key=lambda v: v.offset)

    def normalize_linkage(self) -> None:
        """The kernel refuses extern FUNCs and extern VARs; libbpf rewrites
        them before loading (externs themselves are resolved elsewhere)."""
        for t in self.types:
            if t.kind == Kind.FUNC and t.linkage == LINKAGE_EXTERN:
                t.linkage = LINKAGE_STATIC
            elif t.kind == Kind.VAR and t.linkage == LINKAGE_EXTERN:
                t.linkage = LINKAGE_GLOBAL

    # ------------------------------------------------------------- values

    def decode(self, type_id: int, data: bytes) -> Any:
        """The Python value of ``data`` read as type ``type_id``: ints (with
        their signedness), bool, float, lists for arrays (bytes for arrays of
        1-byte ints), StructValue for structs, unions and datasecs."""
        size = self.size_of(type_id)
        if len(data) < size:
            raise SpecError(f"BTF: {self.describe(type_id)} needs {size} bytes, got {len(data)}")
        return self._decode(type_id, bytes(data[:size]), 0)

    def _decode(self, type_id: int, data: bytes, depth: int) -> Any:
        if depth > _MAX_CHAIN:
            raise SpecError(f"BTF: {self.describe(type_id)}: type nesting is too deep")
        tid = self.resolve(type_id)
        t = self[tid]
        k = t.kind
        if k == Kind.INT:
            raw = int.from_bytes(data[:t.size], "little") >> t.bits_offset
            value = _sign(raw & ((1 << t.bits) - 1), t.bits, t.signed)
            return bool(value) if t.encoding & INT_BOOL else value
        if k in (Kind.ENUM, Kind.ENUM64):
            return int.from_bytes(data[:t.size], "little", signed=t.signed)
        if k == Kind.PTR:
            return int.from_bytes(data[:8], "little")
        if k == Kind.FLOAT:
            return struct.unpack(_float_format(t, self.describe(tid)), data[:t.size])[0]
        if k == Kind.VAR:
            return self._decode(t.type, data, depth + 1)
        if k == Kind.ARRAY:
            elem_size = self.size_of(t.elem_type)
            if self._is_byte(t.elem_type):
                return data[:t.nelems * elem_size]
            return [self._decode(t.elem_type, data[i * elem_size:(i + 1) * elem_size], depth + 1)
                    for i in range(t.nelems)]
        if k in (Kind.STRUCT, Kind.UNION):
            out = StructValue()
            for m in t.members:
                if m.bitfield_size:
                    raw = int.from_bytes(data, "little") >> m.bit_offset
                    mtype = self[self.resolve(m.type)]
                    out[m.name] = _sign(raw & ((1 << m.bitfield_size) - 1), m.bitfield_size,
                                        mtype.signed)
                    continue
                start = m.bit_offset // 8
                value = self._decode(m.type, data[start:start + self.size_of(m.type)], depth + 1)
                if not m.name and isinstance(value, StructValue):
                    out.update(value)     # anonymous struct/union: fields belong to the parent
                else:
                    out[m.name] = value
            return out
        if k == Kind.DATASEC:
            out = StructValue()
            for v in t.vars:
                out[self[v.type].name] = self._decode(v.type, data[v.offset:v.offset + v.size],
                                                      depth + 1)
            return out
        raise SpecError(f"BTF: cannot decode a value of {self.describe(tid)}")

    def encode_value(self, type_id: int, value: Any) -> bytes:
        """The bytes of ``value`` as type ``type_id`` (the inverse of decode).
        Struct fields and array elements left out are zero."""
        buf = bytearray(self.size_of(type_id))
        self._encode_into(type_id, value, buf, 0, self.describe(type_id), 0)
        return bytes(buf)

    def _encode_into(self, type_id: int, value: Any, buf: bytearray, bit_pos: int,
                     where: str, depth: int) -> None:
        if depth > _MAX_CHAIN:
            raise SpecError(f"BTF: value for {where}: type nesting is too deep")
        tid = self.resolve(type_id)
        t = self[tid]
        k = t.kind
        if k == Kind.INT:
            bits = t.bits
            if t.encoding & INT_BOOL and value not in (0, 1):    # True/False included
                raise SpecError(f"BTF: value for {where}: {value!r} is not a bool")
            number = _int_in_range(value, bits, t.signed, where, t.name)
            _put_bits(buf, bit_pos + t.bits_offset, bits, number)
        elif k in (Kind.ENUM, Kind.ENUM64):
            if isinstance(value, str):
                named = {e.name: e.value for e in t.values}
                if value not in named:
                    raise SpecError(f"BTF: value for {where}: enum '{t.name}' has no "
                                    f"enumerator '{value}'")
                value = named[value]
            _put_bits(buf, bit_pos, t.size * 8,
                      _int_in_range(value, t.size * 8, t.signed, where, t.name))
        elif k == Kind.PTR:
            _put_bits(buf, bit_pos, 64, _int_in_range(value, 64, False, where, "pointer"))
        elif k == Kind.FLOAT:
            if not isinstance(value, (int, float)):
                raise SpecError(f"BTF: value for {where}: {value!r} is not a number")
            raw = struct.pack(_float_format(t, self.describe(tid)), value)
            _put_bits(buf, bit_pos, t.size * 8, int.from_bytes(raw, "little"))
        elif k == Kind.VAR:
            self._encode_into(t.type, value, buf, bit_pos, where, depth + 1)
        elif k == Kind.ARRAY:
            self._encode_array(t, value, buf, bit_pos, where, depth)
        elif k in (Kind.STRUCT, Kind.UNION, Kind.DATASEC):
            self._encode_fields(tid, t, value, buf, bit_pos, where, depth)
        else:
            raise SpecError(f"BTF: cannot encode a value of {self.describe(tid)}")

    def _encode_array(self, t: BtfType, value: Any, buf: bytearray, bit_pos: int,
                      where: str, depth: int) -> None:
        elem_bits = self.size_of(t.elem_type) * 8
        if self._is_byte(t.elem_type) and isinstance(value, (bytes, bytearray, str)):
            raw = value.encode() if isinstance(value, str) else bytes(value)
            if len(raw) > t.nelems:
                raise SpecError(f"BTF: value for {where}: {len(raw)} bytes do not fit in "
                                f"{t.nelems}")
            for i, b in enumerate(raw):
                _put_bits(buf, bit_pos + i * 8, 8, b)
            return
        if not isinstance(value, (list, tuple)):
            raise SpecError(f"BTF: value for {where}: expected a list of {t.nelems} elements, "
                            f"got {type(value).__name__}")
        if len(value) > t.nelems:
            raise SpecError(f"BTF: value for {where}: {len(value)} elements do not fit in "
                            f"{t.nelems}")
        for i, item in enumerate(value):
            self._encode_into(t.elem_type, item, buf, bit_pos + i * elem_bits,
                              f"{where}[{i}]", depth + 1)

    def _encode_fields(self, tid: int, t: BtfType, value: Any, buf: bytearray, bit_pos: int,
                       where: str, depth: int) -> None:
        if not isinstance(value, Mapping):
            raise SpecError(f"BTF: value for {where}: expected a mapping of field names, "
                            f"got {type(value).__name__}")
        slots = dict(self._field_slots(tid, bit_pos))
        for name in value:
            if name not in slots:
                raise SpecError(f"BTF: value for {where}: {self.describe(tid)} has no field "
                                f"'{name}'")
        for name, item in value.items():
            ftype, fpos, bitfield = slots[name]
            if bitfield:
                mtype = self[self.resolve(ftype)]
                _put_bits(buf, fpos, bitfield,
                          _int_in_range(item, bitfield, mtype.signed, f"{where}.{name}",
                                        f"{bitfield}-bit field"))
            else:
                self._encode_into(ftype, item, buf, fpos, f"{where}.{name}", depth + 1)

    def _field_slots(self, tid: int, bit_pos: int) -> Iterator[tuple[str, tuple[int, int, int]]]:
        """(name, (type, bit position, bitfield size)) of each named field,
        with the fields of anonymous members lifted into the parent."""
        t = self[tid]
        if t.kind == Kind.DATASEC:
            for v in t.vars:
                yield self[v.type].name, (v.type, bit_pos + v.offset * 8, 0)
            return
        for m in t.members:
            pos = bit_pos + m.bit_offset
            inner = self.resolve(m.type)
            if not m.name and self[inner].kind in (Kind.STRUCT, Kind.UNION):
                yield from self._field_slots(inner, pos)
            else:
                yield m.name, (m.type, pos, m.bitfield_size)

    def _is_byte(self, type_id: int) -> bool:
        t = self[self.resolve(type_id)]
        return t.kind == Kind.INT and t.size == 1 and not t.encoding & INT_BOOL


# ------------------------------------------------------------------ parsing

def _parse_types(data: bytes, strings: StringTable) -> list[BtfType]:
    types: list[BtfType] = []
    pos = 0

    def take(fmt: str) -> tuple[int, ...]:
        nonlocal pos
        size = struct.calcsize(fmt)
        if pos + size > len(data):
            raise SpecError(f"BTF: type #{len(types) + 1} is truncated (type section is "
                            f"{len(data)} bytes)")
        values = struct.unpack_from(fmt, data, pos)
        pos += size
        return values

    while pos < len(data):
        name_off, info, third = take("<III")
        raw_kind = (info >> 24) & 0x1F
        vlen = info & 0xFFFF
        try:
            kind = Kind(raw_kind)
        except ValueError:
            raise SpecError(f"BTF: type #{len(types) + 1} has unknown kind {raw_kind}") from None
        if kind == Kind.VOID:
            raise SpecError(f"BTF: type #{len(types) + 1} has kind 0 (only void may)")
        t = BtfType(kind, strings[name_off], kind_flag=bool(info >> 31), name_off=name_off)
        if kind in _SIZED:
            t.size = third
        else:
            t.type = third
        if kind == Kind.INT:
            (word,) = take("<I")
            t.encoding, t.bits_offset, t.bits = (word >> 24) & 0xF, (word >> 16) & 0xFF, word & 0xFF
            if t.bits == 0 or t.bits_offset + t.bits > t.size * 8:
                raise SpecError(f"BTF: type #{len(types) + 1} (INT '{t.name}'): {t.bits} bits at "
                                f"{t.bits_offset} do not fit in {t.size} bytes")
        elif kind == Kind.ARRAY:
            t.elem_type, t.index_type, t.nelems = take("<III")
        elif kind in (Kind.STRUCT, Kind.UNION):
            for _ in range(vlen):
                m_name, m_type, m_off = take("<III")
                if t.kind_flag:
                    member = Member(strings[m_name], m_type, m_off & 0xFFFFFF, m_off >> 24, m_name)
                else:
                    member = Member(strings[m_name], m_type, m_off, 0, m_name)
                t.members.append(member)
        elif kind == Kind.ENUM:
            for _ in range(vlen):
                e_name, e_val = take("<II")
                value = e_val - (1 << 32) if t.kind_flag and e_val >> 31 else e_val
                t.values.append(Enumerator(strings[e_name], value, e_name))
        elif kind == Kind.ENUM64:
            for _ in range(vlen):
                e_name, lo, hi = take("<III")
                value = _sign(hi << 32 | lo, 64, t.kind_flag)
                t.values.append(Enumerator(strings[e_name], value, e_name))
        elif kind == Kind.FUNC:
            t.linkage = vlen
        elif kind == Kind.FUNC_PROTO:
            for _ in range(vlen):
                p_name, p_type = take("<II")
                t.members.append(Member(strings[p_name], p_type, name_off=p_name))
        elif kind == Kind.VAR:
            (t.linkage,) = take("<I")
        elif kind == Kind.DATASEC:
            for _ in range(vlen):
                t.vars.append(VarSecinfo(*take("<III")))
        elif kind == Kind.DECL_TAG:
            (t.component_idx,) = take("<i")
        elif vlen:
            raise SpecError(f"BTF: type #{len(types) + 1} ({kind.name}) has vlen {vlen}, "
                            f"expected 0")
        types.append(t)
    return types


def _sign(value: int, bits: int, signed: bool) -> int:
    if signed and bits and value >> (bits - 1):
        return value - (1 << bits)
    return value


def _int_in_range(value: Any, bits: int, signed: bool, where: str, type_name: str) -> int:
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, int):
        raise SpecError(f"BTF: value for {where}: {value!r} is not an integer")
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not lo <= value <= hi:
        raise SpecError(f"BTF: value for {where}: {value} does not fit in '{type_name}' "
                        f"({'signed' if signed else 'unsigned'} {bits} bits: {lo}..{hi})")
    return value & ((1 << bits) - 1)


def _put_bits(buf: bytearray, bit_pos: int, bits: int, value: int) -> None:
    """Write ``bits`` bits of ``value`` at ``bit_pos`` (little-endian)."""
    if bit_pos % 8 == 0 and bits % 8 == 0:
        start = bit_pos // 8
        buf[start:start + bits // 8] = value.to_bytes(bits // 8, "little")
        return
    whole = int.from_bytes(buf, "little")
    mask = ((1 << bits) - 1) << bit_pos
    whole = (whole & ~mask) | ((value << bit_pos) & mask)
    buf[:] = whole.to_bytes(len(buf), "little")


def _float_format(t: BtfType, what: str) -> str:
    formats = {2: "<e", 4: "<f", 8: "<d"}
    if t.size not in formats:
        raise SpecError(f"BTF: {what}: {t.size}-byte floats are not supported")
    return formats[t.size]


# ------------------------------------------------------------------ BTF.ext

@dataclass
class FuncInfo:
    """``struct bpf_func_info`` with ``insn`` as an instruction index (the
    object file stores a byte offset; the kernel wants the index)."""
    insn: int
    type_id: int

    def pack(self) -> bytes:
        return struct.pack("<II", self.insn, self.type_id)


@dataclass
class LineInfo:
    """``struct bpf_line_info``: the raw fields the kernel gets (string
    offsets into ``.BTF``'s string table, ``line_col = line << 10 | col``)
    and their resolved text."""
    insn: int
    file_name_off: int
    line_off: int
    line_col: int
    file_name: str = ""
    line: str = ""

    @property
    def line_number(self) -> int:
        return self.line_col >> 10

    @property
    def column(self) -> int:
        return self.line_col & 0x3FF

    def pack(self) -> bytes:
        return struct.pack("<IIII", self.insn, self.file_name_off, self.line_off, self.line_col)


@dataclass
class CoreRelo:
    """``struct bpf_core_relo`` (CO-RE); kept so a loader can refuse or apply it."""
    insn: int
    type_id: int
    access_str_off: int
    kind: int
    access_str: str = ""


FUNC_INFO_SIZE, LINE_INFO_SIZE, CORE_RELO_SIZE = 8, 16, 16


@dataclass
class BtfExt:
    """``.BTF.ext``, per ELF section name; instruction indexes are relative
    to the start of that section."""
    func_info: dict[str, list[FuncInfo]] = field(default_factory=dict)
    line_info: dict[str, list[LineInfo]] = field(default_factory=dict)
    core_relos: dict[str, list[CoreRelo]] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: bytes, btf: Btf) -> BtfExt:
        data = bytes(data)
        if len(data) < _EXT_HEADER.size:
            raise SpecError(f"BTF.ext: {len(data)} bytes is too short for the "
                            f"{_EXT_HEADER.size}-byte header")
        magic, version, _flags, hdr_len, fi_off, fi_len, li_off, li_len = \
            _EXT_HEADER.unpack_from(data)
        if magic != BTF_MAGIC:
            raise SpecError(f"BTF.ext: bad magic {magic:#06x} (expected {BTF_MAGIC:#06x})")
        if version != 1:
            raise SpecError(f"BTF.ext: unsupported version {version}")
        if not _EXT_HEADER.size <= hdr_len <= len(data):
            raise SpecError(f"BTF.ext: header length {hdr_len} is invalid for {len(data)} bytes")
        core_off = core_len = 0
        if hdr_len >= _EXT_HEADER.size + 8:
            core_off, core_len = struct.unpack_from("<II", data, _EXT_HEADER.size)
        body = data[hdr_len:]
        ext = cls()
        for sec, records in _ext_records(body, fi_off, fi_len, FUNC_INFO_SIZE, "func_info", btf):
            ext.func_info[sec] = [FuncInfo(_insn(off, "func_info", sec), type_id)
                                  for off, type_id in (struct.unpack_from("<II", r)
                                                       for r in records)]
            for fi in ext.func_info[sec]:
                if not 0 < fi.type_id < len(btf.types) or btf[fi.type_id].kind != Kind.FUNC:
                    raise SpecError(f"BTF.ext: func_info for section '{sec}' names type "
                                    f"#{fi.type_id}, which is not a FUNC")
        for sec, records in _ext_records(body, li_off, li_len, LINE_INFO_SIZE, "line_info", btf):
            lines = ext.line_info[sec] = []
            for r in records:
                off, file_off, line_off, line_col = struct.unpack_from("<IIII", r)
                lines.append(LineInfo(_insn(off, "line_info", sec), file_off, line_off,
                                      line_col, _ext_string(btf, file_off, "line_info", sec),
                                      _ext_string(btf, line_off, "line_info", sec)))
        for sec, records in _ext_records(body, core_off, core_len, CORE_RELO_SIZE,
                                         "core_relo", btf):
            ext.core_relos[sec] = []
            for r in records:
                off, type_id, access_off, kind = struct.unpack_from("<IIII", r)
                ext.core_relos[sec].append(CoreRelo(
                    _insn(off, "core_relo", sec), type_id, access_off, kind,
                    _ext_string(btf, access_off, "core_relo", sec)))
        return ext


def _ext_records(body: bytes, off: int, length: int, min_size: int, what: str,
                 btf: Btf) -> Iterator[tuple[str, list[bytes]]]:
    """(section name, raw records) of one ``.BTF.ext`` subsection."""
    if length == 0:
        return
    if off + length > len(body) or length < 4:
        raise SpecError(f"BTF.ext: {what} ({length} bytes at {off}) runs past the end of "
                        f"the section")
    data = body[off:off + length]
    (rec_size,) = _U32.unpack_from(data)
    if rec_size < min_size or rec_size % 4:
        raise SpecError(f"BTF.ext: {what} record size {rec_size} is invalid (at least "
                        f"{min_size}, a multiple of 4)")
    pos = 4
    while pos < len(data):
        if pos + 8 > len(data):
            raise SpecError(f"BTF.ext: {what} is truncated")
        sec_off, count = struct.unpack_from("<II", data, pos)
        pos += 8
        sec = _ext_string(btf, sec_off, what, None)
        if pos + count * rec_size > len(data):
            raise SpecError(f"BTF.ext: {what} for section '{sec}' claims {count} records, "
                            f"more than the subsection holds")
        yield sec, [data[pos + i * rec_size:pos + (i + 1) * rec_size] for i in range(count)]
        pos += count * rec_size


def _insn(byte_off: int, what: str, sec: str) -> int:
    if byte_off % 8:
        raise SpecError(f"BTF.ext: {what} for section '{sec}' has instruction offset "
                        f"{byte_off}, not a multiple of 8")
    return byte_off // 8


def _ext_string(btf: Btf, offset: int, what: str, sec: Optional[str]) -> str:
    try:
        return btf.strings[offset]
    except SpecError as err:
        where = f" for section '{sec}'" if sec else ""
        raise SpecError(f"BTF.ext: {what}{where}: {str(err).removeprefix('BTF: ')}") from None
