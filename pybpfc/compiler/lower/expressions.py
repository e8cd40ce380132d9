"""Lowering operators: casts, arithmetic, comparisons, ``and``/``or`` and
conditional expressions, with the meaning pybpfc.compiler.semantics
defines."""
from __future__ import annotations

from typing import Callable, Optional

import llvmlite.ir as ir

from .. import ast as A
from ..contract import NoneTest, OneOf
from ..types import BOOL, IntType, RefType, Type
from .state import I1, PTR, Lowering, expression


@expression(A.Cast)
def lower_cast(lw: Lowering, e: A.Cast) -> ir.Value:
    inner = e.value
    value = lw.expr(inner)
    src, dst = inner.ty, e.ty
    if dst is BOOL:
        if src is BOOL:
            return value
        if isinstance(src, RefType):
            return lw.builder.icmp_unsigned("!=", value, ir.Constant(PTR, None))
        return lw.builder.icmp_unsigned("!=", value, ir.Constant(value.type, 0))
    assert isinstance(dst, IntType)
    return lw.convert(value, src, dst)


@expression(OneOf)
def lower_one_of(lw: Lowering, e: A.Compare) -> ir.Value:
    value = lw.expr(e.operands[0])
    found: ir.Value = ir.Constant(I1, 0)
    for v in e.resolved.values:
        found = lw.builder.or_(found, lw.builder.icmp_unsigned(
            "==", value, ir.Constant(value.type, v)))
    return lw.builder.not_(found) if e.resolved.negate else found


@expression(A.UnaryOp)
def lower_unary(lw: Lowering, e: A.UnaryOp) -> ir.Value:
    value = lw.expr(e.operand)
    if e.op in ("not", "~"):
        return lw.builder.not_(value)
    if e.op == "-":
        return lw.builder.neg(value)
    return value


@expression(A.BinOp)
def lower_binop(lw: Lowering, e: A.BinOp) -> ir.Value:
    assert isinstance(e.ty, IntType)
    return arith(lw, e.op, lw.expr(e.left), lw.expr(e.right), e.ty, right_ty=e.right.ty)


def arith(lw: Lowering, op: str, a: ir.Value, b: ir.Value, ty: IntType,
          right_ty: Optional[Type] = None) -> ir.Value:
    """``a op b`` with the semantics of pybpfc.compiler.semantics."""
    bld = lw.builder
    if op in ("<<", ">>"):
        count_ty = right_ty if isinstance(right_ty, IntType) else ty
        if b.type != a.type:
            b = bld.trunc(b, a.type) if count_ty.bits > ty.bits else bld.zext(b, a.type)
        b = bld.and_(b, ir.Constant(a.type, ty.bits - 1))
        if op == "<<":
            return bld.shl(a, b)
        return bld.ashr(a, b) if ty.signed else bld.lshr(a, b)
    simple = {"+": bld.add, "-": bld.sub, "*": bld.mul, "&": bld.and_, "|": bld.or_,
              "^": bld.xor}
    if op in simple:
        return simple[op](a, b)
    if op == "//":
        return floordiv(lw, a, b, ty)
    assert op == "%", op
    return bld.sub(a, bld.mul(floordiv(lw, a, b, ty), b))


def floordiv(lw: Lowering, a: ir.Value, b: ir.Value, ty: IntType) -> ir.Value:
    """Python's floor division; 0 when dividing by zero.  Signed
    division is done on magnitudes with unsigned instructions, which
    every BPF CPU version has."""
    bld = lw.builder
    zero = ir.Constant(a.type, 0)
    one = ir.Constant(a.type, 1)
    by_zero = bld.icmp_unsigned("==", b, zero)
    divisor = bld.select(by_zero, one, b)
    if not ty.signed:
        return bld.select(by_zero, zero, bld.udiv(a, divisor))
    a_neg = bld.icmp_signed("<", a, zero)
    b_neg = bld.icmp_signed("<", divisor, zero)
    ua = bld.select(a_neg, bld.neg(a), a)
    ub = bld.select(b_neg, bld.neg(divisor), divisor)
    uq = bld.udiv(ua, ub)
    ur = bld.sub(ua, bld.mul(uq, ub))
    # Opposite signs round toward minus infinity: -(uq + (remainder != 0)).
    opposite = bld.xor(a_neg, b_neg)
    rounded = bld.neg(bld.add(uq, bld.zext(bld.icmp_unsigned("!=", ur, zero), a.type)))
    q = bld.select(opposite, rounded, uq)
    return bld.select(by_zero, zero, q)


