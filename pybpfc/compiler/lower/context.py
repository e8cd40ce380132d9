"""Lowering the context and what is reached through it.

The verifier allows context and socket fields only at constant offsets and
often only at their exact width.  The context and socket pointers are
marked for LLVM's BPF backend as accessed at static offsets only, so no
optimisation merges two field loads into one from a computed address.
Stores, and loads of fields the hook may write or whose narrow reads the
verifier refuses, are volatile accesses of exactly the field's width;
reads that cannot change (``stable`` in the checker's record) are plain
loads, reused where an earlier one dominates.

The option buffer ``ctx.optval`` is reached between the pointers
``optval`` and ``optval_end``; every access is checked against the end in
the form the verifier tracks.
"""
from __future__ import annotations


import llvmlite.ir as ir

from ... import abi
from .. import ast as A
from ..contract import (ContextArrayElement, ContextDataLoc, ContextField, OptvalAccess,
                        OptvalByte, PacketLoad, SocketField, SocketPointer, WindowLength,
                        WindowLengthTest)
from ..types import U8, IntType, WindowType
from .state import I8, I32, I64, PTR, Lowering, VolatileLoad, VolatileStore, expression

# The key, among the context reads a stretch of code shares, of the copy of
# the window's start that bounds tests compute from (see check_base).
CHECK_BASE = -1

# The classic packet loads (LD_ABS/LD_IND), by width.
PACKET_LOAD_INTRINSICS = {8: "llvm.bpf.load.byte", 16: "llvm.bpf.load.half",
                          32: "llvm.bpf.load.word"}


@expression(ContextField, SocketField)
def lower_field(lw: Lowering, e: A.Attribute) -> ir.Value:
    """A field of the context, or of the socket behind ``ctx.sk``."""
    r = e.resolved
    if isinstance(r, ContextField) and r.whole is not None:
        whole = ctx_load(lw, lw.expr(e.value), r.whole, stable=True)
        shift = (r.field.offset - r.whole.offset) * 8
        if shift:
            whole = lw.builder.lshr(whole, ir.Constant(whole.type, shift))
        return lw.builder.trunc(whole, ir.IntType(r.field.size * 8))
    return ctx_load(lw, lw.expr(e.value), r.field, stable=r.stable)


@expression(ContextDataLoc)
def lower_data_loc(lw: Lowering, e: A.Attribute) -> ir.Value:
    """The event record's address plus the member's offset part: where
    the kernel put the data (a string, an array) inside the record."""
    ctx = lw.expr(e.value)
    loc = ctx_load_at(lw, ctx, e.resolved.field.offset, 4, I32, stable=True)
    offset = lw.builder.zext(lw.builder.and_(loc, ir.Constant(I32, 0xFFFF)), I64)
    return lw.builder.add(lw.builder.ptrtoint(ctx, I64), offset)


@expression(SocketPointer)
def lower_socket(lw: Lowering, e: A.Attribute) -> ir.Value:
    f = e.resolved.field
    return static_offsets(lw, ctx_load_at(lw, lw.expr(e.value), f.offset, 8, PTR, stable=True))


@expression(ContextArrayElement)
def lower_array_member(lw: Lowering, e: A.Subscript) -> ir.Value:
    r = e.resolved
    return ctx_load_at(lw, lw.expr(r.base), r.offset, r.field.size,
                       ir.IntType(r.field.size * 8), stable=r.stable)


@expression(PacketLoad)
def lower_packet_load(lw: Lowering, e: A.Call) -> ir.Value:
    """``skb.load_u16(offset)``: the classic packet load, which reads
    network byte order and gives the value in host order."""
    r = e.resolved
    intrinsic = PACKET_LOAD_INTRINSICS[r.ty.bits]
    fn = lw.module.globals.get(intrinsic)
    if fn is None:
        fn = ir.Function(lw.module, ir.FunctionType(I64, [PTR, I64]), intrinsic)
    offset = lw.extend_to64(lw.expr(e.args[0]))
    loaded = lw.builder.call(fn, [lw.expr(r.context), offset])
    # The load gives the bytes zero-extended: told so, LLVM does not mask
    # them again where the value is widened.
    lw.builder.assume(lw.builder.icmp_unsigned("<", loaded, ir.Constant(I64, 1 << r.ty.bits)))
    return lw.builder.trunc(loaded, ir.IntType(r.ty.bits))


