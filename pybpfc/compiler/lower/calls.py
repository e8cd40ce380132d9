"""Lowering calls: kernel helpers (called directly or as map methods),
functions of the program, conversions and pybpfc's builtins."""
from __future__ import annotations

from typing import Optional

import llvmlite.ir as ir

from ... import abi
from .. import ast as A
from ..contract import (AtomicAdd, ByteSwap, Conversion, HelperCall, HistogramAdd,
                        LocalVariable, MapMethodCall, MinMax, Print, UserCall)
from ..types import BOOL, NONE, PARSED_TYPES, IntType, StructType, is_aggregate, int_type
from . import memory
from .module import emit_record_type
from .state import I32, I64, PTR, Lowering, expression

EINVAL = 22


@expression(HelperCall)
def lower_helper_call(lw: Lowering, e: A.Call) -> ir.Value:
    """A call of a kernel helper a program calls as a function."""
    helper = e.resolved.helper
    args = e.args
    values: list[ir.Value] = []
    # A variable length of 0 for a buffer: the kernel refuses an empty
    # buffer, so the call is skipped and gives -EINVAL.
    nonzero: Optional[ir.Value] = None
    for arg, kind in zip(args, helper.params):
        if kind == "ctx_or_null" and arg.ty is NONE:
            values.append(ir.Constant(PTR, None))
        elif kind in ("ctx", "ctx_or_null", "sock"):
            values.append(lw.expr(arg))
        elif kind in abi.MAP_PARAMS:
            values.append(lw.maps[id(arg.symbol)])
        elif kind in ("buffer", "buffer_start"):
            values.append(memory.address_of(lw, arg))
            if kind == "buffer":
                values.append(ir.Constant(I64, arg.ty.size))
        else:
            value = lw.expr(arg)
            ty = arg.ty
            assert isinstance(ty, IntType)
            if values and helper.params[len(values) - 1] == "buffer_start":
                # A length between 1 and what the buffer holds (the verifier
                # checks both ends).
                buf = args[helper.params.index("buffer_start")].ty
                value = lw.extend(value, ty, 64)
                if arg.const is None:
                    nonzero = lw.builder.icmp_unsigned("!=", value, ir.Constant(I64, 0))
                    value = length_from_one(lw, value, buf.size)
                else:
                    limit = ir.Constant(I64, buf.size)
                    value = lw.builder.select(
                        lw.builder.icmp_unsigned("<", value, limit), value, limit)
            else:
                value = lw.extend(value, ty, 64)
            values.append(value)
    if nonzero is not None:
        return helper_result(lw, helper, lw.guarded_value(
            nonzero, lambda: call_helper(lw, helper, values), -EINVAL, "call"))
    return helper_result(lw, helper, call_helper(lw, helper, values))


def length_from_one(lw: Lowering, length: ir.Value, size: int) -> ir.Value:
    """min(length, size) for a length of at least 1, computed as
    min(length - 1, size - 1) + 1 on a copy LLVM cannot see through, so
    that the verifier finds it between 1 and ``size`` on every path.
    Clamping the length itself from both sides lets the verifier combine
    what it knows of the length's bits (``x << 14`` has its low bits
    clear) with a range on a path it cannot rule out (``1 < x < size``):
    the two contradict, and the length it tracks there collapses to 0."""
    one = ir.Constant(I64, 1)
    less = lw.opaque(lw.builder.sub(length, one))
    last = ir.Constant(I64, size - 1)
    less = lw.builder.select(lw.builder.icmp_unsigned("<", less, last), less, last)
    return lw.builder.add(less, one)


def helper_result(lw: Lowering, helper: abi.Helper, result: ir.Value) -> ir.Value:
    if helper.returns == "None":
        return ir.Constant(I32, 0)
    if result.type.is_pointer:
        return result
    bits = int_type(helper.returns).bits
    return result if bits == 64 else lw.builder.trunc(result, ir.IntType(bits))


