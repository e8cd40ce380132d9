"""Checking comparisons: integers and bools (chains as in Python), a
bytearray against a bytes literal, ``is None``, ``in`` against constants,
and the tests of the option buffer's length.  A test whose answer the
operands' sizes alone decide, and one that mistakes an integer for a bool
or None, is an error that says what to write."""
from __future__ import annotations

from ... import abi
from .. import ast as A
from .. import semantics
from ..contract import BufferEquals, NoneTest, OneOf, WindowLength, WindowLengthTest
from ..types import (BOOL, DEFAULT_INT, UNTYPED_INT, ArrayType, BytesLitType, IntType, RefType,
                     is_int)
from .expressions import byte_order_coercion, bytes_text, coerce, is_lvalue, uncast, unify_ints
from .state import Checker, error, expression


@expression(A.Compare)
def check_compare(ck: Checker, e: A.Compare) -> None:
    if any(op in ("is", "is not") for op in e.ops):
        none_test(ck, e)
        return
    if len(e.ops) == 1 and e.ops[0] in ("==", "!=") and any(
            isinstance(o, A.NoneLit) for o in e.operands):
        other = next(o for o in e.operands if not isinstance(o, A.NoneLit))
        word = "is" if e.ops[0] == "==" else "is not"
        raise error(f"compare with None using '{word}', not '{e.ops[0]}'", e,
                    note=f"write `{text_of(ck, other)} {word} None`")
    if len(e.ops) == 1 and e.ops[0] in ("in", "not in"):
        membership(ck, e)
        return
    for o in e.operands:
        ck.expr(o)
    if len(e.ops) == 1 and e.ops[0] in ("==", "!="):
        truth_compare(ck, e)
    if any(isinstance(o.ty, (ArrayType, BytesLitType)) for o in e.operands):
        buffer_equality(e)
        return
    for op in e.ops:
        if op in ("in", "not in"):
            raise error(f"the '{op}' operator is not supported in a chain of comparisons",
                        e, note="write `x in (a, b)` on its own")
    if all(o.ty is BOOL for o in e.operands):
        if any(op not in ("==", "!=") for op in e.ops):
            raise error("bools compare only with == and !=", e)
    else:
        for o in e.operands:
            if not is_int(o.ty):
                raise error(f"cannot compare {o.ty}", o)
        # Each comparison stands alone: a < b < c is a < b and b < c.
        for i, op in enumerate(e.ops):
            pair = [e.operands[i], e.operands[i + 1]]
            if all(p.ty is UNTYPED_INT for p in pair):
                continue
            ty = unify_ints(pair, op)
            if ty.network and op not in ("==", "!="):
                raise error(f"{ty} values are in network byte order: they compare only "
                            "with == and !=", e, note="convert with ntohs()/ntohl() to order "
                                                      "them")
            for j in (i, i + 1):
                if e.operands[j].ty is UNTYPED_INT or e.operands[j].ty != ty:
                    if is_int(e.operands[j].ty):
                        e.operands[j] = coerce(e.operands[j], ty, "operand")
        if len(e.ops) > 1 and any(
                e.operands[k].ty != e.operands[k + 1].ty for k in range(len(e.ops))):
            # A middle operand shared by two comparisons must have one type.
            ty = unify_ints(e.operands)
            e.operands = [coerce(o, ty, "operand") for o in e.operands]
        for i, o in enumerate(e.operands):
            if o.ty is UNTYPED_INT:
                e.operands[i] = coerce(o, DEFAULT_INT, "operand")
    e.ty = BOOL
    consts = [o.const for o in e.operands]
    for i, op in enumerate(e.ops):
        decided_by_range(ck, e, op, e.operands[i], e.operands[i + 1])
    if all(c is not None for c in consts):
        fixed_length(ck, e)
        e.const = all(semantics.compare(op, consts[i], consts[i + 1])
                      for i, op in enumerate(e.ops))
    else:
        e.resolved = window_length_test(e)


def known_type(e: A.Expr) -> IntType:
    """The type whose range ``e``'s values lie in: a widening the checker
    added keeps the narrower type's range."""
    assert isinstance(e.ty, IntType)
    ty = e.ty
    while (isinstance(e, A.Cast) and isinstance(e.value.ty, IntType)
           and e.value.ty is not UNTYPED_INT and ty.min <= e.value.ty.min
           and e.value.ty.max <= ty.max):
        e = e.value
        assert isinstance(e.ty, IntType)
        ty = e.ty
    return ty


FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def range_answer(op: str, low: int, high: int, c: int) -> bool | None:
    """Whether ``x op c`` holds for every x in low..high (True), for none
    (False), or depends on x (None)."""
    holds = {"<": (high < c, low >= c), "<=": (high <= c, low > c),
             ">": (low > c, high <= c), ">=": (low >= c, high < c),
             "==": (low == high == c, c < low or c > high),
             "!=": (c < low or c > high, low == high == c)}[op]
    return True if holds[0] else False if holds[1] else None


