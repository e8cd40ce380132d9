"""Checking attribute accesses and subscripts: struct fields, list and
bytearray elements, map values through a reference, and the context and
what is reached through it, by the hook table's rules: which fields a hook
may read and write, the socket behind ``ctx.sk``, array members, the
option buffer ``ctx.optval`` and packet loads."""
from __future__ import annotations

from typing import Iterator, Optional

from ... import abi
from .. import ast as A
from ..contract import (ArrayElement, ContextArrayElement, ContextDataLoc, ContextField,
                        OptvalAccess,
                        OptvalByte, OptvalWindow, PacketLoad, RefValue, SocketField,
                        SocketPointer, StructField, NamedConstant)
from ..symbols import EnumSym, FuncSym, GlobalVar
from ..tracepoint_format import DATA_LOC
from ..types import (DEFAULT_INT, NONE, U8, U16, U32, U64, UNTYPED_INT, ArrayType, BytesLitType,
                     ContextType, CtxArrayType, IntType, KernelPtrType, RefType, SockRefType, StructType, Type,
                     WindowType, int_type, is_int, is_scalar)
from . import kstructs, narrowing, packet
from .expressions import coerce, uncast
from .state import Checker, arity, error, expression

# ``ctx.load_u8(offset)`` and friends: packet loads (socket filters).
PACKET_LOADS = {"load_u8": U8, "load_u16": U16, "load_u32": U32}

# What ``ctx.optval.<method>`` reads or writes: method -> (type, is_write).
WINDOW_METHODS = {
    "u16": (U16, False), "u32": (U32, False), "u64": (U64, False),
    "set_u16": (U16, True), "set_u32": (U32, True), "set_u64": (U64, True),
}


def memory_root(e: A.Expr) -> A.Expr:
    """The variable, or reference, whose memory a field or element is in."""
    while isinstance(e, (A.Attribute, A.Subscript)):
        if isinstance(e, A.Attribute) and isinstance(e.value.ty, RefType):
            return e.value
        e = e.value
    return e


def shared_memory(e: A.Expr) -> bool:
    """``e`` is in memory every CPU writes: a global, or a value of a map
    that is neither per-CPU nor a socket's own storage."""
    root = memory_root(e)
    if isinstance(root.ty, RefType):
        return root.ty.shared
    return isinstance(root, A.Name) and isinstance(root.symbol, GlobalVar)


def in_readonly_global(e: A.Expr) -> bool:
    root = memory_root(e)
    return (isinstance(root, A.Name) and isinstance(root.symbol, GlobalVar)
            and root.symbol.readonly)


def lvalue_path(e: A.Expr) -> Iterator[A.Expr]:
    while isinstance(e, (A.Attribute, A.Subscript)):
        yield e
        e = e.value


@expression(A.Attribute)
def check_attribute(ck: Checker, e: A.Attribute) -> None:
    if enum_member(ck, e):
        return
    with kstructs.pointer_wanted(ck, e.value):
        ck.expr(e.value)
    base = e.value.ty
    if isinstance(base, ContextType):
        ctx_field(ck, e, write=False)
    elif isinstance(base, SockRefType):
        sock_field(e)
    elif isinstance(base, StructType):
        struct_field(e)
    elif isinstance(base, KernelPtrType):
        kstructs.kernel_field(ck, e)
    elif isinstance(base, WindowType):
        raise error(f"'{e.attr}' is a method of ctx.optval: call it", e.attr_pos)
    elif isinstance(base, RefType) and base.packet:
        packet.header_field(ck, e, write=False)
    elif isinstance(base, RefType):
        ref_value(ck, e)
    else:
        raise error(f"{base} has no attribute '{e.attr}'", e.attr_pos)