def call_helper(lw: Lowering, helper: abi.Helper, values: list[ir.Value],
                read_only: frozenset[int] = frozenset()) -> ir.Value:
    """BPF calls helpers by number, which LLVM spells as a call through
    the number cast to a function pointer.  Integers travel as 64 bits;
    a helper that returns a reference returns a pointer."""
    params = [v.type if v.type.is_pointer else I64 for v in values]
    values = [v if v.type.is_pointer else lw.extend_to64(v) for v in values]
    if helper.returns == "None":
        ret: ir.Type = ir.VoidType()
    else:
        # A reference, or a kernel pointer ("kernel:task_struct").
        ret = PTR if helper.returns == "ref" or ":" in helper.returns else I64
    fnty = ir.FunctionType(ret, params)
    callee = ir.Constant(I64, helper.func_id).inttoptr(fnty.as_pointer())
    callee.function_type = fnty     # what llvmlite's call() reads off a callee
    # ``read_only``: arguments the helper only reads and keeps no pointer
    # to (a map method's key, value or record).
    call = lw.builder.call(callee, values)
    for i in read_only:
        call.arg_attributes[i] = _ReadOnlyArgument(("readonly", "captures(none)"))
    return call


class _ReadOnlyArgument(ir.values.ArgumentAttributes):
    """Call-site argument attributes with ``readonly``, which LLVM knows
    and llvmlite's list of them lacks."""
    _known = {**ir.values.ArgumentAttributes._known, "readonly": False}


def parse_number(lw: Lowering, e: A.Call, result: ir.Value) -> None:
    """``parsed = strtoul(buf, offset, base)``: the helper reads the
    buffer from the offset on and writes the value into ``parsed``.  An
    offset past the end gives length -EINVAL without a call."""
    helper = e.resolved.helper
    buf, offset, base = e.args
    size = buf.ty.size
    start = memory.address_of(lw, buf)
    index_ty = offset.ty
    assert isinstance(index_ty, IntType)
    wide = lw.extend(lw.expr(offset), index_ty, 64)
    limit = ir.Constant(I64, size)
    inside = lw.builder.icmp_unsigned("<", wide, limit)
    flags = lw.extend_to64(lw.expr(base))
    # The call happens only when ``inside``; the offset is also clamped
    # where it is used, so the verifier sees it bounded there.
    safe = lw.builder.select(inside, wide, ir.Constant(I64, 0))
    value_field = PARSED_TYPES[helper.returns].field("value")
    assert value_field is not None

    def call() -> None:
        # The helper writes the value into a slot of its own, so the
        # variable itself never has its address taken and LLVM can keep
        # its fields in registers.
        # Not zeroed first: the verifier counts the slot written either
        # way, and kernels before 6.12 write it only when they parsed a
        # number, so the value is 0 unless the length says one was read
        # (LLVM folds that test into the one programs make anyway).
        parsed_value = lw.stack_slot(e, "parsed")
        length = call_helper(lw, helper, [
            lw.builder.gep(start, [safe], source_etype=ir.IntType(8)),
            lw.builder.sub(limit, safe), flags, parsed_value])
        lw.mem_store(length, result)
        parsed = lw.builder.icmp_signed(">", length, ir.Constant(length.type, 0))
        lw.mem_store(lw.builder.select(parsed, lw.builder.load(parsed_value, typ=I64),
                                       ir.Constant(I64, 0)),
                     lw.offset(result, value_field[2]))

    lw.mem_store(ir.Constant(I64, -EINVAL), result)
    lw.guarded(inside, call)


# ------------------------------------------------------------------ maps

@expression(MapMethodCall)
def lower_map_call(lw: Lowering, e: A.Call) -> ir.Value:
    """A map method: the kernel helper it stands for, with the map, keys
    and values passed by address."""
    call = e.resolved
    helper, args = call.helper, call.args
    values: list[ir.Value] = [lw.maps[id(call.map)]]
    if "sk" in args:
        values.append(lw.expr(args["sk"]))  # type: ignore[arg-type]
    if helper.name == "sk_storage_get":
        create = args["create"]
        values.append(ir.Constant(PTR, None))       # no initial value: zeroes
        values.append(ir.Constant(I64, 1 if create is not None and create.const else 0))
    if "key_by_value" in args:
        values.append(lw.extend_to64(lw.expr(args["key_by_value"])))  # type: ignore[arg-type]
    read_only = set()
    for name in ("key", "value", "record"):
        operand = args.get(name)
        if operand is not None:
            read_only.add(len(values))
            values.append(by_address(lw, e, operand, name))
            if name == "record":
                values.append(ir.Constant(I64, operand.ty.size))
                if isinstance(operand.ty, StructType):
                    emit_record_type(lw, call.map, operand.ty)
    if "flags" in args:
        flags = args["flags"]
        values.append(lw.extend_to64(lw.expr(flags)) if flags is not None
                      else ir.Constant(I64, 0))
    if helper.name == "get_local_storage":
        values.append(ir.Constant(I64, 0))
    result = call_helper(lw, helper, values, frozenset(read_only))
    lost = lw.lost_counters.get(id(call.map))
    if lost is not None:
        count_if_lost(lw, result, lost)
    return result if helper.returns == "ref" else helper_result(lw, helper, result)