def decided_by_range(ck: Checker, e: A.Compare, op: str, left: A.Expr, right: A.Expr) -> None:
    """A value compared with a constant its type's range already decides
    (an unsigned ``x >= 0``, a u8 ``x <= 255``): the compiler would drop the
    test without a word, so it is an error."""
    if (left.const is None) == (right.const is None):
        return
    value, c = (left, right.const) if right.const is not None else (right, left.const)
    if value is right:
        op = FLIPPED[op]
    if not isinstance(value.ty, IntType) or value.ty.network or not isinstance(c, int):
        return
    ty = known_type(value)
    low, high = ty.min, ty.max
    answer = range_answer(op, low, high, c)
    if answer is None:
        return
    name = text_of(ck, uncast(value))
    if low == 0 and c == 0 and op in ("<", ">="):
        note = (f"an unsigned value is never negative; to test a sign, compute in a "
                f"signed type: i64({name}) {op} 0, or the difference a - b as i64(a) - i64(b)")
    else:
        note = (f"a {ty} holds {low}..{high}: compare with a bound inside that range, "
                f"or drop the test")
    raise error(f"`{name}` is a {ty} ({low}..{high}), so `{name} {op} {c}` is always "
                f"{answer}", e, note=note)


def fixed_length(ck: Checker, e: A.Compare) -> None:
    """``len(buf) == 4`` for a bytearray or list made with a fixed length:
    its answer is known when the program is compiled."""
    for o in e.operands:
        call = uncast(o)
        if (isinstance(call, A.Call) and isinstance(call.func, A.Name)
                and call.func.id == "len" and isinstance(call.args[0].ty, ArrayType)):
            answer = all(semantics.compare(op, e.operands[i].const, e.operands[i + 1].const)
                         for i, op in enumerate(e.ops))
            name = text_of(ck, call.args[0])
            raise error(f"`{name}` always holds {call.const} elements, so this test is "
                        f"always {answer}", e,
                        note="a bytearray's or list's length is fixed where it is made; "
                             "a helper's return value says how many bytes it wrote")


def membership(ck: Checker, e: A.Compare) -> None:
    """``x in (25, 465, 587)``, ``c in b"./"``, ``not in``: whether an
    integer equals one of constants the program spells out."""
    value, group = e.operands
    ck.expr(value)
    if isinstance(group, A.Unsupported) and group.what == "tuple":
        for part in group.parts:
            ck.expr(part)
            if not isinstance(part.const, int) or not is_int(part.ty):
                raise error("`in` tests against a tuple of integer constants", part,
                            note="for values known only when the hook runs, write "
                                 "`x == a or x == b`")
        values = [int(p.const) for p in group.parts]
    else:
        ck.expr(group)
        if isinstance(group.const, bytes):
            values = list(group.const)
        elif isinstance(group.ty, ArrayType):
            raise error("`in` on a bytearray or list variable is not supported", e,
                        note="write a loop: `for c in buf:` and compare each `c`")
        else:
            raise error(f"`in` tests against a tuple of constants or a bytes constant, "
                        f"not {group.ty}", group)
    if not is_int(value.ty):
        raise error(f"`in` tests an integer, not {value.ty}", value)
    if value.ty is UNTYPED_INT:
        coerce(value, DEFAULT_INT, "operand")
    assert isinstance(value.ty, IntType)
    if value.ty.network:
        network_membership(value.ty, group)
    for v, part in zip(values, getattr(group, "parts", None) or [group] * len(values)):
        if not value.ty.fits(v):
            raise error(f"{v} is never a {value.ty}, so it is never `in` this test", part,
                        note=f"a {value.ty} holds {value.ty.min}..{value.ty.max}")
    negate = e.ops[0] == "not in"
    e.operands = [value]
    e.ty = BOOL
    if value.const is not None:
        e.const = (value.const in values) != negate
    e.resolved = OneOf(tuple(values), negate)


def network_membership(ty: IntType, group: A.Expr) -> None:
    """A be16/be32 is `in` constants of its byte order only: htons(...) or
    htonl(...) of each, or 0 (the same in both orders)."""
    if not (isinstance(group, A.Unsupported) and group.what == "tuple"):
        raise error(f"a {ty} (network byte order) tests `in` a tuple of constants", group,
                    note="write `x in (htons(A), htons(B))`")
    for part in group.parts:
        byte_order_coercion(part, ty, "a value it is tested against")


