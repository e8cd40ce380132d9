"""BTF: parse, inspect, fix up, re-encode; decode and encode values.

Pure data, no syscalls.  The layouts are those of ``linux/btf.h``
(``btf_types.py``); ``.BTF.ext`` is read by ``btf_ext.py`` and values are
converted by ``btf_values.py``.  Every failure is a ``SpecError`` whose
message starts with ``BTF:`` or ``BTF.ext:``.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping
from typing import Any, Optional

from . import btf_values
# Callers import the records and .BTF.ext from here (see __all__).
from .btf_ext import (CORE_RELO_SIZE, FUNC_INFO_SIZE, LINE_INFO_SIZE, BtfExt, CoreRelo,
                      FuncInfo, LineInfo)
from .btf_types import (BTF_MAGIC, EXTERN_DATASECS, HEADER, INT_BOOL, INT_CHAR, INT_SIGNED,
                        LINKAGE_EXTERN, LINKAGE_GLOBAL, LINKAGE_STATIC, MAX_CHAIN,
                        MODIFIER_KINDS, SIZED_KINDS, BtfType, Enumerator, Kind, Member,
                        StringTable, StructValue, VarSecinfo, to_signed, unpack_header)
from .spec import SpecError

__all__ = [
    "Btf", "BtfExt", "BtfType", "CoreRelo", "Enumerator", "FuncInfo", "Kind", "LineInfo",
    "Member", "StringTable", "StructValue", "VarSecinfo", "BTF_MAGIC", "CORE_RELO_SIZE",
    "EXTERN_DATASECS", "FUNC_INFO_SIZE", "INT_BOOL", "INT_CHAR", "INT_SIGNED", "LINE_INFO_SIZE",
    "LINKAGE_EXTERN", "LINKAGE_GLOBAL", "LINKAGE_STATIC",
]

_TYPE = struct.Struct("<III")              # name_off, info, size_or_type
_U32 = struct.Struct("<I")


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
        flags, hdr_len, type_off, type_len, str_off, str_len = unpack_header(data, "BTF")
        body = data[hdr_len:]
        for what, off, length in (("type", type_off, type_len), ("string", str_off, str_len)):
            if off + length > len(body):
                raise SpecError(f"BTF: {what} section ({length} bytes at {off}) runs past the "
                                f"end of the data ({len(body)} bytes after the header)")
        if str_len == 0 or body[str_off] != 0 or body[str_off + str_len - 1] != 0:
            raise SpecError("BTF: the string section must start and end with a NUL byte")
        btf = cls(strings=StringTable(body[str_off:str_off + str_len]), flags=flags)
        btf.types.extend(parse_types(body[type_off:type_off + type_len], btf.strings))
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
        elif t.kind not in SIZED_KINDS and t.kind not in (Kind.VOID, Kind.FWD):
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
        header = HEADER.pack(BTF_MAGIC, 1, self.flags, HEADER.size,
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
        third = t.size if k in SIZED_KINDS else t.type
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
        for _ in range(MAX_CHAIN):
            t = self[type_id]
            if t.kind not in MODIFIER_KINDS:
                return type_id
            type_id = t.type
        raise SpecError(f"BTF: type #{type_id}: modifier chain is too deep (a loop?)")

    def size_of(self, type_id: int, _depth: int = 0) -> int:
        if _depth > MAX_CHAIN:
            raise SpecError(f"BTF: type #{type_id}: type chain is too deep (a loop?)")
        tid = self.resolve(type_id)
        t = self[tid]
        if t.kind in SIZED_KINDS:
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
        """The Python value of ``data`` read as type ``type_id`` (see
        ``btf_values.decode``)."""
        return btf_values.decode(self, type_id, data)

    def encode_value(self, type_id: int, value: Any) -> bytes:
        """The bytes of ``value`` as type ``type_id``, the inverse of decode
        (see ``btf_values.encode_value``)."""
        return btf_values.encode_value(self, type_id, value)


# ------------------------------------------------------------------ parsing


def parse_types(data: bytes, strings: StringTable) -> list[BtfType]:
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
        if kind in SIZED_KINDS:
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
                value = to_signed(hi << 32 | lo, 64, t.kind_flag)
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
