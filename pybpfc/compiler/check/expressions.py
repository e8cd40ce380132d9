"""Checking names, literals and operators (comparisons are in
``comparisons``), and how integer types meet: coercions, truth tests and
untyped constants.

A value changes type only through an explicit ``Cast`` node the checker
inserts (an integer widening, a truth test); a literal takes its type in
place.  Untyped constants are folded with Python's integers, within
:data:`semantics.UNTYPED_LIMIT_BITS`.
"""
from __future__ import annotations

import operator
from typing import Callable, Optional

from ... import abi
from .. import ast as A
from .. import semantics
from ..contract import (ByteSwap, ContextArgument, GlobalVariable, LocalVariable,
                        NamedConstant, WindowLength)
from ..symbols import (AnnotationSym, BuiltinSym, ConstSym, ContextTypeSym, EnumSym, FinalSym,
                       FuncSym, GlobalVar, HelperSym, HookDecoratorSym, IntEnumBaseSym, LocalVar,
                       MapKindSym, MapVar, StructDecoratorSym, TypeSym)
from ..types import (BOOL, DEFAULT_INT, U64, UNTYPED_INT, BytesLitType, ContextType, IntType,
                     KernelPtrType, RefType, Type, common_int_type, is_int)
from . import narrowing
from .state import Checker, error, expression


_WHAT_IT_IS = {TypeSym: "a type", ContextTypeSym: "a type", FuncSym: "a function",
               HookDecoratorSym: "a decorator", StructDecoratorSym: "a decorator",
               HelperSym: "a kernel helper function", MapKindSym: "a kind of map",
               AnnotationSym: "only for annotations",
               BuiltinSym: "a builtin function", FinalSym: "typing.Final",
               IntEnumBaseSym: "enum.IntEnum", EnumSym: "an IntEnum class: use a member"}


def is_lvalue(e: A.Expr) -> bool:
    return isinstance(e, (A.Name, A.Attribute, A.Subscript))


def resolve_variable(e: A.Name, var: LocalVar | GlobalVar) -> None:
    """``e`` names the variable ``var``."""
    e.symbol, e.ty = var, var.ty
    if isinstance(var, GlobalVar):
        e.resolved = GlobalVariable(var)
    elif isinstance(var.ty, ContextType):
        e.resolved = ContextArgument(var)
    else:
        e.resolved = LocalVariable(var)


# ---------------------------------------------------------------- leaves

@expression(A.Unsupported)
def check_unsupported(ck: Checker, e: A.Unsupported) -> None:
    raise error(f"{e.what} is not supported", e, note=UNSUPPORTED_NOTES.get(e.what))


# What to write instead of a construct that is refused.
UNSUPPORTED_NOTES = {
    "slice": "copy the bytes into a new bytearray: `part = bytearray(4)`, then "
             "`for i in range(4): part[i] = buf[start + i]`",
    "tuple": "to test membership write `x in (a, b)`; to loop with an index, "
             "`for i, c in enumerate(buf):`",
}


@expression(A.IntLit)
def check_int(ck: Checker, e: A.IntLit) -> None:
    e.ty, e.const = UNTYPED_INT, bounded(e.value, e)


@expression(A.BoolLit)
def check_bool(ck: Checker, e: A.BoolLit) -> None:
    e.ty, e.const = BOOL, e.value


@expression(A.BytesLit)
def check_bytes(ck: Checker, e: A.BytesLit) -> None:
    e.ty, e.const = BytesLitType(len(e.value)), e.value


@expression(A.StrLit)
def check_str(ck: Checker, e: A.StrLit) -> None:
    raise error("strings are not supported here: the kernel's text is bytes", e,
                note=f"write a bytes literal: {bytes_text(e.value.encode())}")


@expression(A.NoneLit)
def check_none(ck: Checker, e: A.NoneLit) -> None:
    raise error("None is not a value in pybpfc", e)


@expression(A.ListLit)
def check_list(ck: Checker, e: A.ListLit) -> None:
    raise error("a list display may only initialise a variable", e)


