"""Running grammar.lark's LALR(1) tables: the lexer, the parser loop and the
parse tree.

lark analyses the grammar into tables once (:mod:`.grammar_tables`); a build
needs only to run them, which is what this module does, without importing
lark.  It follows lark's conventions (lark's `basic` lexer, positions
propagated to every tree node, `[x]` leaving None when absent) so that the
trees are the ones lark itself would build; tests/compiler/test_lalr.py compares the
two on every program the tests have.
"""
from __future__ import annotations

import functools
import re
from typing import Any, Iterable, Iterator, Optional

from . import grammar_tables
from .grammar_tables import Tables

END = "$END"


class Token(str):
    """A piece of the source text with its kind and position.  Lines and
    columns are 1-based; offsets 0-based; ends are exclusive."""

    type: str
    start_pos: int
    line: int
    column: int
    end_line: int
    end_column: int
    end_pos: int

    def __new__(cls, type_: str, value: str, start_pos: int = 0, line: int = 1,
                column: int = 1, end_line: int = 1, end_column: int = 1,
                end_pos: int = 0) -> "Token":
        token = super().__new__(cls, value)
        token.type = type_
        token.start_pos, token.line, token.column = start_pos, line, column
        token.end_line, token.end_column, token.end_pos = end_line, end_column, end_pos
        return token

    def retyped(self, type_: str) -> "Token":
        """The same text at the same place, of another kind."""
        return Token(type_, str(self), self.start_pos, self.line, self.column,
                     self.end_line, self.end_column, self.end_pos)

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {str(self)!r})"


class Meta:
    """Where a tree node's text is: the span from its first to its last token,
    brackets and keywords included.  `empty` when the node has no text.
    (Slots: a parse makes one per reduction, and a dict each would take
    most of a large program's memory.)"""
    __slots__ = ("empty", "line", "column", "start_pos", "end_line", "end_column", "end_pos",
                 "container_line", "container_column", "container_start_pos",
                 "container_end_line", "container_end_column", "container_end_pos")

    line: int
    column: int
    start_pos: int
    end_line: int
    end_column: int
    end_pos: int
    # The span of the node this one stands for when it is inlined (lark's names).
    container_line: int
    container_column: int
    container_start_pos: int
    container_end_line: int
    container_end_column: int
    container_end_pos: int

    def __init__(self) -> None:
        self.empty = True


class Tree:
    """A rule's node: its name (the rule's, or the alternative's alias) and its
    children (trees, tokens, or None where an optional part is absent)."""
    __slots__ = ("data", "children", "meta")

    def __init__(self, data: str, children: list, meta: Optional[Meta] = None):
        self.data = data
        self.children = children
        self.meta = meta if meta is not None else Meta()

    def __repr__(self) -> str:
        return f"Tree({self.data!r}, {self.children!r})"


class UnexpectedCharacters(Exception):
    """No terminal of the grammar matches the text at this offset."""

    def __init__(self, pos_in_stream: int, line: int, column: int):
        super().__init__(f"no terminal matches the text at line {line} column {column}")
        self.pos_in_stream, self.line, self.column = pos_in_stream, line, column


class UnexpectedToken(Exception):
    """The parser in `state` cannot take `token`; `expected` lists the
    terminals it could have taken there."""

    def __init__(self, token: Token, state: int, expected: frozenset[str]):
        super().__init__(f"unexpected {token.type} at line {token.line} column {token.column}")
        self.token, self.state, self.expected = token, state, expected
        self.line, self.column = token.line, token.column


@functools.cache
def language() -> tuple[Tables, "Lexer"]:
    """grammar.lark's tables and a lexer for them, loaded once."""
    tables = grammar_tables.load()
    return tables, Lexer(tables)


# ---------------------------------------------------------------- lexer

class Lexer:
    """lark's basic lexer: at each offset the first terminal (in the tables'
    order) that matches wins; a name that is exactly a keyword becomes that
    keyword; ignored terminals are dropped but still counted for positions."""

    def __init__(self, tables: Tables):
        self._scanner = re.compile("|".join(f"(?P<{name}>{regexp})"
                                            for name, regexp in tables.scanner))
        self._ignore = frozenset(tables.ignore)
        self._keywords = tables.keywords

    def lex(self, text: str) -> Iterator[Token]:
        match = self._scanner.match
        ignore, keywords = self._ignore, self._keywords
        pos, line, line_start, end = 0, 1, 0, len(text)
        while pos < end:
            found = match(text, pos)
            if found is None:
                raise UnexpectedCharacters(pos, line, pos - line_start + 1)
            value = found.group()
            kind = found.lastgroup
            assert kind is not None
            start, start_line, start_column = pos, line, pos - line_start + 1
            newlines = value.count("\n")
            if newlines:
                line += newlines
                line_start = pos + value.rindex("\n") + 1
            pos += len(value)
            if kind in ignore:
                continue
            retype = keywords.get(kind)
            if retype is not None:
                kind = retype.get(value, kind)
            yield Token(kind, value, start, start_line, start_column,
                        line, pos - line_start + 1, pos)


