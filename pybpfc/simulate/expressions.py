"""The interpreter's expressions: operators by node type, everything else
by the checker's record, each with the meaning the language gives it."""
from __future__ import annotations

from typing import Any

from ..compiler import ast as A
from ..compiler import contract as C
from ..compiler import semantics
from ..compiler.types import BOOL, IntType, RefType
from .context import SimulationError
from .helpers import MASK64
from .packets import redirect_map
from .interpreter import (PacketEnd, Run, call_helper, encode_operand, expression, window_load,
                          window_store)
from .memory import Place, decode_scalar, encode, load, store


# ------------------------------------------------------------- operators

@expression(A.Cast)
def cast(run: Run, e: A.Cast) -> Any:
    value = run.expr(e.value)
    src, dst = e.value.ty, e.ty
    if dst is BOOL:
        if isinstance(src, RefType):
            return value is not None
        return bool(value)
    assert isinstance(dst, IntType)
    return semantics.convert(int(value), dst)


@expression(A.UnaryOp)
def unary(run: Run, e: A.UnaryOp) -> Any:
    value = run.expr(e.operand)
    if e.op == "not":
        return not value
    assert isinstance(e.ty, IntType)
    return semantics.unary(e.op, value, e.ty)


@expression(A.BinOp)
def binary(run: Run, e: A.BinOp) -> Any:
    assert isinstance(e.ty, IntType)
    return semantics.binary(e.op, run.expr(e.left), run.expr(e.right), e.ty)


@expression(A.Compare)
def compare(run: Run, e: A.Compare) -> bool:
    left = run.expr(e.operands[0])
    for op, operand in zip(e.ops, e.operands[1:]):
        right = run.expr(operand)
        if not semantics.compare(op, left, right):
            return False
        left = right
    return True


@expression(A.BoolOp)
def bool_op(run: Run, e: A.BoolOp) -> bool:
    stop = e.op == "or"
    value = False
    for v in e.values:
        value = bool(run.expr(v))
        if value == stop:
            return value
    return value


@expression(A.IfExp)
def if_exp(run: Run, e: A.IfExp) -> Any:
    return run.expr(e.body) if run.expr(e.test) else run.expr(e.orelse)


# ------------------------------------------------------ program memory

@expression(C.NamedConstant)
def named_constant(run: Run, e: A.Name) -> Any:
    return e.resolved.value


@expression(C.ContextArgument)
def context_argument(run: Run, e: A.Name) -> Any:
    return run.local(e.resolved.var)


@expression(C.LocalVariable)
def local_variable(run: Run, e: A.Name) -> Any:
    return run.local(e.resolved.var)


@expression(C.GlobalVariable, C.StructField, C.RefValue, C.ArrayElement, C.PacketField)
def in_memory(run: Run, e: A.Expr) -> Any:
    return run.read(e)


@expression(C.NoneTest)
def none_test(run: Run, e: A.Compare) -> bool:
    r = e.resolved
    return (run.expr(r.ref) is None) == r.is_none


@expression(C.BufferEquals)
def buffer_equals(run: Run, e: A.Compare) -> bool:
    r = e.resolved
    same = _starts_with(run, r.buffer, r.data)
    return not same if r.negate else same


@expression(C.StartsWith)
def starts_with(run: Run, e: A.Call) -> bool:
    r = e.resolved
    return _starts_with(run, r.buffer, r.prefix)


def _starts_with(run: Run, buffer: A.Expr, prefix: bytes) -> bool:
    place = run.address(buffer)
    assert place is not None
    return place.read(len(prefix)) == prefix


# ------------------------------------------------------- kernel memory

@expression(C.ContextField, C.SocketField)
def context_field(run: Run, e: A.Attribute) -> int:
    f = e.resolved.field
    return load(run.expr(e.value).at(f.offset), e.ty)


@expression(C.SocketPointer)
def socket_pointer(run: Run, e: A.Attribute) -> Place:
    return run.event.sock


@expression(C.ContextArrayElement)
def context_array_element(run: Run, e: A.Subscript) -> int:
    r = e.resolved
    return load(run.expr(r.base).at(r.offset), e.ty)


@expression(C.OptvalByte)
def window_byte(run: Run, e: A.Subscript) -> int:
    return window_load(run, e.index, e.ty)


@expression(C.OptvalAccess)
def window_access(run: Run, e: A.Call) -> int:
    r = e.resolved
    if r.write:
        window_store(run, e.args[0], run.expr(e.args[1]), r.ty)
        return 0
    return window_load(run, e.args[0], r.ty)


@expression(C.WindowLength)
def window_length(run: Run, e: A.Call) -> int:
    return semantics.wrap(len(run.event.window or b""), e.ty)