def truth_compare(ck: Checker, e: A.Compare) -> None:
    """``x == True``: an integer is not a bool in pybpfc, and the test
    meant is its truth."""
    flag = next((o for o in e.operands if isinstance(o, A.BoolLit)), None)
    other = next((o for o in e.operands if o is not flag), None)
    if flag is None or other is None or not is_int(other.ty):
        return
    wants = flag.value == (e.ops[0] == "==")
    name = text_of(ck, other)
    raise error(f"`{name}` is {other.ty}, not a bool: it compares with numbers, not with "
                f"{flag.value}", e,
                note=f"test its truth: `if {name}:`" if wants else
                     f"test its truth: `if not {name}:`")


def text_of(ck: Checker, e: A.Expr) -> str:
    """The source text of ``e`` when it is on one line, else ``x``."""
    pos = e.pos
    if pos.line != pos.end_line:
        return "x"
    return ck.source.line(pos.line)[pos.col - 1:pos.end_col - 1] or "x"


def window_length_test(e: A.Compare) -> WindowLengthTest | None:
    """``len(ctx.optval) >= N`` (or >, <, <=) for a constant N of at most a
    page: a test of whether N bytes fit in the buffer, which the verifier
    follows as it follows the buffer's accesses."""
    if len(e.ops) != 1 or e.ops[0] not in (">=", ">", "<", "<="):
        return None
    length, bound = e.operands
    while isinstance(length, A.Cast):
        length = length.value
    n = bound.const
    if not (isinstance(length.resolved, WindowLength) and isinstance(n, int)
            and 0 <= n <= abi.PAGE_SIZE):
        return None
    op = e.ops[0]
    need = n if op in (">=", "<") else n + 1
    return WindowLengthTest(length.resolved.window, length.resolved.context, need,
                            fits_is_false=op in ("<", "<="))


def buffer_equality(e: A.Compare) -> None:
    """``buf == b"..."`` (or !=): a bytearray variable against a bytes
    literal, every byte compared; different lengths are never equal."""
    if len(e.ops) != 1 or e.ops[0] not in ("==", "!="):
        raise error("a bytearray compares only with == or != to a bytes literal", e)
    buf, literal = e.operands
    if isinstance(buf.ty, BytesLitType):
        buf, literal = literal, buf
    if not (isinstance(buf.ty, ArrayType) and buf.ty.is_bytes and is_lvalue(buf)
            and isinstance(literal.ty, BytesLitType)):
        raise error("a bytearray variable compares only with a bytes literal", e)
    e.operands = [buf, literal]
    e.ty = BOOL
    if buf.ty.length != literal.ty.length:
        raise sizes_decide_equality(e, buf.ty.length, literal.const)
    e.resolved = BufferEquals(buf, literal.const, isinstance(buf, A.Name),
                              negate=e.ops[0] == "!=")


def sizes_decide_equality(e: A.Compare, size: int, literal: bytes) -> Exception:
    """A buffer compared with a literal of another length: Python's answer
    is known from the sizes alone, which is never what the test meant."""
    answer = "True" if e.ops[0] == "!=" else "False"
    buf = e.operands[0]
    name = buf.id if isinstance(buf, A.Name) else "buf"
    if len(literal) < size:
        prefix = bytes_text(literal + bytes(1))
        fix = (f"to test how the buffer starts, write {name}.startswith({prefix}) "
               "(the NUL ends a name the kernel wrote), or compare with a literal of "
               f"{size} bytes")
    else:
        fix = f"make the bytearray as long as the literal: bytearray({len(literal)})"
    return error(f"a {size}-byte bytearray is never equal to a {len(literal)}-byte literal, "
                 f"so this test is always {answer}", e, note=fix)


def none_test(ck: Checker, e: A.Compare) -> None:
    """``ref is None`` / ``ref is not None``: the only use of ``is``."""
    if len(e.ops) != 1 or not any(isinstance(o, A.NoneLit) for o in e.operands):
        raise error(f"'{e.ops[0]}' only tests a map lookup's result against None", e)
    ref = next(o for o in e.operands if not isinstance(o, A.NoneLit))
    ck.expr(ref)
    if not isinstance(ref.ty, RefType):
        raise error(f"{ref.ty} is never None: 'is None' tests the result of a map "
                    "lookup", ref)
    e.ty = BOOL
    if not ref.ty.maybe_none:
        raise never_none(ck, ref, e, e.ops[0] == "is not")
    e.resolved = NoneTest(ref, is_none=e.ops[0] == "is")


def never_none(ck: Checker, ref: A.Expr, test: A.Expr, answer: bool) -> Exception:
    """A test of a reference that can never be None (``CgroupStorage.get()``,
    a variable given only such references): its answer is known."""
    name = text_of(ck, ref)
    return error(f"`{name}` is never None, so this test is always {answer}", test,
                 note=f"use `{name}` directly: only a lookup that may find nothing "
                      "(HashMap.lookup, SockStorage.get) can give None")
