"""Python values to and from the bytes of a BTF type: what a map holds, or a
global, read and written through the object's BTF.  Used through
``Btf.decode`` and ``Btf.encode_value``."""
from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .btf_types import INT_BOOL, MAX_CHAIN, BtfType, Kind, StructValue, to_signed
from .spec import SpecError


if TYPE_CHECKING:
    from .btf import Btf


def decode(btf: Btf, type_id: int, data: bytes) -> Any:
    """The Python value of ``data`` read as type ``type_id``: ints (with
    their signedness), bool, float, lists for arrays (bytes for arrays of
    1-byte ints), StructValue for structs, unions and datasecs."""
    size = btf.size_of(type_id)
    if len(data) < size:
        raise SpecError(f"BTF: {btf.describe(type_id)} needs {size} bytes, got {len(data)}")
    return _decode(btf, type_id, bytes(data[:size]), 0)


def _decode(btf: Btf, type_id: int, data: bytes, depth: int) -> Any:
    if depth > MAX_CHAIN:
        raise SpecError(f"BTF: {btf.describe(type_id)}: type nesting is too deep")
    tid = btf.resolve(type_id)
    t = btf[tid]
    k = t.kind
    if k == Kind.INT:
        raw = int.from_bytes(data[:t.size], "little") >> t.bits_offset
        value = to_signed(raw & ((1 << t.bits) - 1), t.bits, t.signed)
        return bool(value) if t.encoding & INT_BOOL else value
    if k in (Kind.ENUM, Kind.ENUM64):
        return int.from_bytes(data[:t.size], "little", signed=t.signed)
    if k == Kind.PTR:
        return int.from_bytes(data[:8], "little")
    if k == Kind.FLOAT:
        return struct.unpack(_float_format(t, btf.describe(tid)), data[:t.size])[0]
    if k == Kind.VAR:
        return _decode(btf, t.type, data, depth + 1)
    if k == Kind.ARRAY:
        elem_size = btf.size_of(t.elem_type)
        if _is_byte(btf, t.elem_type):
            return data[:t.nelems * elem_size]
        return [_decode(btf, t.elem_type, data[i * elem_size:(i + 1) * elem_size], depth + 1)
                for i in range(t.nelems)]
    if k in (Kind.STRUCT, Kind.UNION):
        out = StructValue()
        for m in t.members:
            if m.bitfield_size:
                raw = int.from_bytes(data, "little") >> m.bit_offset
                mtype = btf[btf.resolve(m.type)]
                out[m.name] = to_signed(raw & ((1 << m.bitfield_size) - 1), m.bitfield_size,
                                        mtype.signed)
                continue
            start = m.bit_offset // 8
            value = _decode(btf, m.type, data[start:start + btf.size_of(m.type)], depth + 1)
            if not m.name and isinstance(value, StructValue):
                out.update(value)     # anonymous struct/union: fields belong to the parent
            else:
                out[m.name] = value
        return out
    if k == Kind.DATASEC:
        out = StructValue()
        for v in t.vars:
            out[btf[v.type].name] = _decode(btf, v.type, data[v.offset:v.offset + v.size],
                                            depth + 1)
        return out
    raise SpecError(f"BTF: cannot decode a value of {btf.describe(tid)}")


def encode_value(btf: Btf, type_id: int, value: Any) -> bytes:
    """The bytes of ``value`` as type ``type_id`` (the inverse of decode).
    Struct fields and array elements left out are zero."""
    buf = bytearray(btf.size_of(type_id))
    _encode_into(btf, type_id, value, buf, 0, btf.describe(type_id), 0)
    return bytes(buf)


def _encode_into(btf: Btf, type_id: int, value: Any, buf: bytearray, bit_pos: int,
                 where: str, depth: int) -> None:
    if depth > MAX_CHAIN:
        raise SpecError(f"BTF: value for {where}: type nesting is too deep")
    tid = btf.resolve(type_id)
    t = btf[tid]
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
        raw = struct.pack(_float_format(t, btf.describe(tid)), value)
        _put_bits(buf, bit_pos, t.size * 8, int.from_bytes(raw, "little"))
    elif k == Kind.VAR:
        _encode_into(btf, t.type, value, buf, bit_pos, where, depth + 1)
    elif k == Kind.ARRAY:
        _encode_array(btf, t, value, buf, bit_pos, where, depth)
    elif k in (Kind.STRUCT, Kind.UNION, Kind.DATASEC):
        _encode_fields(btf, tid, t, value, buf, bit_pos, where, depth)
    else:
        raise SpecError(f"BTF: cannot encode a value of {btf.describe(tid)}")


def _encode_array(btf: Btf, t: BtfType, value: Any, buf: bytearray, bit_pos: int,
                  where: str, depth: int) -> None:
    elem_bits = btf.size_of(t.elem_type) * 8
    if _is_byte(btf, t.elem_type) and isinstance(value, (bytes, bytearray, str)):
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
        _encode_into(btf, t.elem_type, item, buf, bit_pos + i * elem_bits,
                     f"{where}[{i}]", depth + 1)


def _encode_fields(btf: Btf, tid: int, t: BtfType, value: Any, buf: bytearray, bit_pos: int,
                   where: str, depth: int) -> None:
    if not isinstance(value, Mapping):
        raise SpecError(f"BTF: value for {where}: expected a mapping of field names, "
                        f"got {type(value).__name__}")
    slots = dict(_field_slots(btf, tid, bit_pos))
    for name in value:
        if name not in slots:
            raise SpecError(f"BTF: value for {where}: {btf.describe(tid)} has no field "
                            f"'{name}'")
    for name, item in value.items():
        ftype, fpos, bitfield = slots[name]
        if bitfield:
            mtype = btf[btf.resolve(ftype)]
            _put_bits(buf, fpos, bitfield,
                      _int_in_range(item, bitfield, mtype.signed, f"{where}.{name}",
                                    f"{bitfield}-bit field"))
        else:
            _encode_into(btf, ftype, item, buf, fpos, f"{where}.{name}", depth + 1)


def _field_slots(btf: Btf, tid: int, bit_pos: int) -> Iterator[tuple[str, tuple[int, int, int]]]:
    """(name, (type, bit position, bitfield size)) of each named field,
    with the fields of anonymous members lifted into the parent."""
    t = btf[tid]
    if t.kind == Kind.DATASEC:
        for v in t.vars:
            yield btf[v.type].name, (v.type, bit_pos + v.offset * 8, 0)
        return
    for m in t.members:
        pos = bit_pos + m.bit_offset
        inner = btf.resolve(m.type)
        if not m.name and btf[inner].kind in (Kind.STRUCT, Kind.UNION):
            yield from _field_slots(btf, inner, pos)
        else:
            yield m.name, (m.type, pos, m.bitfield_size)


def _is_byte(btf: Btf, type_id: int) -> bool:
    t = btf[btf.resolve(type_id)]
    return t.kind == Kind.INT and t.size == 1 and not t.encoding & INT_BOOL


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