@expression(A.Cast)
def check_cast(ck: Checker, e: A.Cast) -> None:
    pass  # made by the checker, already checked


@expression(A.Name)
def check_name(ck: Checker, e: A.Name) -> None:
    fn = ck.func
    if fn is not None and e.id in fn.locals:
        resolve_variable(e, fn.locals[e.id])
        if e.id in ck.stale:
            ck.refuse_stale(e)
        return
    sym = ck.scope.get(e.id)
    if sym is None:
        raise error(f"unknown name '{e.id}'", e)
    if isinstance(sym, GlobalVar):
        resolve_variable(e, sym)
        if fn is not None:
            fn.globals_used.add(e.id)
        return
    if isinstance(sym, ConstSym):
        e.symbol, e.ty, e.const = sym, sym.ty, sym.value
        e.resolved = NamedConstant(sym.value)
        return
    if isinstance(sym, MapVar):
        methods = ", ".join(m for m, _ in sym.ty.kind.methods)
        if not methods:       # a ProgArray, a StackTraceMap: only a helper takes it
            takers = [h for h in abi.HELPERS.values() for p in h.signature
                      if abi.MAP_PARAMS.get(p.kind) == sym.ty.kind.python_name]
            spelled = ", ".join(f"{h.name}({', '.join(p.name for p in h.signature)})"
                                for h in takers)
            raise error(f"'{e.id}' is a map ({sym.ty.kind.python_name}): pass it to "
                        f"{spelled}", e)
        raise error(f"'{e.id}' is a map ({sym.ty.kind.python_name}): use its methods "
                    f"({methods})", e)
    raise error(f"'{e.id}' is {_WHAT_IT_IS[type(sym)]}, not a value", e)


# ------------------------------------------------------------- operators

@expression(A.UnaryOp)
def check_unary(ck: Checker, e: A.UnaryOp) -> None:
    ck.expr(e.operand)
    if e.op == "not":
        e.operand = truth(e.operand)
        e.ty = BOOL
        if e.operand.const is not None:
            e.const = not e.operand.const
        return
    t = e.operand.ty
    if t is UNTYPED_INT:
        e.ty = UNTYPED_INT
        value = e.operand.const
        e.const = bounded(~value if e.op == "~" else {"-": -1, "+": 1}.get(e.op, 0) * value, e)
        return
    if not isinstance(t, IntType):
        raise error(f"unary '{e.op}' needs an integer, not {t}", e.operand)
    if t.network:
        raise network_arithmetic(e.operand, f"unary '{e.op}'")
    e.ty = t
    if e.operand.const is not None:
        e.const = semantics.unary(e.op, e.operand.const, t)


@expression(A.BinOp)
def check_binop(ck: Checker, e: A.BinOp) -> None:
    if e.op == "*" and isinstance(e.left, A.ListLit):
        raise error("a list display may only initialise a variable", e)
    ck.expr(e.left)
    ck.expr(e.right)
    binop(e, fold=True)


def binop(e: A.BinOp, fold: bool) -> None:
    """Type ``e``, whose operands are checked; with ``fold``, compute its
    value when both are known."""
    if e.op == "/":
        raise error("'/' is true division, which BPF has no numbers for: use '//'", e)
    if e.op in ("**", "@"):
        raise error(f"the '{e.op}' operator is not supported", e)
    for side in (e.left, e.right):
        if not is_int(side.ty):
            raise error(f"'{e.op}' needs integers, not {side.ty}", side)
    lt, rt = e.left.ty, e.right.ty
    if e.op not in ("&", "|", "^"):
        for side in (e.left, e.right):
            if isinstance(side.ty, IntType) and side.ty.network:
                raise network_arithmetic(side, f"'{e.op}'")
    if lt is UNTYPED_INT and rt is UNTYPED_INT:
        e.ty = UNTYPED_INT
        e.const = fold_untyped(e)
        return
    if e.op in ("<<", ">>"):
        ty = lt if isinstance(lt, IntType) else DEFAULT_INT
        e.left = coerce(e.left, ty, "shifted value")
        if e.right.ty is UNTYPED_INT:
            if e.right.const < 0:
                raise error("a negative shift count", e.right)
            e.right = coerce(e.right, ty if ty.fits(e.right.const) else DEFAULT_INT,
                             "shift count")
    else:
        ty = unify_ints([e.left, e.right], e.op)
        e.left = coerce(e.left, ty, "operand")
        e.right = coerce(e.right, ty, "operand")
    e.ty = ty
    if fold and e.left.const is not None and e.right.const is not None:
        e.const = semantics.binary(e.op, e.left.const, e.right.const, ty)


