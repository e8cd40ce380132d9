"""Lowering direct packet access: ``ctx.header(T, offset)`` and the fields
of the headers it gives.

The bounds check is the one the verifier follows and clang writes for
``if (data + offset + sizeof(T) > data_end)``: the header's end, computed
from the header's own address, compared with the packet's end.  The
header is that address or null, and LLVM is told the address itself is
never null, so ``if h is None`` becomes the bounds check's own branch.
The context's ``data`` and ``data_end`` are plain loads: LLVM reuses them
between headers, and reloads them after a call, which may move the packet.
"""
from __future__ import annotations

import llvmlite.ir as ir

from ... import abi
from .. import ast as A
from ..contract import PacketField, PacketHeader
from ..semantics import VARIABLE_PACKET_OFFSET_MASK as VARIABLE_OFFSET_MASK
from ..types import IntType
from .state import I1, I8, I32, I64, PTR, Lowering, expression


@expression(PacketHeader)
def lower_header(lw: Lowering, e: A.Call) -> ir.Value:
    r = e.resolved
    func = e.func
    assert isinstance(func, A.Attribute)
    ctx = lw.expr(func.value)
    data, end = packet_pointer(lw, ctx, r.start), packet_pointer(lw, ctx, r.end)
    offset = e.args[1]
    small = None
    if offset.const is not None:
        header = lw.offset(data, int(offset.const))
    else:
        ty = offset.ty
        assert isinstance(ty, IntType)
        wide = lw.extend(lw.expr(offset), ty, 64)
        if not r.bounded:
            # An offset the checker could not bound: tested, and masked on a
            # copy LLVM cannot see through, so the verifier finds it bounded.
            small = lw.builder.icmp_unsigned("<=", wide, ir.Constant(I64, VARIABLE_OFFSET_MASK))
            wide = lw.builder.and_(lw.opaque(wide), ir.Constant(I64, VARIABLE_OFFSET_MASK))
        else:
            # Opaque so that LLVM does not fold the header's size into the
            # offset: the verifier needs the end computed from the header's
            # own address to know that address is checked.
            wide = lw.opaque(wide)
        header = lw.builder.gep(data, [wide], source_etype=I8)
    header_end = lw.offset(header, r.size)
    fits = lw.builder.icmp_unsigned("<=", header_end, end)
    if small is not None:
        fits = lw.builder.and_(small, fits)
    assume_not_null(lw, header)
    return lw.builder.select(fits, header, ir.Constant(PTR, None))


def packet_pointer(lw: Lowering, ctx: ir.Value, f: abi.Field) -> ir.Value:
    """``ctx.data`` (or ``data_end``): a 32-bit field the verifier reads as
    a pointer into the packet, loaded at its exact width."""
    load = lw.builder.load(lw.offset(ctx, f.offset), typ=I32)
    load.align = 4
    return lw.builder.inttoptr(lw.builder.zext(load, I64), PTR)


def assume_not_null(lw: Lowering, pointer: ir.Value) -> None:
    """No address in the packet is null: tells LLVM, so that a header's
    None test is the bounds check alone."""
    assume = lw.module.globals.get("llvm.assume")
    if assume is None:
        assume = ir.Function(lw.module, ir.FunctionType(ir.VoidType(), [I1]), "llvm.assume")
    lw.builder.call(assume, [lw.builder.icmp_unsigned("!=", pointer, ir.Constant(PTR, None))])


def field_address(lw: Lowering, e: A.Attribute) -> ir.Value:
    """The address of ``ip.protocol``: the header's address plus the
    field's offset."""
    r = e.resolved
    assert isinstance(r, PacketField)
    return lw.offset(lw.expr(e.value), r.offset)