def static_offsets(lw: Lowering, pointer: ir.Value) -> ir.Value:
    """``pointer`` marked for LLVM's BPF backend as one that is only ever
    accessed at constant offsets (a context or a socket): until
    instruction selection its loads and stores are kept whole, so no
    optimisation turns two field loads into one load from a computed
    address, which the verifier refuses."""
    marker = lw.module.globals.get("llvm.preserve.static.offset")
    if marker is None:
        marker = ir.Function(lw.module, ir.FunctionType(PTR, [PTR]),
                             "llvm.preserve.static.offset")
    return lw.builder.call(marker, [pointer])


def ctx_load(lw: Lowering, base: ir.Value, f: abi.Field, stable: bool = False) -> ir.Value:
    return ctx_load_at(lw, base, f.offset, f.size, ir.IntType(f.size * 8), stable)


def ctx_load_at(lw: Lowering, base: ir.Value, offset: int, size: int, ty: ir.Type,
                stable: bool = False) -> ir.Value:
    """A context read.  Volatile by default, so LLVM keeps its exact
    width (the verifier refuses others); a ``stable`` read (a pointer, or
    a field no one writes while the hook runs that may be read narrower)
    is a plain load that LLVM may reuse."""
    key = (id(base), offset, size)
    if stable:
        for known in reversed(lw.stable_reads):
            if key in known:
                return known[key]
    ptr = lw.offset(base, offset)
    if stable:
        instr: ir.LoadInstr = lw.builder.load(ptr, typ=ty)
        instr.align = size
        # It cannot change while the hook runs, even across a helper call
        # or an atomic operation, which LLVM must otherwise assume do.
        instr.set_metadata("invariant.load", lw.module.add_metadata([]))
        lw.in_context(instr)
        value = kept_apart(lw, instr)
        lw.stable_reads[-1][key] = value
        return value
    volatile = VolatileLoad(lw.builder.block, ptr, typ=ty)
    lw.builder._insert(volatile)
    volatile.align = size
    lw.in_context(volatile)
    return volatile


def kept_apart(lw: Lowering, loaded: ir.Instruction) -> ir.Value:
    """``loaded``, passed through LLVM's BPF ``passthrough`` intrinsic (a
    copy the backend removes before instruction selection), so that no
    optimisation merges this load with one on another branch into a single
    load from a pointer chosen at run time: the verifier refuses an
    instruction that reads a context or socket on one path and other
    memory on another ("same insn cannot be used with different
    pointers").  Each call site gets its own sequence number, so the
    copies cannot be merged either."""
    ty = loaded.type
    suffix = "p0" if isinstance(ty, ir.PointerType) else str(ty)
    name = f"llvm.bpf.passthrough.{suffix}.{suffix}"
    fn = lw.module.globals.get(name)
    if fn is None:
        fn = ir.Function(lw.module, ir.FunctionType(ty, [I32, ty]), name)
    lw.passthroughs += 1
    return lw.builder.call(fn, [ir.Constant(I32, lw.passthroughs), loaded])


def ctx_store(lw: Lowering, base: ir.Value, f: abi.Field, value: ir.Value) -> None:
    ctx_store_at(lw, base, f.offset, f.size, value)


def ctx_store_at(lw: Lowering, base: ir.Value, offset: int, size: int, value: ir.Value) -> None:
    instr = VolatileStore(lw.builder.block, value, lw.offset(base, offset))
    instr.align = size
    lw.in_context(instr)
    lw.builder._insert(instr)


