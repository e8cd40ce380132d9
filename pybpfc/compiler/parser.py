"""Source text to syntax tree: the parser's one entry point, :func:`parse`.

:mod:`.source` says what text is read at all.  ``grammar.lark`` defines the
accepted syntax; lark turns it into LALR(1) tables (:mod:`.grammar_tables`)
and :mod:`.lalr` runs them over the tokens of :mod:`.tokens` (laid out by
:mod:`.indenter`).  :mod:`.tree_builder` turns the parse tree into the
nodes of :mod:`pybpfc.compiler.ast`, :mod:`.tree_rules` holds the whole
tree to Python's rules and pybpfc's limits, and :mod:`.syntax_errors` turns
every syntax error into a :class:`CompileError` at the offending text.

Only a mistake in the program is a CompileError.  Any other exception is a
bug in the parser, raised as an :class:`InternalError` (the command line
exits with status 2 for it), never disguised as the user's mistake.
"""
from __future__ import annotations

from typing import Optional

from . import ast, lalr
from .ast import Pos
from .errors import CompileError, InternalError, Source
from .indenter import Indenter, LayoutError
from .lalr import UnexpectedCharacters, UnexpectedToken
from .positions import pos_of_token
from .source import checked_text
from .syntax_errors import syntax_error
from .tokens import token_stream
from .tree_builder import TreeBuilder
from .tree_rules import check_tree

__all__ = ["parse"]


def parse(source: Source) -> ast.Module:
    """Parse a whole program.  Raises CompileError for any mistake in it,
    InternalError for a bug in the parser."""
    indenter = Indenter()
    try:
        return _parse(source, indenter)
    except (CompileError, InternalError):
        raise
    except Exception as err:
        raise InternalError("parser", err, _last_position(indenter), source) from err


def _parse(source: Source, indenter: Indenter) -> ast.Module:
    text = checked_text(source)
    try:
        tree = lalr.parse(lalr.language()[0], token_stream(text, indenter))
    except LayoutError as problem:
        raise CompileError(problem.message, problem.pos, source, problem.note) from None
    except (UnexpectedCharacters, UnexpectedToken) as err:
        raise syntax_error(err, text, source, indenter) from None
    module = TreeBuilder(source).transform(tree)
    check_tree(module, source)
    return module


def _last_position(indenter: Indenter) -> Optional[Pos]:
    """Where the parser was when it failed: its last token."""
    return pos_of_token(indenter.last) if indenter.last is not None else None
