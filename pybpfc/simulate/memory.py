"""The program's memory as the interpreter keeps it: bytes, little-endian,
as the BPF machine lays them out.

Structs, lists, bytearrays, globals and map values are ``bytearray``
blocks; a reference to something in one is a :class:`Place` (the block
and an offset).  Integers travel as Python ints already wrapped to their
type (``semantics.wrap``); they meet memory only here.
"""
from __future__ import annotations

from typing import Any, Union

from ..abi.kernel import PAGE_SIZE, XDP_PACKET_HEADROOM
from ..compiler.semantics import wrap
from ..compiler.types import BOOL, ArrayType, IntType, StructType, Type


class Place:
    """``size`` bytes at ``offset`` in ``block``: what an address is."""
    __slots__ = ("block", "offset")

    def __init__(self, block: bytearray, offset: int = 0):
        self.block = block
        self.offset = offset

    def at(self, offset: int) -> "Place":
        return Place(self.block, self.offset + offset)

    def read(self, size: int) -> bytes:
        return bytes(self.block[self.offset:self.offset + size])

    def write(self, data: bytes) -> None:
        self.block[self.offset:self.offset + len(data)] = data


Scalar = Union[int, bool]


def encode(value: Scalar, ty: Type) -> bytes:
    """A scalar's bytes in memory."""
    if ty is BOOL:
        return b"\1" if value else b"\0"
    assert isinstance(ty, IntType), ty
    return (int(value) & ((1 << ty.bits) - 1)).to_bytes(ty.size, "little")


def decode_scalar(data: bytes, ty: Type) -> Scalar:
    if ty is BOOL:
        return data[0] != 0
    assert isinstance(ty, IntType), ty
    return wrap(int.from_bytes(data[:ty.size], "little"), ty)


def load(place: Place, ty: Type) -> Scalar:
    return decode_scalar(place.read(ty.size), ty)


def store(place: Place, value: Scalar, ty: Type) -> None:
    place.write(encode(value, ty))


def decode(data: bytes, ty: Type) -> Any:
    """A value in memory as plain Python: an int or bool, a dict of a
    struct's fields, a list of a list's elements, the bytes of a bytearray."""
    if isinstance(ty, StructType):
        return {name: decode(data[off:off + fty.size], fty) for name, fty, off in ty.fields}
    if isinstance(ty, ArrayType):
        if ty.is_bytes:
            return bytes(data[:ty.size])
        size = ty.elem.size
        return [decode(data[i * size:(i + 1) * size], ty.elem) for i in range(ty.length)]
    return decode_scalar(data, ty)


def to_bytes(value: Any, ty: Type, what: str) -> bytes:
    """Plain Python (as :func:`decode` gives it) back to memory; a struct
    may leave fields out (they are zero).  ``what`` names the value in
    errors."""
    if isinstance(ty, StructType):
        if not isinstance(value, dict):
            raise ValueError(f"{what}: expected a dict of {ty.name}'s fields, got {value!r}")
        data = bytearray(ty.size)
        known = {name: (fty, off) for name, fty, off in ty.fields}
        for name, v in value.items():
            if name not in known:
                raise ValueError(f"{what}: {ty.name} has no field '{name}' "
                                 f"(it has {', '.join(known)})")
            fty, off = known[name]
            data[off:off + fty.size] = to_bytes(v, fty, f"{what}.{name}")
        return bytes(data)
    if isinstance(ty, ArrayType):
        if ty.is_bytes:
            if not isinstance(value, (bytes, bytearray)) or len(value) > ty.length:
                raise ValueError(f"{what}: expected at most {ty.length} bytes, got {value!r}")
            return bytes(value).ljust(ty.length, b"\0")
        if not isinstance(value, (list, tuple)) or len(value) != ty.length:
            raise ValueError(f"{what}: expected a list of {ty.length} values, got {value!r}")
        return b"".join(to_bytes(v, ty.elem, f"{what}[{i}]") for i, v in enumerate(value))
    if ty is BOOL:
        return encode(bool(value), ty)
    assert isinstance(ty, IntType)
    if isinstance(value, bool) or not isinstance(value, int) or not ty.fits(value):
        raise ValueError(f"{what}: expected a {ty.name} ({ty.min} .. {ty.max}), got {value!r}")
    return encode(value, ty)


def initial_bytes(ty: Type, init: object) -> bytearray:
    """A global's memory from its initial value (``GlobalVar.init``)."""
    data = bytearray(ty.size)
    if init is None:
        return data
    if isinstance(init, (bytes, bytearray)):
        data[:len(init)] = init
    elif isinstance(ty, ArrayType) and isinstance(init, list):
        size = ty.elem.size
        for i, v in enumerate(init):
            data[i * size:(i + 1) * size] = _scalar_bytes(v, ty.elem)
    elif isinstance(init, (int, bool)):
        data[:] = _scalar_bytes(init, ty)
    return data


def _scalar_bytes(value: object, ty: Type) -> bytes:
    assert isinstance(value, (int, bool))
    return encode(wrap(int(value), ty) if isinstance(ty, IntType) else value, ty)


class Packet:
    """A packet: ``page[start:end]``, in a page whose room around it the
    XDP helpers may use (an XDP packet starts XDP_PACKET_HEADROOM bytes in,
    as in the kernel's test run; an skb's at the page's start)."""

    def __init__(self, data: bytes, xdp: bool):
        self.xdp = xdp
        self.page = bytearray(max(PAGE_SIZE, len(data) + XDP_PACKET_HEADROOM))
        self.start = XDP_PACKET_HEADROOM if xdp else 0
        self.end = self.start + len(data)
        self.page[self.start:self.end] = data

    @property
    def data(self) -> bytes:
        return bytes(self.page[self.start:self.end])

    def __len__(self) -> int:
        return self.end - self.start

    def at(self, offset: int) -> Place:
        return Place(self.page, self.start + offset)

    def writable(self, length: int) -> bool:
        """bpf_try_make_writable: the first ``length`` bytes exist."""
        return length <= len(self)
