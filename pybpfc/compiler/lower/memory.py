"""Lowering the program's own memory: variables, struct fields, list and
bytearray elements, map values through references; assignments to them,
and the values structs and arrays start with.

Every local lives in a stack slot (LLVM promotes scalars to registers),
zeroed at function entry unless the frame plan says its first assignment
does it, because the verifier refuses reads of uninitialised stack.
Structs and arrays are byte blocks addressed by offset.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Union

import llvmlite.ir as ir

from .. import ast as A
from ..contract import (ArrayElement, BytesInit, ContextArgument, ContextArrayElement,
                        ContextField, GlobalVariable, ListInit, LocalVariable, NamedConstant,
                        OptvalByte, ParseNumber, RefValue, StructField)
from ..types import U8, ArrayType, IntType, StructType, is_aggregate
from . import calls, context, expressions
from .state import I8, I64, Lowering, VolatileLoad, expression, mem_type, reg_type

if TYPE_CHECKING:
    Address = Union[ir.Value, tuple[ir.Value, ir.Value]]


@expression(NamedConstant)
def lower_constant(lw: Lowering, e: A.Name) -> ir.Value:
    return ir.Constant(reg_type(e.ty), e.resolved.value)


@expression(ContextArgument)
def lower_context(lw: Lowering, e: A.Name) -> ir.Value:
    return lw.slots[id(e.resolved.var)]


@expression(LocalVariable, GlobalVariable, StructField, RefValue)
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


# ------------------------------------------------------------ assignments

def store(lw: Lowering, target: A.Expr, value: A.Expr) -> None:
    if isinstance(target.ty, (ArrayType, StructType)):
        initialise(lw, target, value)
        return
    store_value(lw, target, lw.expr(value))


def store_value(lw: Lowering, target: A.Expr, value: ir.Value) -> None:
    r = target.resolved
    if isinstance(r, ContextField):
        context.ctx_store(lw, lw.expr(target.value), r.field, value)
        return
    if isinstance(r, OptvalByte):
        context.window_store(lw, r.window, target.index, value, U8)
        return
    if isinstance(r, ContextArrayElement):
        context.ctx_store_at(lw, lw.expr(r.base), r.offset, r.field.size, value)
        return
    addr = address(lw, target)
    ty = target.ty
    if isinstance(addr, tuple):
        ptr, ok = addr
        lw.guarded(ok, lambda: lw.mem_store(lw.to_memory(value, ty), ptr))
        return
    lw.mem_store(lw.to_memory(value, ty), addr)


def update(lw: Lowering, target: A.Expr, op: str, value: A.Expr) -> None:
    """``target op= value``, the target's address evaluated once."""
    arith = expressions.arith
    ty = target.ty
    assert isinstance(ty, IntType)
    r = target.resolved
    if isinstance(r, ContextField):
        old = context.ctx_load(lw, lw.expr(target.value), r.field)
        new = arith(lw, op, old, lw.expr(value), ty, value.ty)
        context.ctx_store(lw, lw.expr(target.value), r.field, new)
        return
    if isinstance(r, (OptvalByte, ContextArrayElement)):
        old = lw.expr(target)
        new = arith(lw, op, old, lw.expr(value), ty, value.ty)
        store_value(lw, target, new)
        return
    addr = address(lw, target)
    if isinstance(addr, tuple):
        ptr, ok = addr
        lw.guarded(ok, lambda: lw.mem_store(
            arith(lw, op, lw.builder.load(ptr, typ=mem_type(ty)), lw.expr(value), ty,
                  value.ty), ptr))
        return
    old = lw.from_memory(lw.builder.load(addr, typ=mem_type(ty)), ty)
    lw.mem_store(lw.to_memory(arith(lw, op, old, lw.expr(value), ty, value.ty), ty), addr)


def initialise(lw: Lowering, target: A.Expr, value: A.Expr) -> None:
    """Give a struct or array variable its initial value."""
    addr = address(lw, target)
    assert not isinstance(addr, tuple)
    r = target.resolved
    assert lw.frame is not None
    planned = lw.frame.locals.get(id(r.var)) if isinstance(r, LocalVariable) else None
    lw.zero(addr, planned.ty if planned is not None else target.ty)
    init = value.resolved
    if isinstance(init, ParseNumber):
        calls.parse_number(lw, value, addr)
        return
    if isinstance(init, BytesInit):
        if init.data is not None:
            for i, b in enumerate(init.data):
                if b:
                    lw.mem_store(ir.Constant(I8, b), lw.offset(addr, i))
        return
    if isinstance(init, ListInit):
        ty = target.ty
        assert isinstance(ty, ArrayType)
        for r_ in range(init.repeat):
            for i, e in enumerate(init.elements):
                if e.const is not None and not e.const:
                    continue
                slot = lw.offset(addr, (r_ * len(init.elements) + i) * ty.elem.size)
                lw.mem_store(lw.to_memory(lw.expr(e), ty.elem), slot)
