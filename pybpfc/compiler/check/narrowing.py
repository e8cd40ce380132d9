"""What the checker learns from control flow: which map references are
known not to be None where, which loop variables stay in a constant range,
and whether a block always returns or leaves.
"""
from __future__ import annotations

from typing import Iterator, Optional

from .. import ast as A
from ..contract import WindowLengthTest
from ..types import RefType


# The fact that the option buffer holds at least N bytes, kept with the
# names of the references known not None (no variable has such a name).
_WINDOW_FACT = "len(ctx.optval) >= "


def window_fact(need: int) -> str:
    return f"{_WINDOW_FACT}{need}"


def window_holds(known: set[str], end: int) -> bool:
    """Whether a length test on every path here found the option buffer
    to hold ``end`` bytes: the verifier learned it from that test too."""
    return any(k.startswith(_WINDOW_FACT) and int(k[len(_WINDOW_FACT):]) >= end for k in known)


def facts(test: A.Expr) -> tuple[set[str], set[str]]:
    """The reference variables known not None when ``test`` is true, and
    when it is false; and what a length test found of the option buffer."""
    if isinstance(test, A.Compare) and isinstance(test.resolved, WindowLengthTest):
        fits = {window_fact(test.resolved.need)}
        return (set(), fits) if test.resolved.fits_is_false else (fits, set())
    if isinstance(test, A.Compare) and len(test.ops) == 1 and test.ops[0] in ("is", "is not"):
        name = next((o.id for o in test.operands if isinstance(o, A.Name)), None)
        known = {name} if name else set()
        return (known, set()) if test.ops[0] == "is not" else (set(), known)
    if (isinstance(test, A.Cast) and isinstance(test.value, A.Name)
            and isinstance(test.value.ty, RefType)):
        return {test.value.id}, set()
    if isinstance(test, A.UnaryOp) and test.op == "not":
        when_true, when_false = facts(test.operand)
        return when_false, when_true
    if isinstance(test, A.BoolOp):
        parts = [facts(v) for v in test.values]
        if test.op == "and":
            return set().union(*(t for t, _ in parts)), set()
        return set(), set().union(*(f for _, f in parts))
    return set(), set()


def note_reference(nonnull: set[str], t: A.Name, value: A.Expr) -> None:
    """A reference variable is known not None after it is given a value
    that cannot be None, and may be None after any other."""
    if not isinstance(t.ty, RefType):
        return
    if isinstance(value.ty, RefType) and not value.ty.maybe_none:
        nonnull.add(t.id)
    else:
        nonnull.discard(t.id)


def possible_values(e: A.Expr) -> Optional[set[int]]:
    """The values a constant, or a conditional choosing between constants,
    can have; None when that is not known at compile time."""
    if e.const is not None:
        return {int(e.const)}
    if isinstance(e, A.IfExp):
        a, b = possible_values(e.body), possible_values(e.orelse)
        return a | b if a is not None and b is not None else None
    return None


def always_returns(stmts: list[A.Stmt]) -> bool:
    """Whether every path through ``stmts`` ends in a return."""
    for s in stmts:
        if isinstance(s, A.Return):
            return True
        if isinstance(s, A.If) and always_returns(s.body) and always_returns(s.orelse):
            return True
        if isinstance(s, A.While) and _is_true(s.test) and not any(
                isinstance(b, A.Break) for b in _loop_level(s.body)):
            return True
    return False


def always_leaves(stmts: list[A.Stmt]) -> bool:
    """Whether no path through ``stmts`` reaches the statement after them
    (each ends in return, break or continue)."""
    for s in stmts:
        if isinstance(s, (A.Return, A.Break, A.Continue)):
            return True
        if isinstance(s, A.If) and always_leaves(s.body) and always_leaves(s.orelse):
            return True
    return always_returns(stmts)


def assigned_names(stmts: list[A.Stmt]) -> set[str]:
    """Every plain name assigned somewhere in ``stmts``, nested blocks
    included.  (Iterative: it runs before the blocks' nesting is checked.)"""
    names: set[str] = set()
    pending = list(stmts)
    while pending:
        s = pending.pop()
        if isinstance(s, (A.Assign, A.AnnAssign, A.AugAssign)) and isinstance(s.target, A.Name):
            names.add(s.target.id)
        for inner in ("body", "orelse"):
            pending.extend(getattr(s, inner, None) or ())
    return names


def _is_true(e: A.Expr) -> bool:
    return e.const is True or (isinstance(e, A.BoolLit) and e.value)


def _loop_level(stmts: list[A.Stmt]) -> Iterator[A.Stmt]:
    """Statements of a loop body, not descending into nested loops."""
    for s in stmts:
        yield s
        if isinstance(s, A.If):
            yield from _loop_level(s.body)
            yield from _loop_level(s.orelse)
