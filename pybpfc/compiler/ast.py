"""Syntax tree of the pybpfc language.

The parser builds these nodes; every node carries the position of the source
text it came from, so any later stage can point at the user's line.  The
checker annotates expressions in place: their type (``ty``), their value when
known at compile time (``const``), and what they are (``resolved``, a record
of :mod:`.contract`); lowering reads those and never guesses.
"""
from __future__ import annotations

from typing import Any, Iterator, Optional

from ..records import field, fields, record


@record(frozen=True)
class Pos:
    """1-based line and column of a node's first character; end is exclusive."""
    line: int
    col: int
    end_line: int
    end_col: int


@record(eq=False)
class Node:
    pos: Pos


# ---------------------------------------------------------------- expressions

@record(eq=False)
class Expr(Node):
    # Filled in by the checker: the expression's type (pybpfc.compiler.types),
    # its value when the checker could compute it at compile time, and what
    # it is (a record of pybpfc.compiler.contract; None for an operator).
    ty: Any = field(default=None, init=False, repr=False)
    const: Any = field(default=None, init=False, repr=False)
    resolved: Any = field(default=None, init=False, repr=False)


@record(eq=False)
class Name(Expr):
    id: str
    # Filled in by the checker: what the name refers to.
    symbol: Any = field(default=None, init=False, repr=False)


@record(eq=False)
class IntLit(Expr):
    value: int


@record(eq=False)
class BoolLit(Expr):
    value: bool


@record(eq=False)
class BytesLit(Expr):
    value: bytes


@record(eq=False)
class StrLit(Expr):
    value: str


@record(eq=False)
class NoneLit(Expr):
    pass


@record(eq=False)
class UnaryOp(Expr):
    op: str          # '-', '+', '~', 'not'
    operand: Expr


@record(eq=False)
class BinOp(Expr):
    op: str          # '+', '-', '*', '//', '%', '<<', '>>', '&', '|', '^', '/', '**', '@'
    left: Expr
    right: Expr


@record(eq=False)
class BoolOp(Expr):
    op: str          # 'and', 'or'
    values: list[Expr]


@record(eq=False)
class Compare(Expr):
    """``a < b <= c``: ops[i] compares operands[i] with operands[i + 1]."""
    operands: list[Expr]
    ops: list[str]   # '<', '<=', '>', '>=', '==', '!=', 'is', 'is not', 'in', 'not in'


@record(eq=False)
class IfExp(Expr):
    test: Expr
    body: Expr
    orelse: Expr


@record(eq=False)
class Attribute(Expr):
    value: Expr
    attr: str
    attr_pos: Pos    # position of the attribute name itself


@record(eq=False)
class Subscript(Expr):
    value: Expr
    index: Expr


@record(eq=False)
class Keyword(Node):
    name: str
    value: Expr


@record(eq=False)
class Call(Expr):
    func: Expr
    args: list[Expr]
    keywords: list[Keyword]


@record(eq=False)
class ListLit(Expr):
    elts: list[Expr]


@record(eq=False)
class Unsupported(Expr):
    """A construct the grammar recognises only to reject it by name,
    e.g. what='lambda', 'list comprehension', 'starred argument'."""
    what: str
    parts: list[Expr] = field(default_factory=list)   # a tuple's elements


# ----------------------------------------------------------------- statements

@record(eq=False)
class Stmt(Node):
    pass


@record(eq=False)
class ExprStmt(Stmt):
    value: Expr


@record(eq=False)
class Assign(Stmt):
    target: Expr
    value: Expr
    # Filled in by the checker: a KernelBytesCopy when a kernel struct's
    # byte array is copied into the target; None for a plain assignment.
    resolved: Any = field(default=None, init=False, repr=False)


@record(eq=False)
class AnnAssign(Stmt):
    target: Expr
    annotation: Expr
    value: Optional[Expr]


@record(eq=False)
class AugAssign(Stmt):
    target: Expr
    op: str          # the binary operator: '+', '-', ...
    value: Expr
    # Filled in by the checker: an AtomicUpdate of pybpfc.compiler.contract
    # when the target is memory other CPUs write too; None for a plain update.
    resolved: Any = field(default=None, init=False, repr=False)


@record(eq=False)
class If(Stmt):
    test: Expr
    body: list[Stmt]
    orelse: list[Stmt]   # an elif becomes a single nested If here


@record(eq=False)
class While(Stmt):
    test: Expr
    body: list[Stmt]
    orelse: list[Stmt]   # rejected by the checker when not empty
    else_pos: Optional[Pos] = field(default=None, repr=False)   # its `else` keyword


@record(eq=False)
class For(Stmt):
    target: Expr
    iter: Expr
    body: list[Stmt]
    orelse: list[Stmt]   # rejected by the checker when not empty
    else_pos: Optional[Pos] = field(default=None, repr=False)   # its `else` keyword


@record(eq=False)
class Break(Stmt):
    pass


@record(eq=False)
class Continue(Stmt):
    pass


@record(eq=False)
class Pass(Stmt):
    pass


@record(eq=False)
class Return(Stmt):
    value: Optional[Expr]


@record(eq=False)
class Global(Stmt):
    names: list[str]


@record(eq=False)
class UnsupportedStmt(Stmt):
    """A statement recognised only to be rejected by name,
    e.g. what='try statement', 'with statement', 'nonlocal', 'del', 'assert'."""
    what: str


# --------------------------------------------------------------- definitions

@record(eq=False)
class Arg(Node):
    name: str
    annotation: Optional[Expr]


@record(eq=False)
class FunctionDef(Stmt):
    name: str
    name_pos: Pos
    args: list[Arg]
    returns: Optional[Expr]
    body: list[Stmt]
    decorators: list[Expr]
    # Set when the signature uses something unsupported: '*args', '**kwargs',
    # 'default argument value', 'keyword-only argument', 'async function'.
    unsupported: Optional[str] = None
    unsupported_pos: Optional[Pos] = None


@record(eq=False)
class ClassDef(Stmt):
    name: str
    name_pos: Pos
    bases: list[Expr]
    body: list[Stmt]
    decorators: list[Expr]


@record(eq=False)
class ImportFrom(Stmt):
    module: str
    names: list[tuple[str, Optional[str]]]   # (name, alias); ('*', None) for a star import
    # Where the module's name and each imported name stand, for errors.
    module_pos: Optional[Pos] = field(default=None, repr=False)
    name_pos: list[Pos] = field(default_factory=list, repr=False)


@record(eq=False)
class Import(Stmt):
    names: list[tuple[str, Optional[str]]]
    name_pos: list[Pos] = field(default_factory=list, repr=False)


@record(eq=False)
class Module(Node):
    body: list[Stmt]


# ------------------------------------------------- nodes the checker inserts

@record(eq=False)
class Cast(Expr):
    """A conversion the checker made explicit (integer widening, an untyped
    literal taking a type, a truth test).  ``ty`` is the target type."""
    value: Expr


def statement_lists(stmts: list[Stmt]) -> Iterator[list[Stmt]]:
    """``stmts`` and every statement list nested in it (bodies, else
    branches), outermost first."""
    yield stmts
    for s in stmts:
        for f in fields(s):
            value = getattr(s, f.name)
            if isinstance(value, list) and value and isinstance(value[0], Stmt):
                yield from statement_lists(value)