@expression(A.BoolOp)
def check_boolop(ck: Checker, e: A.BoolOp) -> None:
    values = []
    saved = set(ck.nonnull)
    for v in e.values:
        ck.expr(v)
        values.append(truth(v))
        # Later operands run only when this one was true (and) or false (or).
        when_true, when_false = narrowing.facts(values[-1])
        ck.nonnull |= when_true if e.op == "and" else when_false
    ck.nonnull = saved
    e.values = values
    e.ty = BOOL
    consts = [v.const for v in values]
    if all(c is not None for c in consts):
        e.const = all(consts) if e.op == "and" else any(consts)


@expression(A.IfExp)
def check_ifexp(ck: Checker, e: A.IfExp) -> None:
    e.test = condition(ck, e.test)
    when_true, when_false = narrowing.facts(e.test)
    saved = set(ck.nonnull)
    ck.nonnull = saved | when_true
    ck.expr(e.body)
    ck.nonnull = saved | when_false
    ck.expr(e.orelse)
    ck.nonnull = saved
    if e.body.ty is BOOL and e.orelse.ty is BOOL:
        e.ty = BOOL
    else:
        for side in (e.body, e.orelse):
            if not is_int(side.ty):
                raise error(f"both branches of a conditional expression must be "
                            f"integers, or both bools; this one is {side.ty}", side)
        ty = unify_ints([e.body, e.orelse])
        if e.body.ty is UNTYPED_INT and e.orelse.ty is UNTYPED_INT \
                and not all(DEFAULT_INT.fits(side.const) for side in (e.body, e.orelse)):
            ty = U64    # two literals: the use narrows it (see coerce)
        e.body = coerce(e.body, ty, "value")
        e.orelse = coerce(e.orelse, ty, "value")
        e.ty = ty
    if e.test.const is not None:
        chosen = e.body if e.test.const else e.orelse
        e.const = chosen.const


# ------------------------------------------------------------ bytes text

def bytes_text(value: bytes) -> str:
    """``value`` as a bytes literal a user would write (NUL as ``\\0``)."""
    out = []
    for byte in value:
        ch = chr(byte)
        if byte == 0:
            out.append("\\0")
        elif ch in '"\\':
            out.append("\\" + ch)
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append(f"\\x{byte:02x}")
    return 'b"' + "".join(out) + '"'


# --------------------------------------------------------------- coercion

# Python's own meaning of each operator on untyped integer constants (the
# checker has refused a zero divisor before folding).
UNTYPED_FOLDS: dict[str, Callable[[int, int], int]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "//": operator.floordiv,
    "%": operator.mod, "&": operator.and_, "|": operator.or_, "^": operator.xor,
    "<<": operator.lshift, ">>": operator.rshift,
}


def condition(ck: Checker, e: A.Expr) -> A.Expr:
    ck.expr(e)
    return truth(e)