# ---------------------------------------------------------------- parser

def parse(tables: Tables, tokens: Iterable[Token]) -> Tree:
    """Run the LALR(1) automaton over `tokens`, building lark's parse tree.
    Raises UnexpectedToken where a token does not fit."""
    actions = tables.actions
    rules = tables.rules
    states: list[int] = [tables.start_state]
    values: list[Any] = []
    token: Optional[Token] = None

    def feed(token: Token, at_end: bool) -> Any:
        while True:
            state = states[-1]
            action = actions[state].get(token.type)
            if action is None:
                expected = frozenset(s for s in actions[state] if s.isupper())
                raise UnexpectedToken(token, state, expected)
            if action >= 0:  # shift to that state
                states.append(action)
                values.append(token)
                return None
            rule = rules[-action - 1]
            if rule.passes_through:
                # A `?rule` of one symbol hands on its child, span and all:
                # the most common reduction by far (each `test` passes through
                # every level of precedence down to its `atom`).
                states[-1] = actions[states[-2]][rule.origin]
            else:
                size = rule.size
                if size:
                    children = values[-size:]
                    del states[-size:]
                    del values[-size:]
                else:
                    children = []
                states.append(actions[states[-1]][rule.origin])
                values.append(_reduce(rule, children))
            if at_end and states[-1] == tables.end_state:
                return values[-1]

    for token in tokens:
        feed(token, False)
    if token is None:
        end = Token(END, "", 0, 1, 1, 1, 1, 0)
    else:
        end = Token(END, "", token.start_pos, token.line, token.column,
                    token.end_line, token.end_column, token.end_pos)
    return feed(end, True)


def _reduce(rule: Any, raw: list) -> Any:
    """The node for one reduction, shaped as lark shapes it: filtered tokens
    dropped, `_rules` spliced into their parent, None for an absent `[x]`,
    and a `?rule` with one child replaced by that child."""
    keep = rule.keep
    start = 0
    if keep and keep[0][1] and not keep[0][2]:
        # A repetition (`x*` is a left-recursive `_rule`) splices the list so
        # far into the new node: take that list over instead of copying it,
        # or a long repetition costs time quadratic in its length.  The
        # spliced node itself is dropped.
        children = raw[keep[0][0]].children
        start = 1
    else:
        children = []
    for index, splice, nones in keep[start:] if start else keep:
        if nones:
            children += [None] * nones
        if splice:
            children += raw[index].children
        else:
            children.append(raw[index])
    if rule.trailing_nones:
        children += [None] * rule.trailing_nones
    if rule.inline_single and len(children) == 1:
        node = children[0]
        if not isinstance(node, Tree):
            return node
    else:
        node = Tree(rule.name, children)
    _propagate_positions(node.meta, raw)
    return node


def _propagate_positions(meta: Meta, raw: list) -> None:
    # A node spans its children's text, including the tokens the tree drops.
    # An inlined node keeps its own span but records its container's, which
    # is the one its parent starts or ends with.  (The hottest code of a
    # parse, hence written out attribute by attribute.)
    first = _first_meta(raw)
    if first is None:
        return
    last = _first_meta(reversed(raw))
    if isinstance(first, Token):
        line, column, start_pos = first.line, first.column, first.start_pos
    else:
        line, column, start_pos = (first.container_line, first.container_column,
                                   first.container_start_pos)
    if isinstance(last, Token):
        end_line, end_column, end_pos = last.end_line, last.end_column, last.end_pos
    else:
        end_line, end_column, end_pos = (last.container_end_line, last.container_end_column,
                                         last.container_end_pos)
    if meta.empty:
        meta.line, meta.column, meta.start_pos = line, column, start_pos
        meta.end_line, meta.end_column, meta.end_pos = end_line, end_column, end_pos
        meta.empty = False
    meta.container_line, meta.container_column, meta.container_start_pos = (
        line, column, start_pos)
    meta.container_end_line, meta.container_end_column, meta.container_end_pos = (
        end_line, end_column, end_pos)


def _first_meta(children: Iterable) -> Any:
    for child in children:
        if isinstance(child, Tree):
            if not child.meta.empty:
                return child.meta
        elif isinstance(child, Token):
            return child
    return None
