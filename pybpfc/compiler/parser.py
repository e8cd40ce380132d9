"""Source text to syntax tree: the parser's one entry point, :func:`parse`.

``grammar.lark`` defines the accepted syntax; lark turns it into LALR(1)
tables (:mod:`.grammar_tables`) and :mod:`.lalr` runs them over the tokens
of :mod:`.tokens` (laid out by :mod:`.indenter`).  :mod:`.tree_builder`
turns the parse tree into the nodes of :mod:`pybpfc.compiler.ast`, and
:mod:`.syntax_errors` turns every syntax error into a :class:`CompileError`
pointing at the offending text.
"""
from __future__ import annotations

from . import ast, lalr
from .errors import CompileError, Source
from .indenter import Indenter, LayoutError
from .lalr import UnexpectedCharacters, UnexpectedToken
from .syntax_errors import syntax_error
from .tokens import token_stream
from .tree_builder import TreeBuilder

__all__ = ["parse"]


def parse(source: Source) -> ast.Module:
    """Parse a whole program.  Raises CompileError for any syntax error."""
    # Python's own line-ending rules; the final newline ends the last statement.
    text = source.text.replace("\r\n", "\n").replace("\r", "\n") + "\n"
    indenter = Indenter()
    try:
        tree = lalr.parse(lalr.language()[0], token_stream(text, indenter))
    except LayoutError as problem:
        raise CompileError(problem.message, problem.pos, source, problem.note) from None
    except (UnexpectedCharacters, UnexpectedToken) as err:
        raise syntax_error(err, text, source, indenter) from None
    except RecursionError:
        raise CompileError("program nested too deeply to parse", None, source) from None
    except Exception as err:  # never let an internal error escape as a traceback
        raise CompileError(f"could not parse the program: {err}", None, source) from None
    try:
        return TreeBuilder(source).transform(tree)
    except RecursionError:
        raise CompileError("program nested too deeply to parse", None, source) from None