@expression(C.WindowLengthTest)
def window_length_test(run: Run, e: A.Compare) -> bool:
    r = e.resolved
    fits = r.need <= len(run.event.window or b"")
    return not fits if r.fits_is_false else fits


@expression(C.PacketLoad)
def packet_load(run: Run, e: A.Call) -> int:
    """The classic packet load: network byte order; outside the packet the
    program ends, returning 0."""
    r = e.resolved
    offset = run.expr(e.args[0]) & MASK64
    packet = run.event.packet
    if offset + r.ty.size > len(packet):
        raise PacketEnd()
    return int.from_bytes(packet[offset:offset + r.ty.size], "big")


# ----------------------------------------------------------------- calls

@expression(C.HelperCall)
def helper_call(run: Run, e: A.Call) -> int:
    return call_helper(run, e, e.resolved.helper)


@expression(C.MapMethodCall)
def map_method(run: Run, e: A.Call) -> Any:
    call = e.resolved
    sim = run.state.maps[call.map.name]
    args = call.args
    name = call.helper.name
    cpu = run.fakes.cpu
    if "sk" in args:
        run.expr(args["sk"])
    if name == "sk_storage_get":
        create = args.get("create")
        return sim.storage(run.event.socket, create is not None and bool(create.const))
    if name == "sk_storage_delete":
        return sim.delete_storage(run.event.socket)
    if name == "get_local_storage":
        return sim.storage(run.fakes.cgroup_id, create=True)
    operands = {role: encode_operand(run, args[role]) for role in ("key", "value", "record")
                if args.get(role) is not None}
    flags_expr = args.get("flags")
    flags = run.expr(flags_expr) & MASK64 if flags_expr is not None else 0
    if name == "map_lookup_elem":
        return sim.lookup(operands["key"], cpu)
    if name == "map_update_elem":
        return sim.update(operands["key"], operands["value"], flags, cpu)
    if name == "map_delete_elem":
        return sim.delete(operands["key"])
    if name == "ringbuf_output":
        return sim.output(operands["record"], flags)
    if name == "redirect_map":
        return redirect_map(run, e, sim, run.expr(args["key_by_value"]) & 0xFFFFFFFF, flags)
    raise SimulationError(f"line {e.pos.line}: {call.map.name}.{call.method}() "
                          f"({name}) is not simulated yet; run the program in the kernel")


@expression(C.UserCall)
def user_call(run: Run, e: A.Call) -> Any:
    r = e.resolved
    args = [run.address(a) if by_ref else run.expr(a) for a, by_ref in zip(e.args, r.by_address)]
    return run.call(r.function, args)


@expression(C.Conversion)
def conversion(run: Run, e: A.Call) -> Any:
    value = run.expr(e.args[0])
    if e.ty is BOOL:
        return bool(value)
    return semantics.convert(int(value), e.ty)


@expression(C.MinMax)
def min_max(run: Run, e: A.Call) -> int:
    a, b = (run.expr(x) for x in e.args)
    return min(a, b) if e.resolved.smallest else max(a, b)


@expression(C.ByteSwap)
def byte_swap(run: Run, e: A.Call) -> int:
    ty = e.resolved.ty
    return decode_scalar(encode(run.expr(e.args[0]), ty)[::-1], ty)


@expression(C.AtomicAdd)
def atomic_add(run: Run, e: A.Call) -> int:
    target, amount = e.args
    place = run.address(target)
    assert place is not None and isinstance(target.ty, IntType)
    # The amount first: a call in it may change the target, and the add
    # reads the target as it is when it happens.
    added = run.expr(amount)
    old = load(place, target.ty)
    new = semantics.binary("+", old, added, target.ty)
    store(place, new, target.ty)
    run.produced(run.trace.text(target) if run.trace is not None else "", new)
    return old


@expression(C.Print)
def print_call(run: Run, e: A.Call) -> int:
    values = [int(run.expr(a)) for a in e.args]
    run.printed.append(render_format(e.resolved.format, values))
    if run.trace is not None:
        run.trace.note("printed: " + run.printed[-1])
    return 0


def render_format(fmt: bytes, values: list[int]) -> str:
    """trace_printk's line for the checker's format (``%llu``, ``%lld``,
    ``%d`` and ``%%`` only)."""
    out, at, rest = [], 0, iter(values)
    text = fmt.decode(errors="replace")
    while at < len(text):
        if text.startswith("%%", at):
            out.append("%")
            at += 2
        elif text.startswith(("%llu", "%lld"), at):
            out.append(str(next(rest)))
            at += 4
        elif text.startswith("%d", at):
            out.append(str(next(rest)))
            at += 2
        else:
            out.append(text[at])
            at += 1
    return "".join(out).rstrip("\n")

