"""Lowering statements: control flow, returns, and assignments (to the
program's memory, the context and the option buffer), including the
values structs and arrays start with."""
from __future__ import annotations

import llvmlite.ir as ir

from .. import ast as A
from ..contract import (AtomicUpdate, BytesInit, ContextArrayElement, ContextField, Docstring,
                        KernelBytesCopy, ListInit, LocalVariable, OptvalByte, ParseNumber, RangeLoop)
from ..codegen import VERDICT_METADATA
from ..types import U8, ArrayType, IntType, StructType
from . import calls, context, expressions, kstructs, memory
from .state import I8, I32, Lowering, mem_type, reg_type, statement


@statement(A.Pass, A.Global)
def lower_nothing(lw: Lowering, s: A.Stmt) -> None:
    pass


@statement(A.ExprStmt)
def lower_expr_statement(lw: Lowering, s: A.ExprStmt) -> None:
    if not isinstance(s.value.resolved, Docstring):
        lw.expr(s.value)


@statement(A.Return)
def lower_return(lw: Lowering, s: A.Return) -> None:
    fn = lw.fn
    assert fn is not None
    if s.value is None:
        lw.builder.ret_void()
        return
    value = lw.expr(s.value)
    if fn.hook is None:
        value = lw.to_memory(value, fn.ret)     # a bool as a byte (module.declare)
    else:
        if value.type != I32:
            value = lw.builder.zext(value, I32)
        only = {v for _, v in fn.hook.returns.values}
        if fn.hook.returns.kind == "verdict" and len(only) == 1:
            # The kernel loads the program only if it sees this one value.
            value = ir.Constant(I32, only.pop())
        elif fn.hook.returns.kind == "verdict" and not isinstance(value, ir.Constant):
            # A verdict is one of the table's values (0 or 1), which LLVM
            # may compute with wider arithmetic it knows stays in range
            # (`(v >> 15) & 1` became `v >> 15` for a v it knew was
            # 16-bit) where the verifier cannot follow.  The code generator
            # masks it after optimising, where it is still computed (a
            # mask here would keep LLVM from returning a constant on each
            # path).
            top = max(v for _, v in fn.hook.returns.values)
            assert top & (top + 1) == 0, "verdicts 0 .. 2**n - 1 can be masked"
            mask_verdict(lw, top)
    lw.builder.ret(value)


def mask_verdict(lw: Lowering, top: int) -> None:
    """Ask the code generator to mask the current function's computed
    verdicts to ``top`` (codegen.VERDICT_METADATA)."""
    name = lw.builder.function.name
    lw.module.add_named_metadata(VERDICT_METADATA, [name, ir.Constant(I32, top)])


@statement(A.Assign)
def lower_assign(lw: Lowering, s: A.Assign) -> None:
    if isinstance(s.resolved, KernelBytesCopy):
        kstructs.lower_bytes_copy(lw, s)
        return
    store(lw, s.target, s.value)


@statement(A.AnnAssign)
def lower_annassign(lw: Lowering, s: A.AnnAssign) -> None:
    if s.value is not None:
        store(lw, s.target, s.value)


@statement(A.AugAssign)
def lower_augassign(lw: Lowering, s: A.AugAssign) -> None:
    if isinstance(s.resolved, AtomicUpdate):
        calls.atomic_update(lw, s)
        return
    update(lw, s.target, s.op, s.value)


@statement(A.If)
def lower_if(lw: Lowering, s: A.If) -> None:
    if s.test.const is not None:
        # A constant condition: lower only the branch that can run.
        lw.block(s.body if s.test.const else s.orelse)
        return
    then_bb, else_bb, end_bb = lw.new_block("if.then"), lw.new_block("if.else"), \
        lw.new_block("if.end")
    lw.builder.cbranch(lw.expr(s.test), then_bb, else_bb)
    for bb, stmts in ((then_bb, s.body), (else_bb, s.orelse)):
        lw.builder.position_at_end(bb)
        with lw.conditional():
            lw.block(stmts)
        if not lw.builder.block.is_terminated:
            lw.builder.branch(end_bb)
    lw.builder.position_at_end(end_bb)


@statement(A.While)
def lower_while(lw: Lowering, s: A.While) -> None:
    cond_bb, body_bb, end_bb = lw.new_block("while.cond"), lw.new_block("while.body"), \
        lw.new_block("while.end")
    lw.builder.branch(cond_bb)
    lw.builder.position_at_end(cond_bb)
    with lw.at(s.test):
        lw.builder.cbranch(lw.expr(s.test), body_bb, end_bb)
    lw.builder.position_at_end(body_bb)
    loop_body(lw, s.body, cond_bb, end_bb)
    lw.builder.position_at_end(end_bb)


def loop_body(lw: Lowering, body: list[A.Stmt], next_bb: ir.Block, end_bb: ir.Block) -> None:
    """A loop's body, where `continue` goes to ``next_bb`` and `break` to
    ``end_bb``; it ends by going to ``next_bb``."""
    lw.loops.append((next_bb, end_bb))
    with lw.conditional():
        lw.block(body)
    lw.loops.pop()
    if not lw.builder.block.is_terminated:
        lw.builder.branch(next_bb)