def enum_member(ck: Checker, e: A.Attribute) -> bool:
    """``Proto.TCP``: a member of an IntEnum class, an untyped constant."""
    if not isinstance(e.value, A.Name) or (ck.func and e.value.id in ck.func.locals):
        return False
    sym = ck.scope.get(e.value.id)
    if not isinstance(sym, EnumSym):
        return False
    if e.attr not in sym.members:
        raise error(f"{sym.name} has no member '{e.attr}'", e.attr_pos,
                    note="its members: " + ", ".join(sym.members))
    value = sym.members[e.attr]
    e.ty, e.const, e.resolved = UNTYPED_INT, value, NamedConstant(value)
    return True


def ref_value(ck: Checker, e: A.Attribute) -> None:
    """``ref.value``: the referenced value, once the reference is known
    not to be None."""
    ref = e.value.ty
    assert isinstance(ref, RefType)
    if e.attr != "value":
        raise error(f"a reference has one attribute, 'value' (not '{e.attr}')", e.attr_pos)
    if ref.maybe_none:
        if not isinstance(e.value, A.Name):
            raise error("this lookup may find nothing: store its result in a variable "
                        "and check `if ref is not None:` before using it", e.value)
        if e.value.id not in ck.nonnull:
            raise error(f"'{e.value.id}' may be None here: check `if {e.value.id} is not "
                        "None:` before using it", e.value,
                        note="a map lookup returns None when the key is missing")
    e.ty = ref.value
    e.resolved = RefValue()


def struct_field(e: A.Attribute) -> None:
    st = e.value.ty
    assert isinstance(st, StructType)
    f = st.field(e.attr)
    if f is None:
        raise error(f"struct {st.name} has no field '{e.attr}'", e.attr_pos)
    e.ty = f[1]
    e.resolved = StructField(f[2], in_readonly_global(e))


@expression(A.Subscript)
def check_subscript(ck: Checker, e: A.Subscript) -> None:
    subscript(ck, e, write=False)


def subscript(ck: Checker, e: A.Subscript, write: bool) -> None:
    ck.expr(e.value)
    base = e.value.ty
    ck.expr(e.index)
    if not is_int(e.index.ty):
        raise error(f"an index must be an integer, not {e.index.ty}", e.index)
    if e.index.ty is UNTYPED_INT:
        if e.index.const < 0:
            raise error("negative indexes are not supported", e.index)
        e.index = coerce(e.index, U32 if e.index.const <= U32.max else DEFAULT_INT, "index")
    if isinstance(base, ArrayType):
        if e.index.const is not None and not 0 <= e.index.const < base.length:
            raise error(f"index {e.index.const} is out of range for {base}", e.index)
        in_range = False
        loop_var = uncast(e.index)
        if isinstance(loop_var, A.Name) and loop_var.id in ck.loop_ranges:
            low, high = ck.loop_ranges[loop_var.id]
            in_range = 0 <= low and high < base.length
        e.ty = base.elem
        if write and not is_scalar(base.elem):
            raise error("assign a struct's fields one by one", e)
        e.resolved = ArrayElement(base.elem.size, base.length, in_range, in_readonly_global(e))
    elif isinstance(base, WindowType):
        e.ty = U8
        loop_var = uncast(e.index)
        found = ck.window_loops.get(loop_var.id) if isinstance(loop_var, A.Name) else None
        inside = e.index.const is not None and narrowing.window_holds(ck.nonnull,
                                                                      e.index.const + 1)
        e.resolved = OptvalByte(base, found[1] if found and found[0] == base else None, inside)
    elif isinstance(base, CtxArrayType):
        ctx_array_element(ck, e, base, write)
    elif isinstance(base, BytesLitType):
        if write:
            raise error("a bytes literal is constant", e)
        if e.index.const is None:
            raise error("a bytes literal takes a constant index", e.index)
        if not 0 <= e.index.const < base.length:
            raise error("index out of range", e.index)
        e.ty, e.const = U8, e.value.const[e.index.const]
    else:
        raise error(f"{base} cannot be indexed", e.value)


