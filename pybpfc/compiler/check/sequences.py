"""Loops over a sequence: ``for c in buf`` and ``for i, c in
enumerate(buf)`` over a bytearray or a list.

Each is checked as the range loop it is, over the sequence's length,
which is known at compile time: ``for i in range(len(buf)): c = buf[i]``.
The index runs inside the sequence, so the verifier needs no test of it.
"""
from __future__ import annotations

from typing import Optional

from .. import ast as A
from ..types import ArrayType, BytesLitType
from .expressions import is_lvalue
from .state import Checker, arity, error

WORKS = "for c in buf:` or `for i, c in enumerate(buf):"


def rewrite_sequence_loop(ck: Checker, s: A.For) -> None:
    """Turn a loop over a sequence into the range loop it means, in place;
    leave a loop over range(...) as it is."""
    it, target = s.iter, s.target
    index: Optional[A.Name] = None
    if is_tuple(target):
        if not is_call_of(ck, it, "enumerate"):
            raise error("a for loop unpacks two names only from enumerate()", target,
                        note=f"write `{WORKS}`")
        assert isinstance(it, A.Call) and isinstance(target, A.Unsupported)
        arity(it, 1, "enumerate")
        if it.keywords:
            raise error("enumerate() takes no start here: add it to the index", it.keywords[0])
        parts = target.parts
        if len(parts) != 2 or not all(isinstance(p, A.Name) for p in parts):
            raise error("enumerate() gives an index and an element: write `for i, c in "
                        "enumerate(buf):`", target)
        index, target = parts[0], parts[1]  # type: ignore[assignment]
        it = it.args[0]
    elif is_call_of(ck, it, "range"):
        return
    elif is_call_of(ck, it, "enumerate"):
        raise error("enumerate() gives an index and an element: write `for i, c in "
                    "enumerate(buf):`", target)
    if isinstance(it, A.ListLit) or is_tuple(it):
        raise error("a for loop runs over a bytearray or a list variable, not a display",
                    it, note="name the values first: `xs: list[u32] = [1, 2]`, then "
                             "`for x in xs:`")
    ck.expr(it)
    if not isinstance(it.ty, (ArrayType, BytesLitType)):
        raise error(f"a for loop runs over range(...), a bytearray or a list, not {it.ty}", it, note=f"write `for i in range(n):` or `{WORKS}`")
    if isinstance(it.ty, BytesLitType):
        raise error("a for loop runs over a bytearray or a list variable, not a bytes "
                    "constant", it, note="copy it into one first: `buf = bytearray(b\"...\")`")
    if not (is_lvalue(it) and copyable(it)):
        raise error("a for loop runs over a bytearray or a list variable: assign the "
                    "sequence to one first", it)
    length = it.ty.length
    counter = index or A.Name(it.pos, f"for.{s.pos.line}.{s.pos.col}")  # no name a user has
    element = A.Assign(target.pos, target,
                       A.Subscript(it.pos, copy(it), A.Name(it.pos, counter.id)))
    s.target = counter
    s.iter = A.Call(it.pos, A.Name(it.pos, "range"), [A.IntLit(it.pos, length)], [])
    s.iter.func.symbol = ck.scope["range"]     # type: ignore[attr-defined]
    s.body = [element] + s.body


def is_tuple(e: A.Expr) -> bool:
    return isinstance(e, A.Unsupported) and e.what == "tuple"


def is_call_of(ck: Checker, e: A.Expr, builtin: str) -> bool:
    return (isinstance(e, A.Call) and isinstance(e.func, A.Name)
            and ck.is_builtin(e.func, builtin))


def copyable(e: A.Expr) -> bool:
    """A variable, its fields and its elements at constant indexes."""
    if isinstance(e, A.Name):
        return True
    if isinstance(e, A.Attribute):
        return copyable(e.value)
    return isinstance(e, A.Subscript) and isinstance(e.index, A.IntLit) and copyable(e.value)


def copy(e: A.Expr) -> A.Expr:
    """A fresh node for the sequence, read once more at each element."""
    if isinstance(e, A.Name):
        return A.Name(e.pos, e.id)
    if isinstance(e, A.Attribute):
        return A.Attribute(e.pos, copy(e.value), e.attr, e.attr_pos)
    assert isinstance(e, A.Subscript) and isinstance(e.index, A.IntLit)
    return A.Subscript(e.pos, copy(e.value), A.IntLit(e.index.pos, e.index.value))