# ----------------------------------------------------------- comparisons

@expression(A.Compare)
def lower_compare(lw: Lowering, e: A.Compare) -> ir.Value:
    """``a < b < c``: each operand evaluated once, short-circuiting."""
    left = lw.expr(e.operands[0])
    if len(e.ops) == 1:
        return lw.compare(e.ops[0], left, lw.expr(e.operands[1]), e.operands[0].ty)
    operands = iter(e.operands[1:])
    state = {"left": left}

    def step(i: int) -> ir.Value:
        right = lw.expr(next(operands))
        result = lw.compare(e.ops[i], state["left"], right, e.operands[i].ty)
        state["left"] = right
        return result
    return short_circuit(lw, len(e.ops), step, stop_when=False)


@expression(NoneTest)
def lower_none_test(lw: Lowering, e: A.Compare) -> ir.Value:
    r = e.resolved
    return lw.builder.icmp_unsigned("==" if r.is_none else "!=", lw.expr(r.ref),
                                    ir.Constant(PTR, None))


@expression(A.BoolOp)
def lower_boolop(lw: Lowering, e: A.BoolOp) -> ir.Value:
    return short_circuit(lw, len(e.values), lambda i: lw.expr(e.values[i]),
                         stop_when=e.op == "or")


def short_circuit(lw: Lowering, count: int, step: Callable[[int], ir.Value],
                  stop_when: bool) -> ir.Value:
    """Evaluate ``step(0) ... step(count - 1)`` in order, stopping at the
    first bool equal to ``stop_when``; the result is the last evaluated."""
    end_bb = lw.new_block("bool.end")
    incoming: list[tuple[ir.Value, ir.Block]] = []
    for i in range(count):
        if i == 0:
            value = step(i)
        else:
            with lw.conditional():
                value = step(i)
        if i == count - 1:
            incoming.append((value, lw.builder.block))
            lw.builder.branch(end_bb)
            break
        next_bb = lw.new_block("bool.next")
        incoming.append((ir.Constant(I1, int(stop_when)), lw.builder.block))
        if stop_when:
            lw.builder.cbranch(value, end_bb, next_bb)
        else:
            lw.builder.cbranch(value, next_bb, end_bb)
        lw.builder.position_at_end(next_bb)
    lw.builder.position_at_end(end_bb)
    phi = lw.builder.phi(I1)
    for value, block in incoming:
        phi.add_incoming(value, block)
    return phi


@expression(A.IfExp)
def lower_ifexp(lw: Lowering, e: A.IfExp) -> ir.Value:
    then_bb, else_bb, end_bb = lw.new_block("ifexp.then"), lw.new_block("ifexp.else"), \
        lw.new_block("ifexp.end")
    lw.builder.cbranch(lw.expr(e.test), then_bb, else_bb)
    lw.builder.position_at_end(then_bb)
    with lw.conditional():
        a = _unmerged(lw, lw.expr(e.body))
    a_bb = lw.builder.block
    lw.builder.branch(end_bb)
    lw.builder.position_at_end(else_bb)
    with lw.conditional():
        b = _unmerged(lw, lw.expr(e.orelse))
    b_bb = lw.builder.block
    lw.builder.branch(end_bb)
    lw.builder.position_at_end(end_bb)
    phi = lw.builder.phi(a.type)
    phi.add_incoming(a, a_bb)
    phi.add_incoming(b, b_bb)
    return phi


def _unmerged(lw: Lowering, value: ir.Value) -> ir.Value:
    """An arm's value read from memory, kept from LLVM's folding of the two
    arms' loads into one load of either address: reached with two kinds of
    pointer (a socket's, a global's), that load is refused by the verifier
    ("same insn cannot be used with different pointers")."""
    loaded = value.operands[0] if isinstance(value, ir.CastInstr) else value
    return lw.opaque(value) if isinstance(loaded, ir.LoadInstr) else value