def store_target(ck: Checker, t: A.Expr, whole: bool = False) -> None:
    """Type an assignment target that is not a plain name, checking
    write rights; ``whole``: a bytearray field may be the target (of a
    copy from a kernel struct)."""
    if isinstance(t, A.Attribute):
        ck.expr(t.value)
        base = t.value.ty
        if isinstance(base, ContextType):
            ctx_field(ck, t, write=True)
            return
        if isinstance(base, SockRefType):
            raise error(f"ctx.sk.{t.attr} is read-only", t.attr_pos)
        if isinstance(base, KernelPtrType):
            kstructs.refuse_write(t)
        if isinstance(base, StructType):
            struct_field(t)
            if not is_scalar(t.ty) and not (whole and isinstance(t.ty, ArrayType)):
                raise error("assign a struct's fields one by one", t)
            reject_readonly_root(t)
            return
        if isinstance(base, RefType) and base.packet:
            packet.header_field(ck, t, write=True)
            return
        if isinstance(base, RefType):
            ref_value(ck, t)
            if not isinstance(t.ty, IntType):
                raise error("assign a struct's fields one by one", t)
            return
        raise error(f"cannot assign to an attribute of {base}", t)
    if isinstance(t, A.Subscript):
        subscript(ck, t, write=True)
        reject_readonly_root(t)
        if packet.is_header(memory_root(t).ty):
            packet.require_writable(ck, t)
        return
    if isinstance(t, A.Unsupported):
        raise error(f"{t.what} is not supported", t)
    raise error("cannot assign to this expression", t)


def readonly_error(gv: GlobalVar, node: A.Node | A.Pos) -> Exception:
    return error(f"'{gv.name}' is ReadOnly: programs only read it; user space sets it "
                 "before the object is loaded", node)


def reject_readonly_root(t: A.Expr) -> None:
    """A field or element of a ReadOnly global cannot be written either."""
    root = memory_root(t)
    if isinstance(root, A.Name) and isinstance(root.symbol, GlobalVar) and root.symbol.readonly:
        raise readonly_error(root.symbol, t)


# ------------------------------------------------------------ the context

def stable_field(hook: abi.Hook, f: abi.Field) -> bool:
    """Whether the hook's reads of ``f`` may be plain loads: the hook
    cannot write it, and the verifier accepts whatever width LLVM makes
    of the load."""
    narrow = hook.context.narrow_reads or f.member in hook.context.narrow_members
    return narrow and f.name not in hook.writable and f.member not in hook.writable


def ctx_text(e: A.Attribute) -> str:
    """How the program spells its context (``ctx``, ``skb``, ...)."""
    return e.value.id if isinstance(e.value, A.Name) else "ctx"


def ctx_field(ck: Checker, e: A.Attribute, write: bool) -> None:
    ctx = e.value.ty.context  # type: ignore[union-attr]
    f = ctx.field(e.attr)
    if f is None:
        raise error(f"{ctx.python_name} has no field '{e.attr}'", e.attr_pos)
    hook = ck.current_hook()
    if f.kind == "window_end":
        raise error("ctx.optval_end is a raw pointer; use len(ctx.optval) for the size "
                    "of the option buffer", e.attr_pos)
    if f.kind in ("packet", "packet_end", "packet_meta"):
        raise error(f"{ctx_text(e)}.{e.attr} is a raw pointer into the packet: reach the "
                    f"packet's headers with {ctx_text(e)}.header(Type, offset), which checks "
                    "them against its end", e.attr_pos)
    if write:
        if e.attr not in hook.writable:
            who = [h.decorator for h in abi.HOOKS
                   if h.context is ctx and e.attr in h.writable]
            note = ("writable only in " + ", ".join("@" + w for w in who)) if who \
                else "no hook may write it"
            raise error(f"{ctx_text(e)}.{e.attr} is read-only in a @{hook.decorator} hook",
                        e.attr_pos, note=note)
    elif e.attr not in hook.readable:
        who = [h.decorator for h in abi.HOOKS if h.context is ctx and e.attr in h.readable]
        raise error(f"a @{hook.decorator} hook cannot read {ctx_text(e)}.{e.attr}", e.attr_pos,
                    note=("readable only in " + ", ".join("@" + w for w in who)) if who
                    else None)
    if f.kind == DATA_LOC:
        e.ty = U64
        e.resolved = ContextDataLoc(f)
        return
    e.ty = field_type(f)
    if isinstance(e.ty, WindowType):
        e.resolved = OptvalWindow(e.ty)
    elif f.kind == "sock":
        e.resolved = SocketPointer(f)
    elif f.count == 1:
        e.resolved = ContextField(f, stable_field(hook, f))
        if e.resolved.stable and f.part_of is not None:
            ck.current().part_reads.append(e)