def count_if_lost(lw: Lowering, result: ir.Value, counter: ir.GlobalVariable) -> None:
    """A ring buffer output that failed (no room: -EAGAIN) adds one to the
    map's hidden count, which the runtime reports."""
    ok = lw.builder.icmp_signed(">=", result, ir.Constant(result.type, 0))
    count_bb, end_bb = lw.new_block("lost"), lw.new_block("lost.end")
    # The usual way first, so it falls through (codegen's layout).
    lw.builder.cbranch(ok, end_bb, count_bb)
    lw.builder.position_at_end(count_bb)
    rmw = ir.instructions.AtomicRMW(lw.builder.block, "add", counter,
                                    ir.Constant(I64, 1), "monotonic", "")
    lw.builder._insert(rmw)
    lw.builder.branch(end_bb)
    lw.builder.position_at_end(end_bb)


@expression(HistogramAdd)
def lower_histogram_add(lw: Lowering, e: A.Call) -> ir.Value:
    """Count a value in its bucket: below 0 in bucket 0, 0 in bucket 1,
    and v > 0 in bucket 1 + bit_length(v), i.e. 65 - (leading zeros of v);
    the element is added to atomically, as other CPUs may count too."""
    call = e.resolved
    sample = call.args["sample"]
    ty = sample.ty
    assert isinstance(ty, IntType)
    value = lw.extend(lw.expr(sample), ty, 64)
    bucket = bit_length_plus_one(lw, value)
    if ty.signed:
        negative = lw.builder.icmp_signed("<", value, ir.Constant(I64, 0))
        bucket = lw.builder.select(negative, ir.Constant(I64, 0), bucket)
    slot = lw.stack_slot(e, "key")
    lw.mem_store(lw.builder.trunc(bucket, I32), slot)
    element = call_helper(lw, call.helper, [lw.maps[id(call.map)], slot])
    found = lw.builder.icmp_unsigned("!=", element, ir.Constant(PTR, None))

    def count() -> None:
        rmw = ir.instructions.AtomicRMW(lw.builder.block, "add", element,
                                        ir.Constant(I64, 1), "monotonic", "")
        lw.builder._insert(rmw)
    lw.guarded(found, count)
    return ir.Constant(I32, 0)      # a None the statement drops


def bit_length_plus_one(lw: Lowering, value: ir.Value) -> ir.Value:
    """1 + the number of bits ``value`` (64 bits, unsigned) needs, found
    by halving: BPF has no instruction that counts leading zeros, and
    LLVM's expansion of one (a population count of the smeared bits) is
    about 45 instructions where halving is about 30."""
    bits: ir.Value = ir.Constant(I64, 1)
    rest = value
    for step in (32, 16, 8, 4, 2, 1):
        # A branch of its own for each step: as selects, each step became
        # two branches.
        high = lw.builder.lshr(rest, ir.Constant(I64, step))
        before = lw.builder.block
        more, join = lw.new_block("bits.more"), lw.new_block("bits.next")
        lw.builder.cbranch(lw.builder.icmp_unsigned("!=", high, ir.Constant(I64, 0)), more, join)
        lw.builder.position_at_end(more)
        more_bits = lw.builder.add(bits, ir.Constant(I64, step))
        lw.builder.branch(join)
        lw.builder.position_at_end(join)
        rest_phi, bits_phi = lw.builder.phi(I64), lw.builder.phi(I64)
        rest_phi.add_incoming(rest, before)
        rest_phi.add_incoming(high, more)
        bits_phi.add_incoming(bits, before)
        bits_phi.add_incoming(more_bits, more)
        rest, bits = rest_phi, bits_phi
    return lw.builder.add(bits, rest)      # rest is 0 or 1 by now


def by_address(lw: Lowering, call: A.Call, operand: A.Expr, role: str) -> ir.Value:
    """The address of a key, value or record: a variable's own memory,
    or the call's planned stack slot the integer is stored into."""
    if is_aggregate(operand.ty):
        return memory.address_of(lw, operand)
    own = lw.slots.get(id(operand.resolved.var)) \
        if isinstance(operand.resolved, LocalVariable) else None
    if own is not None:
        # A variable's own storage, as clang passes &key: helpers only read
        # it (call_helper tells LLVM so), so a lookup and an update with
        # the same key store it once, where it is assigned.
        return own
    slot = lw.stack_slot(call, role)
    lw.mem_store(lw.to_memory(lw.expr(operand), operand.ty), slot)
    return slot


