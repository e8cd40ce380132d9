"""pybpfc.records makes the compiler's data classes the way dataclasses
would, for the options the compiler uses.  Each shape is declared twice,
with ``record`` and with ``dataclasses.dataclass``, and the two must agree:
constructor, defaults, repr, equality, hashing and immutability.

Run from the repository root: python -m pytest tests/test_records.py -q
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional

import pytest

from pybpfc import records
from pybpfc.records import FrozenInstanceError, field, record

Decorator = Callable[..., Any]


def shapes(make: Decorator, make_field: Callable[..., Any]) -> dict[str, type]:
    """The same classes, made with ``make``."""

    @make(eq=False)
    class Node:
        pos: int

    @make(eq=False)
    class Expr(Node):
        ty: Any = make_field(default=None, init=False, repr=False)
        const: Any = make_field(default=None, init=False, repr=False)

    @make(eq=False)
    class Name(Expr):
        id: str
        symbol: Any = make_field(default=None, init=False, repr=False)

    @make(eq=False)
    class Block(Node):
        body: list = make_field(default_factory=list)
        label: Optional[str] = None
        seen: list = make_field(default_factory=list, init=False)
        later: int = make_field(init=False)

    @make(frozen=True)
    class Pos:
        line: int
        col: int

    @make(frozen=True)
    class Int:
        name: str
        bits: int
        signed: bool = False

        def __str__(self) -> str:
            return self.name

    @make(frozen=True, eq=False)
    class Map:
        name: str
        entries: int

    @make
    class Symbol:
        name: str
        uses: list = make_field(default_factory=list)

    @make(frozen=True)
    class Wide(Int):
        bits: int = 64       # redeclared: keeps its place, gains a default
        lanes: int = 1

    return {c.__name__: c for c in (Node, Expr, Name, Block, Pos, Int, Map, Symbol, Wide)}


OURS = shapes(record, field)
THEIRS = shapes(dataclasses.dataclass, dataclasses.field)

CALLS: list[tuple[str, tuple, dict]] = [
    ("Name", (1, "x"), {}), ("Name", (), {"pos": 2, "id": "y"}),
    ("Block", (3,), {}), ("Block", (3, [1, 2]), {"label": "l"}),
    ("Pos", (1, 2), {}), ("Pos", (1,), {"col": 5}),
    ("Int", ("u32", 32), {}), ("Int", ("i8", 8, True), {}),
    ("Map", ("m", 4), {}), ("Symbol", ("s",), {}), ("Symbol", ("s", [1]), {}),
    ("Wide", ("u64",), {}), ("Wide", ("u128", 128, False, 2), {}),
]


def _outcome(thunk: Callable[[], Any]) -> Any:
    try:
        return ("ok", thunk())
    except Exception as err:
        if isinstance(err, (FrozenInstanceError, dataclasses.FrozenInstanceError)):
            return ("raises", "frozen")
        return ("raises", type(err))


@pytest.mark.parametrize("name, args, kwargs", CALLS)
def test_objects_are_what_dataclasses_makes(name: str, args: tuple, kwargs: dict) -> None:
    ours, theirs = OURS[name](*args, **kwargs), THEIRS[name](*args, **kwargs)
    assert vars(ours) == vars(theirs)
    assert _outcome(lambda: repr(ours)) == _outcome(lambda: repr(theirs))
    assert _outcome(lambda: str(ours)) == _outcome(lambda: str(theirs))
    twin_ours, twin_theirs = OURS[name](*args, **kwargs), THEIRS[name](*args, **kwargs)
    assert (ours == twin_ours) == (theirs == twin_theirs)
    assert (ours != twin_ours) == (theirs != twin_theirs)
    assert _outcome(lambda: hash(ours) == hash(twin_ours)) == \
        _outcome(lambda: hash(theirs) == hash(twin_theirs))
    field_name = next(iter(vars(ours)))
    assert _outcome(lambda: setattr(ours, field_name, 9)) == \
        _outcome(lambda: setattr(theirs, field_name, 9))
    assert _outcome(lambda: setattr(ours, "other", 9)) == \
        _outcome(lambda: setattr(theirs, "other", 9))
    assert [f.name for f in records.fields(ours)] == \
        [f.name for f in dataclasses.fields(theirs)]


@pytest.mark.parametrize("name, args, kwargs", [
    ("Name", (1,), {}), ("Name", (1, "x", 3), {}), ("Name", (1,), {"id": "x", "ty": 3}),
    ("Pos", (1, 2), {"line": 1}), ("Pos", (), {"line": 1, "col": 2, "row": 3}),
    ("Int", (), {}), ("Wide", ("a", 1, True, 1, 5), {})])
def test_bad_calls_are_refused_alike(name: str, args: tuple, kwargs: dict) -> None:
    ours = _outcome(lambda: OURS[name](*args, **kwargs))
    theirs = _outcome(lambda: THEIRS[name](*args, **kwargs))
    assert ours[0] == theirs[0] == "raises"
    assert ours == theirs


def test_default_factories_give_each_object_its_own_value() -> None:
    a, b = OURS["Block"](1), OURS["Block"](2)
    a.body.append(1)
    assert b.body == []


def test_a_frozen_record_refuses_deleting_a_field_and_is_a_set_member() -> None:
    pos = OURS["Pos"](1, 2)
    with pytest.raises(FrozenInstanceError):
        del pos.line
    assert {pos, OURS["Pos"](1, 2)} == {pos}
    assert pos != THEIRS["Pos"](1, 2)      # another class, however alike


def test_an_unhashable_record_and_identity_records() -> None:
    with pytest.raises(TypeError):
        hash(OURS["Symbol"]("s"))
    a, b = OURS["Map"]("m", 1), OURS["Map"]("m", 1)
    assert a != b and len({a, b}) == 2