@statement(A.For)
def lower_for(lw: Lowering, s: A.For) -> None:
    """``for i in range(start, stop, step)``.  A hidden counter drives
    the loop, so assigning ``i`` in the body does not change the
    iteration (as in Python), and the counter never wraps past ``stop``."""
    it = s.iter
    loop = it.resolved
    assert isinstance(loop, RangeLoop)
    ty, step = loop.ty, loop.step
    args = [lw.expr(a) for a in it.args]  # type: ignore[attr-defined]
    if len(args) == 1:
        start, stop = ir.Constant(reg_type(ty), 0), args[0]
    else:
        start, stop = args[0], args[1]
    counter = lw.stack_slot(s, "range")
    lw.mem_store(start, counter)
    target = memory.address(lw, s.target)
    assert not isinstance(target, tuple)
    cond_bb, body_bb, step_bb, end_bb = (lw.new_block("for.cond"), lw.new_block("for.body"),
                                         lw.new_block("for.step"), lw.new_block("for.end"))
    lw.builder.branch(cond_bb)
    lw.builder.position_at_end(cond_bb)
    cur = lw.builder.load(counter)
    if loop.to_the_end:
        # i < len(ctx.optval) is the test of the byte at i: one branch a
        # round, which LLVM makes the loop's latch.
        assert loop.window is not None
        cursor, going = context.window_cursor(lw, loop.window, lw.extend(cur, ty, 64))
        lw.loop_cursors[id(s)] = cursor
        lw.builder.cbranch(going, body_bb, end_bb)
        lw.builder.position_at_end(body_bb)
    else:
        going = lw.compare("<" if step > 0 else ">", cur, stop, ty)
        lw.builder.cbranch(going, body_bb, end_bb)
        lw.builder.position_at_end(body_bb)
        if loop.window is not None:
            lw.loop_cursors[id(s)] = context.loop_cursor(lw, loop.window,
                                                         lw.extend(cur, ty, 64), end_bb)
    lw.mem_store(lw.to_memory(cur, ty), target)
    loop_body(lw, s.body, step_bb, end_bb)
    lw.builder.position_at_end(step_bb)
    cur = lw.builder.load(counter)
    magnitude = ir.Constant(reg_type(ty), abs(step))
    if abs(step) == 1:
        nxt = (lw.builder.add if step > 0 else lw.builder.sub)(cur, magnitude)
        lw.mem_store(nxt, counter)
        lw.builder.branch(cond_bb)
    else:
        # Stop when fewer than |step| values remain, before the add can wrap.
        remaining = lw.builder.sub(stop, cur) if step > 0 else lw.builder.sub(cur, stop)
        more = lw.builder.icmp_unsigned(">", remaining, magnitude)
        nxt = (lw.builder.add if step > 0 else lw.builder.sub)(cur, magnitude)
        lw.mem_store(nxt, counter)
        lw.builder.cbranch(more, cond_bb, end_bb)
    lw.builder.position_at_end(end_bb)


@statement(A.Break)
def lower_break(lw: Lowering, s: A.Break) -> None:
    lw.builder.branch(lw.loops[-1][1])


@statement(A.Continue)
def lower_continue(lw: Lowering, s: A.Continue) -> None:
    lw.builder.branch(lw.loops[-1][0])


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
        context.window_byte_store(lw, r, target.index, value)
        return
    if isinstance(r, ContextArrayElement):
        context.ctx_store_at(lw, lw.expr(r.base), r.offset, r.field.size, value)
        return
    addr = memory.address(lw, target)
    ty = target.ty
    apart = lw.apart_from_context
    if isinstance(addr, tuple):
        ptr, ok = addr
        lw.guarded(ok, lambda: apart(lw.mem_store(lw.to_memory(value, ty), ptr)))
        return
    apart(lw.mem_store(lw.to_memory(value, ty), addr))


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
    addr = memory.address(lw, target)
    apart = lw.apart_from_context
    if isinstance(addr, tuple):
        ptr, ok = addr
        lw.guarded(ok, lambda: apart(lw.mem_store(
            arith(lw, op, apart(lw.builder.load(ptr, typ=mem_type(ty))), lw.expr(value), ty,
                  value.ty),
            ptr)))
        return
    old = lw.from_memory(apart(lw.builder.load(addr, typ=mem_type(ty))), ty)
    apart(lw.mem_store(lw.to_memory(arith(lw, op, old, lw.expr(value), ty, value.ty), ty), addr))


def initialise(lw: Lowering, target: A.Expr, value: A.Expr) -> None:
    """Give a struct or array variable its initial value."""
    addr = memory.address_of(lw, target)
    r = target.resolved
    assert lw.frame is not None
    planned = lw.frame.locals.get(id(r.var)) if isinstance(r, LocalVariable) else None
    if id(value) not in lw.frame.filled_first:
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
