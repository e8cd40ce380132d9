"""Checking direct packet access (XDP, tc, cgroup_skb): ``ctx.header(T,
offset)``, its fields, and pointers a packet-moving helper made stale.

``ctx.header(EthHdr, 0)`` is the header at that offset, or None when the
packet is too short for it: the program must test it against None before
it reads a field, exactly as a map lookup, so an access without a length
check cannot be written.  A helper that may move the packet
(``abi.Helper.moves_packet``) makes every header variable stale until it
is assigned again; a stale one is an error where it is used.
"""
from __future__ import annotations

from typing import Iterator, Optional

from ... import abi
from .. import ast as A
from ...records import fields
from ..contract import Conversion, PacketField, PacketHeader
from ..semantics import MAX_PACKET_OFF
from ..symbols import HelperSym, TypeSym
from ..types import U32, UNTYPED_INT, IntType, RefType, StructType, is_int, is_scalar
from .expressions import coerce
from .state import Checker, arity, error


def is_header(ty: object) -> bool:
    return isinstance(ty, RefType) and ty.packet


def header_call(ck: Checker, e: A.Call, f: A.Attribute) -> None:
    """``ctx.header(T, offset)``."""
    hook = ck.current_hook()
    ctx = f.value.id if isinstance(f.value, A.Name) else "ctx"
    if not hook.packet:
        where = ", ".join("@" + h.decorator for h in abi.HOOKS if h.packet)
        raise error(f"a @{hook.decorator} hook has no direct access to the packet",
                    f.attr_pos, note=f"ctx.header() is for {where}")
    arity(e, 2, f"{ctx}.header")
    kind, offset = e.args
    struct = header_type(ck, kind)
    ck.expr(offset)
    if not is_int(offset.ty) or (isinstance(offset.ty, IntType) and offset.ty.network):
        raise error(f"a packet offset is a host-order integer, not {offset.ty}", offset)
    if offset.const is not None:
        if offset.const < 0:
            raise error("a negative packet offset", offset)
        if offset.const + struct.size > MAX_PACKET_OFF:
            raise error(f"offset {offset.const} is past the {MAX_PACKET_OFF} bytes of a "
                        "packet the verifier follows", offset)
    if isinstance(offset.ty, IntType) and offset.ty.signed and offset.const is None:
        raise error(f"a packet offset is unsigned; this one is {offset.ty}", offset,
                    note="convert it with u32(...)")
    if offset.ty is UNTYPED_INT:
        e.args[1] = coerce(offset, U32, "offset")
    bound = upper_bound(e.args[1])
    start, end = packet_fields(hook)
    e.ty = RefType(struct, maybe_none=True, shared=False, packet=True)
    e.resolved = PacketHeader(start, end, struct.size,
                              bounded=bound is not None and bound + struct.size <= MAX_PACKET_OFF)


def header_type(ck: Checker, kind: A.Expr) -> StructType:
    """The struct a header call names: a header of pybpfc or a @struct."""
    sym = ck.scope.get(kind.id) if isinstance(kind, A.Name) else None
    if not (isinstance(sym, TypeSym) and isinstance(sym.ty, StructType)):
        raise error("ctx.header() takes a header type first (EthHdr, Ipv4Hdr, UdpHdr, ... "
                    "or a @struct class)", kind)
    if not all(is_scalar(t) or isinstance(t, IntType) or hasattr(t, "elem")
               for _, t, _ in sym.ty.fields):
        raise error(f"{sym.ty.name} has a field that cannot be in a packet", kind)
    kind.symbol = sym      # type: ignore[union-attr]
    return sym.ty


def packet_fields(hook: abi.Hook) -> tuple[abi.Field, abi.Field]:
    by_kind = {f.kind: f for f in hook.context.fields}
    return by_kind["packet"], by_kind["packet_end"]