def read_parts(fn: FuncSym) -> None:
    """Once ``fn``'s body is checked: where it reads two parts of one
    packed member (``device_type`` and ``access``), each is taken out of
    the member read whole, so that LLVM shares the load and may test the
    parts together, as C reading the member does.  A part read alone
    stays a narrow load (no mask)."""
    parts: dict[str, set[str]] = {}
    for e in fn.part_reads:
        f = e.resolved.field
        parts.setdefault(f.member, set()).add(f.name)
    for e in fn.part_reads:
        f = e.resolved.field
        if len(parts[f.member]) > 1:
            ctx = e.value.ty.context  # type: ignore[union-attr]
            e.resolved = ContextField(f, True, ctx.field(f.member))


def field_type(f: abi.Field, through_sock: bool = False) -> Type:
    if f.kind == "window":
        ctx_end = abi.BPF_SOCKOPT.field(f.end or "")
        assert ctx_end is not None
        return WindowType(f, ctx_end)
    if f.kind == "sock":
        return SockRefType()
    if f.count > 1:
        return CtxArrayType(f, through_sock)
    return int_type(f.kind)


def sock_field(e: A.Attribute) -> None:
    f = abi.BPF_SOCK.field(e.attr)
    if f is None:
        raise error(f"SockContext has no field '{e.attr}'", e.attr_pos)
    if e.attr not in abi.SOCK_POINTER_READABLE:
        raise error(f"ctx.sk.{e.attr} cannot be read", e.attr_pos)
    e.ty = field_type(f, through_sock=True)
    if f.count == 1:
        e.resolved = SocketField(f, abi.BPF_SOCK.narrow_reads)


def ctx_array_element(ck: Checker, e: A.Subscript, base: CtxArrayType, write: bool) -> None:
    """``ctx.cb[2]``: a constant index, within the member."""
    f = base.field
    if e.index.const is None:
        raise error(f"ctx.{f.name} takes a constant index", e.index)
    if not 0 <= e.index.const < f.count:
        raise error(f"index {e.index.const} is out of range: ctx.{f.name} "
                    f"has {f.count} elements", e.index)
    ctx_array_rights(ck, base, e, write)
    context = ck.current_hook().context
    member = e.value
    assert isinstance(member, A.Attribute)
    offset = f.offset + e.index.const * f.size
    for name, index, what in () if base.through_sock else context.typed_pointers:
        if (name, index) == (f.name, e.index.const):
            if kstructs.typed_argument(ck, e, what, offset, member.value):
                return
            raise error(f"ctx.{f.name}[{index}] is a pointer to {what}, which the verifier "
                        "does not let a program use as an integer", e,
                        note=f"read its fields (ctx.{f.name}[{index}].pid, or `task = "
                             f"ctx.{f.name}[{index}]` then task.pid); or read it through a "
                             "raw_tracepoint, whose arguments are plain addresses")
    e.ty = int_type(f.kind)
    stable = base.through_sock or stable_field(ck.current_hook(), f)
    e.resolved = ContextArrayElement(f, offset, member.value, stable)