# ------------------------------------------------------------ optval window

@expression(OptvalByte)
def lower_window_byte(lw: Lowering, e: A.Subscript) -> ir.Value:
    r = e.resolved
    if r.within is not None:
        loaded = VolatileLoad(lw.builder.block, lw.loop_cursors[id(r.within)], typ=I8)
        lw.builder._insert(loaded)
        return loaded
    return window_load(lw, r.window, e.index, U8, r.inside)


def window_byte_store(lw: Lowering, r: OptvalByte, index: A.Expr, value: ir.Value) -> None:
    if r.within is not None:
        lw.mem_store(value, lw.loop_cursors[id(r.within)])
        return
    window_store(lw, r.window, index, value, U8, r.inside)


def window_cursor(lw: Lowering, w: WindowType, index: ir.Value) -> tuple[ir.Value, ir.Value]:
    """The address of the byte at ``index`` and whether it is inside."""
    assert lw.ctx is not None
    start, end = window_bounds(lw, lw.ctx, w)
    return window_at(lw, start, end, index, 1)


def loop_cursor(lw: Lowering, w: WindowType, index: ir.Value, leave: ir.Block) -> ir.Value:
    """The address of the byte at ``index``, the variable of a loop over the
    window, tested once as part of the loop's test: a failure (which cannot
    happen) leaves the loop.  Every access of that byte in the body goes
    through this address, which the verifier knows is inside, so the body
    makes no test of its own, and the verifier, which follows each round
    of the loop, keeps no path per access to come back to."""
    ptr, ok = window_cursor(lw, w, index)
    go_on = lw.new_block("for.inside")
    lw.builder.cbranch(ok, go_on, leave)
    lw.builder.position_at_end(go_on)
    return ptr


@expression(OptvalAccess)
def lower_window_access(lw: Lowering, e: A.Call) -> ir.Value:
    r = e.resolved
    if r.write:
        window_store(lw, r.window, e.args[0], lw.expr(e.args[1]), r.ty, known_inside=r.inside)
        return ir.Constant(I32, 0)
    return window_load(lw, r.window, e.args[0], r.ty, known_inside=r.inside)


@expression(WindowLength)
def lower_window_length(lw: Lowering, e: A.Call) -> ir.Value:
    r = e.resolved
    start, end = window_bounds(lw, lw.expr(r.context), r.window)
    diff = lw.builder.sub(lw.builder.ptrtoint(end, I64), lw.builder.ptrtoint(start, I64))
    # Narrowed later, LLVM would subtract the pointers in 32 bits,
    # which the verifier refuses: the difference is taken whole first.
    # The verifier knows nothing of a difference of pointers: capped at a
    # page, the most the window holds, the length bounds a loop over it.
    diff = lw.opaque(diff)
    page = ir.Constant(I64, abi.PAGE_SIZE)
    capped = lw.builder.select(lw.builder.icmp_unsigned("<", diff, page), diff, page)
    return lw.builder.trunc(lw.opaque(capped), I32)


@expression(WindowLengthTest)
def lower_window_length_test(lw: Lowering, e: A.Compare) -> ir.Value:
    """``len(ctx.optval) >= N`` as the pointer comparison ``start + N <=
    end``: the form the verifier tracks, and the same test an access of the
    window makes (from the same base), so LLVM can share the two."""
    r = e.resolved
    start, end = window_bounds(lw, lw.expr(r.context), r.window)
    fits = lw.builder.icmp_unsigned("<=", lw.offset(check_base(lw, start), r.need), end)
    return lw.builder.not_(fits) if r.fits_is_false else fits


def window_bounds(lw: Lowering, ctx: ir.Value, w: WindowType) -> tuple[ir.Value, ir.Value]:
    start = ctx_load_at(lw, ctx, w.start.offset, 8, PTR, stable=True)
    end = ctx_load_at(lw, ctx, w.end.offset, 8, PTR, stable=True)
    return start, end