def upper_bound(e: A.Expr) -> Optional[int]:
    """The largest value an unsigned offset expression can have, as far as
    operators on constants and narrow types tell; None when unknown."""
    if e.const is not None:
        return int(e.const) if int(e.const) >= 0 else None
    ty = e.ty
    if not isinstance(ty, IntType) or ty.signed:
        return None
    found: Optional[int] = None
    if isinstance(e, A.Cast):
        found = upper_bound(e.value)
    elif isinstance(e, A.Call) and isinstance(e.resolved, Conversion) and e.args:
        found = upper_bound(e.args[0])      # u32(x): x, widened
    elif isinstance(e, A.BinOp):
        left, right = upper_bound(e.left), upper_bound(e.right)
        if e.op == "&":
            known = [b for b in (left, right) if b is not None]
            found = min(known) if known else None
        elif left is not None and right is not None:
            if e.op == "+":
                found = left + right
            elif e.op == "*":
                found = left * right
            elif e.op == "<<" and right < 64:
                found = left << right
            elif e.op in (">>", "//"):
                found = left
    # Whatever the operators say, a value never exceeds its type (u8
    # arithmetic wraps within it).
    return ty.max if found is None or found > ty.max else found


def header_field(ck: Checker, e: A.Attribute, write: bool) -> None:
    """``ip.protocol`` (``write``: as an assignment's target)."""
    ref = e.value.ty
    assert isinstance(ref, RefType) and isinstance(ref.value, StructType)
    name = e.value.id if isinstance(e.value, A.Name) else "the header"
    if ref.maybe_none and (not isinstance(e.value, A.Name) or e.value.id not in ck.nonnull):
        raise error(f"'{name}' may be None here (the packet may be too short for it): check "
                    f"`if {name} is None: return ...` before using it", e.value,
                    note="ctx.header() is None when the header does not fit in the packet")
    found = ref.value.field(e.attr)
    if found is None:
        raise error(f"{ref.value.name} has no field '{e.attr}'", e.attr_pos,
                    note="fields: " + ", ".join(f[0] for f in ref.value.fields))
    if write:
        require_writable(ck, e.attr_pos)
        if not is_scalar(found[1]):
            raise error("assign the elements one by one", e)
    e.ty = found[1]
    e.resolved = PacketField(found[2])


def require_writable(ck: Checker, where: A.Node | A.Pos) -> None:
    hook = ck.current_hook()
    if hook.packet != "write":
        where_ok = ", ".join("@" + h.decorator for h in abi.HOOKS if h.packet == "write")
        raise error(f"the packet is read-only in a @{hook.decorator} hook", where,
                    note=f"headers may be written in {where_ok}")


# ------------------------------------------------------- stale pointers

def header_variables(ck: Checker) -> set[str]:
    return {name for name, var in ck.current().locals.items() if is_header(var.ty)}


def packet_moved(ck: Checker, call: A.Call, helper: abi.Helper) -> None:
    """A helper that may move the packet was called: every header variable
    is stale until assigned again."""
    for name in header_variables(ck):
        ck.stale[name] = f"{helper.name}() on line {call.pos.line}"


def packet_moved_in_loop(ck: Checker) -> None:
    """A loop whose body may move the packet: headers from before it, or
    from an earlier time round, are stale."""
    for name in header_variables(ck):
        ck.stale.setdefault(name, "a call in the loop that may move the packet")


def moves_packet_in(ck: Checker, stmts: list[A.Stmt]) -> bool:
    """Whether ``stmts`` call a helper that may move the packet."""
    for node in walk(stmts):
        if isinstance(node, A.Call) and isinstance(node.func, A.Name):
            sym = ck.scope.get(node.func.id)
            if isinstance(sym, HelperSym) and sym.helper.moves_packet:
                return True
    return False


def walk(stmts: list[A.Stmt]) -> Iterator[A.Node]:
    """Every node in ``stmts`` (iterative: blocks nest deep)."""
    pending: list[object] = list(stmts)
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, A.Node):
            yield node
            pending.extend(getattr(node, f.name, None) for f in fields(node))
