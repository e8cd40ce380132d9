"""Lowering the program's own memory: variables, struct fields, list and
bytearray elements, map values through references, and comparisons of a
buffer's bytes.  (Assignments are in :mod:`.statements`.)

Every local lives in a stack slot (LLVM promotes scalars to registers),
zeroed at function entry unless the frame plan says its first assignment
does it, because the verifier refuses reads of uninitialised stack.
Structs and arrays are byte blocks addressed by offset.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Union

import llvmlite.ir as ir

from .. import ast as A
from ..contract import (ArrayElement, BufferEquals, ContextArgument, GlobalVariable,
                        LocalVariable, NamedConstant, PacketField, RefValue, StartsWith,
                        StructField)
from ..types import IntType, is_aggregate
from . import packet
from .state import I1, I8, I64, Lowering, VolatileLoad, expression, mem_type, reg_type

if TYPE_CHECKING:
    Address = Union[ir.Value, tuple[ir.Value, ir.Value]]


@expression(NamedConstant)
def lower_constant(lw: Lowering, e: A.Name) -> ir.Value:
    return ir.Constant(reg_type(e.ty), e.resolved.value)


@expression(ContextArgument)
def lower_context(lw: Lowering, e: A.Name) -> ir.Value:
    return lw.slots[id(e.resolved.var)]


@expression(LocalVariable, GlobalVariable, StructField, RefValue, PacketField)
def lower_load(lw: Lowering, e: A.Expr) -> ir.Value:
    assert not is_aggregate(e.ty), "a struct or list is not a value"
    addr = address(lw, e)
    assert not isinstance(addr, tuple)
    return load_value(lw, e, addr)


@expression(ArrayElement)
def lower_element(lw: Lowering, e: A.Subscript) -> ir.Value:
    addr = address(lw, e)
    if isinstance(addr, tuple):
        ptr, ok = addr
        return lw.guarded_value(ok, lambda: load_value(lw, e, ptr), 0, "inbounds")
    return load_value(lw, e, addr)


def load_value(lw: Lowering, e: A.Expr, addr: ir.Value) -> ir.Value:
    """Read the lvalue ``e`` at ``addr``.  A ReadOnly global is read with
    a volatile load: its initialiser is only a default that user space
    may replace before loading, so LLVM must not fold it in."""
    r = e.resolved
    if isinstance(r, GlobalVariable):
        user_set = r.var.readonly
    else:
        user_set = isinstance(r, (StructField, ArrayElement)) and r.in_readonly_global
    if user_set:
        load: ir.LoadInstr = VolatileLoad(lw.builder.block, addr, typ=mem_type(e.ty))
        lw.builder._insert(load)
    else:
        load = lw.builder.load(addr, typ=mem_type(e.ty))
    lw.apart_from_context(load)
    return lw.from_memory(load, e.ty)


def address(lw: Lowering, e: A.Expr) -> Address:
    """The memory address of an lvalue; for a variable index, the
    address and the in-bounds condition."""
    r = e.resolved
    if isinstance(r, GlobalVariable):
        return lw.globals[id(r.var)]
    if isinstance(r, LocalVariable):
        return lw.slots[id(r.var)]
    if isinstance(r, RefValue):
        return lw.expr(e.value)            # the reference is the address
    if isinstance(r, PacketField):
        assert isinstance(e, A.Attribute)
        return packet.field_address(lw, e)
    if isinstance(r, StructField):
        base = address(lw, e.value)
        assert not isinstance(base, tuple)
        return lw.offset(base, r.offset)
    assert isinstance(r, ArrayElement), r
    base = address(lw, e.value)
    assert not isinstance(base, tuple)
    if e.index.const is not None:
        return lw.offset(base, e.index.const * r.elem_size)
    index = lw.expr(e.index)
    index_ty = e.index.ty
    assert isinstance(index_ty, IntType)
    wide = lw.extend(index, index_ty, 64)
    length = ir.Constant(I64, r.length)
    ok = lw.builder.icmp_unsigned("<", wide, length)
    if r.in_range:
        # The checker proved the index in range (a loop variable over a
        # constant range): a plain address LLVM can fold once unrolled.
        scaled = lw.builder.mul(wide, ir.Constant(I64, r.elem_size))
        return lw.builder.gep(base, [scaled], source_etype=I8)
    # The access happens only when ``ok``.  The verifier checks the
    # address itself, and LLVM rewrites index arithmetic in ways its
    # range tracking cannot follow (moving the scaling above a clamp,
    # turning ~x < n into x >= m), so the byte offset is clamped once
    # more on a copy LLVM cannot see through: that compare and the
    # addition are then on one register.
    # (The last element's offset is the bound: the verifier does not
    # round a bound down to the element size.)
    clamped = lw.builder.select(ok, wide, ir.Constant(I64, 0))
    last = ir.Constant(I64, (r.length - 1) * r.elem_size)
    offset = lw.opaque(lw.builder.mul(clamped, ir.Constant(I64, r.elem_size)))
    offset = lw.builder.select(lw.builder.icmp_unsigned("<=", offset, last), offset,
                               ir.Constant(I64, 0))
    return lw.builder.gep(base, [offset], source_etype=I8), ok


def address_of(lw: Lowering, e: A.Expr) -> ir.Value:
    """The address of a variable, field or element at a constant place (a
    struct, list or bytearray the kernel reads or writes, for one)."""
    addr = address(lw, e)
    assert not isinstance(addr, tuple)
    return addr


# ------------------------------------------------------ comparing bytes

@expression(BufferEquals)
def lower_buffer_equals(lw: Lowering, e: A.Compare) -> ir.Value:
    r = e.resolved
    same = starts_with(lw, r.buffer, r.data, r.own_storage)
    return lw.builder.not_(same) if r.negate else same


@expression(StartsWith)
def lower_startswith(lw: Lowering, e: A.Call) -> ir.Value:
    r = e.resolved
    return starts_with(lw, r.buffer, r.prefix, r.own_storage)


def starts_with(lw: Lowering, buf: A.Expr, prefix: bytes, own_storage: bool) -> ir.Value:
    """Whether ``buf`` starts with ``prefix``: compared in the widest
    aligned pieces the buffer allows (a variable's own buffer is 8-aligned,
    types.BUFFER_ALIGN; a struct member may not be), all of them, with no
    early exit."""
    addr = address_of(lw, buf)
    result: ir.Value = ir.Constant(I1, 1)
    at = 0
    while at < len(prefix):
        width = next(w for w in (8, 4, 2, 1)
                     if (w == 1 or own_storage) and at % w == 0 and at + w <= len(prefix))
        piece = int.from_bytes(prefix[at:at + width], "little")
        loaded = lw.builder.load(lw.offset(addr, at), typ=ir.IntType(width * 8))
        loaded.align = width
        same = lw.builder.icmp_unsigned("==", loaded, ir.Constant(ir.IntType(width * 8), piece))
        result = lw.builder.and_(result, same)
        at += width
    return result