def truth(e: A.Expr) -> A.Expr:
    """``e`` as a bool: integers compare with 0, references with None."""
    if e.ty is BOOL:
        return e
    if isinstance(e.ty, RefType):
        cast = A.Cast(e.pos, e)
        cast.ty = BOOL
        if not e.ty.maybe_none:
            # The compiler would drop the test without a word.
            raise error("this reference is never None, so its test is always True", e,
                        note="use it directly: only a lookup that may find nothing "
                             "(HashMap.lookup, SockStorage.get) can give None")
        return cast
    if is_int(e.ty):
        if e.ty is UNTYPED_INT:
            coerce(e, DEFAULT_INT, "condition")
        cast = A.Cast(e.pos, e)
        cast.ty = BOOL
        if e.const is not None:
            cast.const = bool(e.const)
        return cast
    raise error(f"{e.ty} cannot be used as a condition", e)


def coerce(e: A.Expr, to: Type, what: str) -> A.Expr:
    """``e`` as a value of type ``to``: a literal takes the type, an
    integer widens; anything else is an error."""
    if e.ty == to:
        return e
    if isinstance(to, KernelPtrType) and not to.trusted and e.ty == KernelPtrType(to.struct, True):
        return e    # a BTF-typed pointer probe-reads as well
    if isinstance(to, IntType) and (to.network or (isinstance(e.ty, IntType)
                                                   and e.ty.network)):
        return byte_order_coercion(e, to, what)
    if e.ty is UNTYPED_INT and isinstance(to, IntType):
        if not to.fits(e.const):
            raise error(f"{e.const} does not fit in {to} ({to.min}..{to.max})", e)
        e.ty = to
        return e
    if isinstance(e.ty, IntType) and isinstance(to, IntType) and (
            to.contains(e.ty) or fits_known(e, to)):
        cast = A.Cast(e.pos, e)
        cast.ty = to
        if e.const is not None:
            cast.const = e.const
        return cast
    if isinstance(e.ty, IntType) and isinstance(to, IntType):
        raise error(f"{what} is {e.ty}, which does not fit in {to}", e,
                    note=f"convert explicitly with {to}(...) if truncation is intended")
    raise error(f"{what} must be {to}, not {e.ty}", e)


def byte_order_coercion(e: A.Expr, to: IntType, what: str) -> A.Expr:
    """Where a byte order meets another: only a value made for it (htons(x)
    for a be16, htonl(x) for a be32) or 0, the same in both orders."""
    if isinstance(e.ty, IntType) and e.ty.network:
        if to.network:
            raise error(f"{what} is {e.ty}, not {to}", e)
        host = "ntohs" if e.ty.bits == 16 else "ntohl"
        raise error(f"{what} is {e.ty}, in network byte order, where {to} is expected: "
                    f"convert it with {host}(...)", e)
    maker = "htons" if to.bits == 16 else "htonl"
    if made_for_network(e, to.bits):
        cast = A.Cast(e.pos, e)
        cast.ty, cast.const = to, e.const
        return cast
    if e.ty is UNTYPED_INT and e.const == 0:
        e.ty = to
        return e
    raise error(f"{what} is a host-order {'number' if e.ty is UNTYPED_INT else e.ty} where "
                f"{to} (network byte order) is expected: write {maker}(...)", e)


def made_for_network(e: A.Expr, bits: int) -> bool:
    """``htons(x)`` (16 bits) or ``htonl(x)`` (32): a network-order value
    typed as the host integer of its width."""
    r = e.resolved
    return isinstance(r, ByteSwap) and r.to_network and r.ty.bits == bits


def network_arithmetic(e: A.Expr, op: str) -> Exception:
    host = "ntohs" if e.ty.bits == 16 else "ntohl"  # type: ignore[union-attr]
    return error(f"{op} on a value in network byte order ({e.ty}): convert it with "
                 f"{host}(...) first", e, note="only ==, !=, &, | and ^ work in either order")


def known_range(e: A.Expr) -> Optional[tuple[int, int]]:
    """The least and greatest value ``e`` can have, when the checker knows
    them better than its type does: a constant (`len(FAKE)`), a choice
    between known values (`4 if c else 0`), the option buffer's length
    (at most a page)."""
    e = uncast(e)
    if isinstance(e.const, int) and not isinstance(e.const, bool):
        return e.const, e.const
    if isinstance(e, A.IfExp):
        a, b = known_range(e.body), known_range(e.orelse)
        if a is None or b is None:
            return None
        return min(a[0], b[0]), max(a[1], b[1])
    if isinstance(e.resolved, WindowLength):
        return 0, abi.PAGE_SIZE
    return None