def ctx_array_rights(ck: Checker, ty: CtxArrayType, e: A.Subscript, write: bool) -> None:
    where = e.value.attr_pos if isinstance(e.value, A.Attribute) else e.pos
    if ty.through_sock:
        if write:
            raise error(f"ctx.sk.{ty.field.name} is read-only", where)
        return
    hook = ck.current_hook()
    if write and ty.field.name not in hook.writable:
        raise error(f"ctx.{ty.field.name} is read-only in a @{hook.decorator} hook", where)


def load_rights(ck: Checker, t: A.Expr) -> None:
    """An augmented assignment also reads its target."""
    if isinstance(t, A.Attribute) and isinstance(t.value.ty, ContextType):
        ctx_field(ck, t, write=False)
    if isinstance(t, A.Subscript) and isinstance(t.value.ty, CtxArrayType):
        ctx_array_rights(ck, t.value.ty, t, write=False)


def check_write_bounds(ck: Checker, t: A.Expr, value: A.Expr) -> None:
    """A constant written to a field outside the bounds the kernel enforces
    when the call returns: the kernel loads the program, and the call fails
    with EFAULT, which is worth a warning."""
    if not (isinstance(t, A.Attribute) and isinstance(t.value.ty, ContextType)):
        return
    hook = ck.current_hook()
    lo, hi = hook.bounds(t.attr)
    if value.const is None:
        return
    if (lo is not None and value.const < lo) or (hi is not None and value.const > hi):
        ck.warn(f"ctx.{t.attr} = {value.const} makes the call fail with EFAULT in a "
                f"@{hook.decorator} hook", value,
                note=f"the kernel takes ctx.{t.attr} {bounds_text(lo, hi)}")


def bounds_text(lo: Optional[int], hi: Optional[int]) -> str:
    if lo is None:
        return f"up to {hi}"
    if hi is None:
        return f"from {lo}"
    return f"from {lo} to {hi}"


def window_call(ck: Checker, e: A.Call, f: A.Attribute) -> None:
    """``ctx.optval.u32(offset)``, ``ctx.optval.set_u32(offset, value)``."""
    if f.attr not in WINDOW_METHODS:
        raise error(f"ctx.optval has no method '{f.attr}'", f.attr_pos,
                    note="methods: " + ", ".join(WINDOW_METHODS))
    ty, is_write = WINDOW_METHODS[f.attr]
    arity(e, 2 if is_write else 1, f"ctx.optval.{f.attr}")
    for a in e.args:
        ck.expr(a)
    off = e.args[0]
    if not is_int(off.ty):
        raise error("an offset must be an integer", off)
    if off.ty is UNTYPED_INT:
        if off.const < 0:
            raise error("a negative offset", off)
        e.args[0] = coerce(off, U32 if off.const <= U32.max else DEFAULT_INT, "offset")
    if is_write:
        e.args[1] = coerce(e.args[1], ty, "value")
        e.ty = NONE
    else:
        e.ty = ty
    window = f.value.ty
    assert isinstance(window, WindowType)
    inside = e.args[0].const is not None and narrowing.window_holds(ck.nonnull,
                                                                    e.args[0].const + ty.size)
    e.resolved = OptvalAccess(window, ty, is_write, inside)


def packet_load(ck: Checker, e: A.Call, f: A.Attribute) -> None:
    """``skb.load_u16(offset)``: socket filters only."""
    hook = ck.current_hook()
    if not hook.packet_loads:
        raise error(f"a @{hook.decorator} hook has no packet to load from", f.attr_pos)
    arity(e, 1, f"ctx.{f.attr}")
    off = e.args[0]
    ck.expr(off)
    if off.ty is UNTYPED_INT and off.const < 0:
        raise error("a negative offset", off)
    e.args[0] = coerce(off, U32, "offset")
    e.ty = PACKET_LOADS[f.attr]
    e.resolved = PacketLoad(e.ty, f.value)