def check_base(lw: Lowering, start: ir.Value) -> ir.Value:
    """The window's start, as the tests of constant offsets compute their
    end pointers from it: the same register for the verifier, which
    learns from each test how far the start may be read, but another value
    for LLVM.  Were the end pointer of one test (start + 1) also the
    address of the next byte, LLVM could reach that byte through it on
    the path where that test failed, where the verifier knows the
    pointer lies past the end (and refuses the access).  One copy per
    stretch of code, so LLVM still merges tests that repeat."""
    key = (id(start), CHECK_BASE, 0)
    for known in reversed(lw.stable_reads):
        if key in known:
            return known[key]
    base = lw.opaque(start)
    lw.stable_reads[-1][key] = base
    return base


def window_access(lw: Lowering, w: WindowType, index: A.Expr, size: int,
                  known_inside: bool = False) -> tuple[ir.Value, Optional[ir.Value]]:
    """The address of ``size`` bytes at ``index`` in the window, and
    whether they lie inside it (None: a length test on every path here
    found them inside, and the verifier learned it from that test).  The
    comparison is written the way the verifier tracks packet bounds:
    (start + offset + size) <= end."""
    assert lw.ctx is not None
    start, end = window_bounds(lw, lw.ctx, w)
    if known_inside:
        assert index.const is not None
        return lw.offset(start, index.const), None
    if index.const is not None:
        ptr = lw.offset(start, index.const)
        last = lw.offset(check_base(lw, start), index.const + size)
        return ptr, lw.builder.icmp_unsigned("<=", last, end)
    index_ty = index.ty
    assert isinstance(index_ty, IntType)
    return window_at(lw, start, end, lw.extend(lw.expr(index), index_ty, 64), size)


def window_at(lw: Lowering, start: ir.Value, end: ir.Value, wide: ir.Value,
              size: int) -> tuple[ir.Value, ir.Value]:
    """``window_access`` at a 64-bit index known only when the hook runs."""
    # The verifier needs the variable offset bounded: the window is at most a
    # page, so mask to a page after an opaque copy (which LLVM cannot see through).
    small = lw.builder.icmp_unsigned("<", wide, ir.Constant(I64, abi.PAGE_SIZE))
    masked = lw.builder.and_(lw.opaque(wide), ir.Constant(I64, abi.PAGE_SIZE - 1))
    ptr = lw.builder.gep(start, [masked], source_etype=I8)
    last = lw.offset(ptr, size)
    inside = lw.builder.icmp_unsigned("<=", last, end)
    return ptr, lw.builder.and_(small, inside)


def window_align(index: A.Expr, ty: IntType) -> int:
    """The kernel's option buffer starts aligned, so an access at a
    constant multiple of its width is aligned; anything else may not be
    (and LLVM then splits it into byte accesses)."""
    if index.const is not None and index.const % ty.size == 0:
        return ty.size
    return 1


def window_load(lw: Lowering, w: WindowType, index: A.Expr, ty: IntType,
                known_inside: bool = False) -> ir.Value:
    ptr, ok = window_access(lw, w, index, ty.size, known_inside)

    def load() -> ir.Value:
        loaded = VolatileLoad(lw.builder.block, ptr, typ=ir.IntType(ty.bits))
        lw.builder._insert(loaded)
        loaded.align = window_align(index, ty)
        return loaded
    if ok is None:
        return load()
    return lw.guarded_value(ok, load, 0, "inbounds")


def window_store(lw: Lowering, w: WindowType, index: A.Expr, value: ir.Value,
                 ty: IntType, known_inside: bool = False) -> None:
    ptr, ok = window_access(lw, w, index, ty.size, known_inside)

    def emit() -> None:
        store = lw.mem_store(value, ptr)
        store.align = window_align(index, ty)
    if ok is None:
        emit()
        return
    lw.guarded(ok, emit)