def fits_known(e: A.Expr, to: IntType) -> bool:
    """Whether every value ``e`` can have is one of ``to``'s: then it
    converts without a word, as a literal does."""
    known = known_range(e)
    return known is not None and to.fits(known[0]) and to.fits(known[1])


def coerce_tree(e: A.Expr, to: IntType) -> A.Expr:
    """Give a constant, or a conditional of constants, the type ``to``."""
    if isinstance(e, A.IfExp) and e.const is None:
        e.body = coerce_tree(uncast(e.body), to)
        e.orelse = coerce_tree(uncast(e.orelse), to)
        e.ty = to
        return e
    e = uncast(e)
    if e.ty is UNTYPED_INT or e.ty == to:
        return coerce(e, to, "return value")
    cast = A.Cast(e.pos, e)
    cast.ty, cast.const = to, e.const
    return cast


def uncast(e: A.Expr) -> A.Expr:
    return e.value if isinstance(e, A.Cast) else e


def unify_ints(operands: list[A.Expr], op: str = "") -> IntType:
    """The type integer operands meet at (a literal takes any)."""
    typed = [o for o in operands if isinstance(o.ty, IntType)]
    network = next((o.ty for o in typed if o.ty.network), None)
    if network is not None:
        # htons(x) beside a be16 is one: it takes the be16's type, as a literal would.
        typed = [o for o in typed if not made_for_network(o, network.bits)]
    if not typed:
        return DEFAULT_INT
    ty = typed[0].ty
    for i, node in enumerate(typed[1:], 1):
        common = common_int_type(ty, node.ty)
        if common is None and (ty.network or node.ty.network):
            raise error(f"cannot mix {ty} and {node.ty}" + (f" in '{op}'" if op else "")
                        + ": one is in network byte order", node,
                        note="convert it with ntohs()/ntohl(), or the host-order side with "
                             "htons()/htonl()")
        # A value known to fit in the other side's type takes it.
        if common is None and fits_known(node, ty):
            common = ty
        elif common is None and all(node.ty.contains(o.ty) or fits_known(o, node.ty)
                                    for o in typed[:i]):
            common = node.ty
        if common is None:
            raise error(f"cannot mix {ty} and {node.ty}" + (f" in '{op}'" if op else ""),
                        node, note="convert one side explicitly, e.g. "
                                   f"{wider_name(ty, node.ty)}(x)")
        ty = common
    return ty


def wider_name(a: IntType, b: IntType) -> str:
    bits = max(a.bits, b.bits)
    return f"i{min(bits * 2, 64)}" if bits < 64 else ("u64" if not a.signed else "i64")


def fold_untyped(e: A.BinOp) -> int:
    """``e`` of two untyped constants, as Python computes it."""
    a, b = e.left.const, e.right.const
    op = e.op
    if op in ("//", "%") and b == 0:
        raise error("division by zero in a constant", e.right)
    if op in ("<<", ">>") and b < 0:
        raise error("a negative shift count", e.right)
    if op == "<<" and b > semantics.UNTYPED_LIMIT_BITS:
        raise too_large(e)
    # Only the operator asked for is computed: `-2 << (1 << 64)` would not fit
    # in memory, and it is no business of `-2 - (1 << 64)`.
    return bounded(UNTYPED_FOLDS[op](a, b), e)


def bounded(value: int, e: A.Expr) -> int:
    """An untyped constant, refused beyond the language's bound."""
    if not semantics.untyped_in_bounds(value):
        raise too_large(e)
    return value


def too_large(e: A.Expr) -> Exception:
    return error("this constant is too large", e,
                 note=f"an integer constant has at most {semantics.UNTYPED_LIMIT_BITS} bits "
                      "until it takes a type")
