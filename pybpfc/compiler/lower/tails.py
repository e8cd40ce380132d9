"""Which statement sequences that end a function are the same, so that
lowering emits each once and every other path jumps to it.

A hook that refuses in several places usually repeats the same few
statements before each ``return`` (``refused += 1; return REJECT``).
LLVM's machine-level tail merging would share them, but pybpfc keeps it
off: it once made one instruction serve two kinds of pointer, which the
verifier refuses.  Sharing whole checked statements instead is safe: two
sequences are the same only when every node, its type, its compile-time
value and what the checker resolved it to are the same, and they name
the same variables, so both paths run exactly the same code on the same
kinds of values.

Only the last few statements of a sequence ending in ``return`` are
shared, and none with ``break`` or ``continue`` (whose targets differ from
loop to loop).
"""
from __future__ import annotations

from typing import Optional

from ... import records
from .. import ast as A
from ..symbols import FuncSym, GlobalVar, LocalVar, MapVar

# How many statements before a return, at most, are shared.  Each shared
# sequence starts afresh (context reads made before it cannot be reused
# inside it), so longer tails cost reads and gain little.
MAX_TAIL = 8

# Objects that stand for one variable, function or map: the same object
# means the same thing, equal fields do not.
_IDENTITIES = (LocalVar, GlobalVar, FuncSym, MapVar)


class _NotShareable(Exception):
    pass


def repeated_tails(body: list[A.Stmt]) -> set[tuple[object, ...]]:
    """The keys of the tails that end two or more statement sequences of a
    function's ``body``: only those are worth a block of their own."""
    seen: set[tuple[object, ...]] = set()
    repeated: set[tuple[object, ...]] = set()
    for stmts in A.statement_lists(body):
        for key in tail_keys(stmts):
            if key is not None:
                (repeated if key in seen else seen).add(key)
    return repeated


def tail_keys(stmts: list[A.Stmt]) -> list[Optional[tuple[object, ...]]]:
    """For each index i of ``stmts``, a key equal for equal sequences
    ``stmts[i:]`` when that sequence may be shared, else None."""
    keys: list[Optional[tuple[object, ...]]] = [None] * len(stmts)
    if not stmts or not isinstance(stmts[-1], A.Return):
        return keys
    suffix: tuple[object, ...] = ()
    for i in range(len(stmts) - 1, max(len(stmts) - 1 - MAX_TAIL, -1), -1):
        try:
            suffix = (_key(stmts[i], set()),) + suffix
        except _NotShareable:
            break
        keys[i] = suffix
    return keys


def _key(value: object, seen: set[int]) -> object:
    if value is None or isinstance(value, (bool, int, str, bytes, float)):
        return (type(value).__name__, value)
    if isinstance(value, (A.Break, A.Continue)):
        raise _NotShareable
    if isinstance(value, _IDENTITIES):
        return ("same", id(value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,) + tuple(_key(v, seen) for v in value)
    if isinstance(value, frozenset):
        return ("frozenset",) + tuple(sorted((_key(v, seen) for v in value), key=repr))
    if hasattr(type(value), "__record_fields__"):
        if id(value) in seen:           # a cycle: play safe
            raise _NotShareable
        seen.add(id(value))
        try:
            return (type(value),) + tuple(
                (f.name, _key(getattr(value, f.name), seen))
                for f in records.fields(value) if f.name != "pos")
        finally:
            seen.discard(id(value))
    # Anything else (an ABI row, an enum member): shared only if it is the
    # very same object.
    return ("same", id(value))