# --------------------------------------------------- the program's calls

@expression(UserCall)
def lower_user_call(lw: Lowering, e: A.Call) -> ir.Value:
    r = e.resolved
    args = [memory.address_of(lw, a) if by_ref else lw.expr(a)
            for a, by_ref in zip(e.args, r.by_address)]
    value = lw.builder.call(lw.functions[id(r.function)], args)
    return lw.from_memory(value, e.ty)     # a bool comes back as a byte (module.declare)


@expression(Conversion)
def lower_conversion(lw: Lowering, e: A.Call) -> ir.Value:
    arg = e.args[0]
    value = lw.expr(arg)
    if e.ty is BOOL:
        return value      # the checker made the argument a truth test
    assert isinstance(e.ty, IntType)
    return lw.convert(value, arg.ty, e.ty)


@expression(MinMax)
def lower_min_max(lw: Lowering, e: A.Call) -> ir.Value:
    a, b = (lw.expr(x) for x in e.args)
    ty = e.ty
    assert isinstance(ty, IntType)
    less = lw.compare("<", a, b, ty)
    return lw.builder.select(less, a, b) if e.resolved.smallest else \
        lw.builder.select(less, b, a)


@expression(ByteSwap)
def lower_byte_swap(lw: Lowering, e: A.Call) -> ir.Value:
    value = lw.expr(e.args[0])
    bswap = lw.module.declare_intrinsic("llvm.bswap", [value.type])
    return lw.builder.call(bswap, [value])


@expression(Print)
def lower_print(lw: Lowering, e: A.Call) -> ir.Value:
    fmt = e.resolved.format + b"\0"
    gv = lw.print_formats.get(fmt)
    if gv is None:
        ty = ir.ArrayType(ir.IntType(8), len(fmt))
        gv = ir.GlobalVariable(lw.module, ty, f".print.{len(lw.print_formats)}")
        gv.initializer = ir.Constant(ty, bytearray(fmt))
        gv.global_constant = True
        gv.linkage = "private"
        gv.section = ".rodata"
        gv.align = 1
        lw.print_formats[fmt] = gv
    values: list[ir.Value] = [gv, ir.Constant(I64, len(fmt))]
    for a in e.args:
        value = lw.expr(a)
        ty = a.ty
        values.append(lw.builder.zext(value, I64) if ty is BOOL
                      else lw.extend(value, ty, 64))  # type: ignore[arg-type]
    call_helper(lw, abi.HELPERS["trace_printk"], values)
    return ir.Constant(I32, 0)


@expression(AtomicAdd)
def lower_atomic_add(lw: Lowering, e: A.Call) -> ir.Value:
    target, amount = e.args
    addr = memory.address_of(lw, target)
    # An add whose old value is not used is monotonic: indivisible and no
    # more, which LLVM emits as BPF's plain atomic add (`lock +=`).  The
    # BPF backend emits that for every monotonic add, even one whose old
    # value is used (it then reads a register the add never set), so an
    # add whose value is used is seq_cst: the fetching atomic add.
    ordering = "seq_cst" if e.resolved.old_value_used else "monotonic"
    return atomic_add_at(lw, addr, lw.expr(amount), ordering)


def atomic_add_at(lw: Lowering, addr: ir.Value, amount: ir.Value,
                  ordering: str = "monotonic") -> ir.Value:
    rmw = ir.instructions.AtomicRMW(lw.builder.block, "add", addr, amount, ordering, "")
    lw.builder._insert(rmw)
    return rmw


def atomic_update(lw: Lowering, s: A.AugAssign) -> None:
    """``target += n`` on memory other CPUs write: BPF's atomic add (of
    ``-n`` for ``-=``), its old value unused."""
    addr = memory.address(lw, s.target)
    amount = lw.expr(s.value)
    if s.resolved.subtract:
        amount = lw.builder.neg(amount)
    if isinstance(addr, tuple):
        ptr, ok = addr
        lw.guarded(ok, lambda: atomic_add_at(lw, ptr, amount))
        return
    atomic_add_at(lw, addr, amount)
