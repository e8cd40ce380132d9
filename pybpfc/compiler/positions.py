"""Positions in the source text (:class:`.ast.Pos`) of tokens, parse-tree
nodes and offsets: 1-based lines and columns counted in characters, ends
exclusive."""
from __future__ import annotations

from .ast import Pos
from .lalr import Meta, Token


def pos_of_token(token: Token) -> Pos:
    return Pos(token.line, token.column, token.end_line, token.end_column)


def pos_of_meta(meta: Meta) -> Pos:
    return Pos(meta.line, meta.column, meta.end_line, meta.end_column)


def keyword_pos(meta: Meta, keyword: str) -> Pos:
    """The position of the keyword a rule starts with."""
    return Pos(meta.line, meta.column, meta.line, meta.column + len(keyword))


def pos_at_offset(text: str, offset: int, width: int = 1) -> Pos:
    """The position of `width` characters from `offset` in `text`."""
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Pos(line, col, line, col + width)
