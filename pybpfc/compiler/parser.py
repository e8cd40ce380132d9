"""Source text to syntax tree.

``grammar.lark`` defines the accepted syntax; lark turns it into LALR(1)
tables (:mod:`.grammar_tables`) and :mod:`.lalr` runs them behind the
indenting post-lexer here.  This module turns the parse tree into the nodes
of :mod:`pybpfc.compiler.ast` (each with its exact source position), and
turns every syntax error into a :class:`CompileError` pointing at the
offending text.

Constructs the language does not support are parsed anyway and come out as
``ast.Unsupported`` / ``ast.UnsupportedStmt`` nodes (or a flag on
``FunctionDef``), so that the checker can reject them by name.

Public API: :func:`parse`.
"""
from __future__ import annotations

import ast as python_ast
import functools
import warnings
from typing import Iterable, Iterator, NamedTuple, Optional

from . import ast, grammar_tables, lalr
from .ast import Pos
from .errors import CompileError, Source
from .lalr import Token, Tree, UnexpectedCharacters, UnexpectedToken

__all__ = ["parse"]


def parse(source: Source) -> ast.Module:
    """Parse a whole program.  Raises CompileError for any syntax error."""
    # Python's own line-ending rules; the final newline ends the last statement.
    text = source.text.replace("\r\n", "\n").replace("\r", "\n") + "\n"
    tables, lexer = _language()
    indenter = _Indenter()
    try:
        tree = lalr.parse(tables, indenter.process(lexer.lex(text)))
    except _TokenizeError as problem:
        raise CompileError(problem.message, problem.pos, source, problem.note) from None
    except (UnexpectedCharacters, UnexpectedToken) as err:
        raise _syntax_error(err, text, source, indenter) from None
    except RecursionError:
        raise CompileError("program nested too deeply to parse", None, source) from None
    except Exception as err:  # never let an internal error escape as a traceback
        raise CompileError(f"could not parse the program: {err}", None, source) from None
    try:
        return _TreeBuilder(source).transform(tree)
    except RecursionError:
        raise CompileError("program nested too deeply to parse", None, source) from None


@functools.cache
def _language() -> tuple[grammar_tables.Tables, lalr.Lexer]:
    tables = grammar_tables.load()
    return tables, lalr.Lexer(tables)


# ------------------------------------------------------------------ positions

def _pos_of_meta(meta) -> Pos:
    return Pos(meta.line, meta.column, meta.end_line, meta.end_column)


def _pos_of_token(token: Token) -> Pos:
    return Pos(token.line, token.column, token.end_line, token.end_column)


def _keyword_pos(meta, keyword: str) -> Pos:
    """The position of the keyword a rule starts with."""
    return Pos(meta.line, meta.column, meta.line, meta.column + len(keyword))


def _pos_at_offset(text: str, offset: int, width: int = 1) -> Pos:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Pos(line, col, line, col + width)


# ---------------------------------------------------------------- post-lexer

_NEWLINE = "_NEWLINE"
_OPENERS = {"LPAR": ")", "LSQB": "]", "LBRACE": "}"}  # each with its closing text
_CLOSERS = {"RPAR", "RSQB", "RBRACE"}


class _TokenizeError(Exception):
    """A mistake found before parsing: indentation or bracket nesting."""

    def __init__(self, message: str, pos: Pos, note: Optional[str] = None,
                 unclosed_offset: Optional[int] = None):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.note = note
        # For "'(' was never closed": where that bracket is in the text.
        self.unclosed_offset = unclosed_offset


class _Indenter:
    """Python's layout rules on top of the lexer's token stream.

    Emits _INDENT/_DEDENT around indented blocks and drops line breaks inside
    brackets, comparing indentation as text so that tabs mixed with spaces
    are an error rather than a guess; checks that brackets match; and retypes
    the soft keywords `match`/`case` (plain names elsewhere) where they start
    a match statement or one of its cases.  One per parse: after a syntax
    error, its state tells whether the error is inside brackets.
    """
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"

    def __init__(self) -> None:
        self.indents = [""]             # the indentation of each open block
        self.match_blocks = [False]     # whether that block holds `case` clauses
        self.open_brackets: list[Token] = []
        self.after_match_header = False

    def process(self, stream: Iterable[Token]) -> Iterator[Token]:
        return self._process(stream)

    def _process(self, stream: Iterable[Token]) -> Iterator[Token]:
        tokens = iter(stream)
        at_line_start = True
        first_line = True
        last: Optional[Token] = None
        for token in tokens:
            if at_line_start:
                at_line_start = False
                if first_line and token.type != _NEWLINE and token.column > 1:
                    raise _TokenizeError("unexpected indent", _pos_of_token(token))
                first_line = False
                if _is_name(token, "case") and self.match_blocks[-1]:
                    token = _retyped(token, "CASE")
                elif _is_name(token, "match"):
                    # Only the end of the line tells a match statement
                    # (`match x:`) from a use of the name `match`.
                    line = [token, *_rest_of_line(tokens)]
                    if _is_match_header(line):
                        line[0] = _retyped(token, "MATCH")
                        self.after_match_header = True
                    for queued in line:
                        yield from self._emit(queued)
                    last = line[-1]
                    at_line_start = last.type == _NEWLINE
                    continue
            yield from self._emit(token)
            last = token
            at_line_start = token.type == _NEWLINE and not self.open_brackets

        if self.open_brackets:
            opener = self.open_brackets[-1]
            raise _TokenizeError(f"'{opener}' was never closed", _pos_of_token(opener),
                                 unclosed_offset=opener.start_pos)
        while len(self.indents) > 1:
            self.indents.pop()
            self.match_blocks.pop()
            yield _marker(self.DEDENT_type, last)

    def _emit(self, token: Token) -> Iterator[Token]:
        if token.type == _NEWLINE:
            yield from self.handle_NL(token)
            return
        if token.type in _OPENERS:
            self.open_brackets.append(token)
        elif token.type in _CLOSERS:
            if not self.open_brackets:
                raise _TokenizeError(f"unmatched '{token}'", _pos_of_token(token))
            opener = self.open_brackets.pop()
            if _OPENERS[opener.type] != token:
                note = None
                if opener.line != token.line:
                    note = f"the '{opener}' is on line {opener.line}"
                raise _TokenizeError(f"closing '{token}' does not match opening '{opener}'",
                                     _pos_of_token(token), note)
        yield token

    def handle_NL(self, token: Token) -> Iterator[Token]:
        if self.open_brackets:
            return  # line breaks inside brackets are insignificant
        yield token
        opens_match_block, self.after_match_header = self.after_match_header, False
        indent = token.rsplit("\n", 1)[1]
        current = self.indents[-1]
        if indent == current:
            return
        if indent.startswith(current) and not _mixes_tabs_and_spaces(indent):
            self.indents.append(indent)
            self.match_blocks.append(opens_match_block)
            yield _marker(self.INDENT_type, token)
            return
        if indent in self.indents:
            while self.indents[-1] != indent:
                self.indents.pop()
                self.match_blocks.pop()
                yield _marker(self.DEDENT_type, token)
            return
        where = Pos(token.end_line, 1, token.end_line, token.end_column)
        if _mixes_tabs_and_spaces(indent + "".join(self.indents)):
            raise _TokenizeError("inconsistent use of tabs and spaces in indentation", where,
                                 "indent with spaces only (or with tabs only)")
        raise _TokenizeError("unindent does not match any outer indentation level", where)


def _is_name(token: Token, word: str) -> bool:
    return token.type == "NAME" and token == word


def _retyped(token: Token, kind: str) -> Token:
    return token.retyped(kind)


def _rest_of_line(tokens: Iterator[Token]) -> Iterator[Token]:
    """The tokens up to and including the line break that ends this logical line."""
    depth = 0
    for token in tokens:
        yield token
        if token.type in _OPENERS:
            depth += 1
        elif token.type in _CLOSERS:
            depth = max(depth - 1, 0)
        elif token.type == _NEWLINE and depth == 0:
            return


def _is_match_header(line: list[Token]) -> bool:
    # No simple statement can end with ':', so `match ... :` is a match statement.
    return (len(line) >= 4 and line[-1].type == _NEWLINE
            and line[-2].type == "COLON")


def _mixes_tabs_and_spaces(indentation: str) -> bool:
    return " " in indentation and "\t" in indentation


def _marker(kind: str, newline: Optional[Token]) -> Token:
    """An _INDENT/_DEDENT: zero width, where the new line's first token starts."""
    if newline is None:
        return Token(kind, "", 0, 1, 1, 1, 1, 0)
    return Token(kind, "", start_pos=newline.end_pos, line=newline.end_line,
                 column=newline.end_column, end_line=newline.end_line,
                 end_column=newline.end_column, end_pos=newline.end_pos)


# --------------------------------------------------------------- syntax errors

def _stray_clause(header: str) -> list[str]:
    """`header` where no statement can start with it, at module level and in a block."""
    return [f"{header}\n", f"x = 1\n{header}\n",
            f"def f():\n    {header}\n", f"def f():\n    x = 1\n    {header}\n"]


# Labelled mistakes: an error that stops the parser in the same LALR state, on
# the same kind of token, as one of the snippets gets that snippet's label
# (see _matching_label).
# tests/test_parser.py checks that every snippet still gets its own label.
_ERROR_EXAMPLES: list[tuple[str, list[str]]] = [
    ("missing ':' after the if condition", ["if x\n    pass", "if x == 1 and f(y)\n"]),
    ("missing ':' after the elif condition", ["if x:\n    pass\nelif y\n"]),
    ("missing ':' after 'else'", ["if x:\n    pass\nelse\n"]),
    ("missing ':' after the while condition", ["while x\n", "while x < 10\n"]),
    ("missing ':' after the for clause", ["for x in y\n", "for x in range(3)\n"]),
    ("missing ':' after the function signature", ["def f()\n", "def f(x) -> int\n"]),
    ("missing ':' after the class name", ["class A\n", "class A(B)\n"]),
    ("'=' assigns; use '==' to compare",
     ["if x = 1:\n", "while x = 1:\n", "if x:\n    pass\nelif x = 1:\n"]),
    ("missing '(' after the function name", ["def f:\n", "def f -> int:\n"]),
    ("missing function name after 'def'", ["def (x):\n", "def 1():\n"]),
    ("'else' without a matching 'if'", _stray_clause("else:")),
    ("'elif' without a matching 'if'", _stray_clause("elif x:")),
    ("'except' without a matching 'try'", _stray_clause("except:")),
    ("'finally' without a matching 'try'", _stray_clause("finally:")),
    ("missing 'except' or 'finally' block after 'try'", ["try:\n    pass\nx = 1\n"]),
    ("a decorator must be followed by a 'def' or 'class'",
     ["@d\n", "@d\nx = 1\n", "class A:\n    @d\n", "class A:\n    @d\n    x = 1\n"]),
]


def _syntax_error(err: UnexpectedCharacters | UnexpectedToken, text: str, source: Source,
                  indenter: _Indenter) -> CompileError:
    try:
        return _describe_syntax_error(err, text, source, indenter)
    except Exception:  # a slip in describing the error must not hide it
        line, column = getattr(err, "line", None), getattr(err, "column", None)
        pos = Pos(line, column, line, column + 1) if isinstance(line, int) and isinstance(column, int) else None
        return CompileError("invalid syntax", pos, source)


def _describe_syntax_error(err: UnexpectedCharacters | UnexpectedToken, text: str,
                           source: Source, indenter: _Indenter) -> CompileError:
    if isinstance(err, UnexpectedCharacters):
        return _bad_character(err, text, source)
    # The post-lexer's state when the parser stopped.
    inside_brackets = bool(indenter.open_brackets)
    token = err.token
    offset = token.start_pos if token.type != lalr.END else len(text)
    # A bracket left open explains any later error best, as in CPython.
    unclosed = _unclosed_bracket(text)
    if unclosed is not None and unclosed.unclosed_offset is not None \
            and unclosed.unclosed_offset < offset:
        return CompileError(unclosed.message, unclosed.pos, source)
    pos = _error_pos(token, text)
    if token.type == "NAME" and _glued_to_number(text, token):  # `1abc`, `0x`
        start = _number_start(text, token.start_pos)
        return CompileError("invalid number literal",
                            _pos_at_offset(text, start, token.end_pos - start), source)
    label = _matching_label(err)
    if label is not None:
        return CompileError(label, pos, source)
    return CompileError(_unexpected_token_message(err, inside_brackets), pos, source)


def _matching_label(err: UnexpectedToken) -> Optional[str]:
    """The label of the first snippet that stops the parser in the same LALR
    state on the same kind of token, preferring one with the same text.  The
    depth of the parser's stack is ignored, so a snippet written at module
    level also labels the same mistake inside a function body; the kind of
    token must match, so a label never lands on a different mistake made in
    the same state."""
    key = (err.state, err.token.type)
    candidate = None
    for label, snippets in _ERROR_EXAMPLES:
        for snippet in snippets:
            example = _example_error(snippet)
            if example is None or (example.state, example.token.type) != key:
                continue
            if str(example.token) == str(err.token):
                return label
            if candidate is None:
                candidate = label
    return candidate


@functools.cache
def _example_error(snippet: str) -> Optional[UnexpectedToken]:
    """Where parsing `snippet` stops, if it stops at a token."""
    tables, lexer = _language()
    try:
        lalr.parse(tables, _Indenter().process(lexer.lex(snippet + "\n")))
    except UnexpectedToken as err:
        return err
    except (_TokenizeError, UnexpectedCharacters):
        pass
    return None


def _unclosed_bracket(text: str) -> Optional[_TokenizeError]:
    """The "never closed" error for a bracket still open at the end of `text`."""
    _, lexer = _language()
    try:
        for _ in _Indenter().process(lexer.lex(text)):
            pass
    except _TokenizeError as problem:
        if problem.unclosed_offset is not None:
            return problem
    except UnexpectedCharacters:
        pass
    return None


def _error_pos(token: Optional[Token], text: str) -> Pos:
    at_end = (token is None or token.type == "$END" or not isinstance(token.start_pos, int)
              or token.line > text.count("\n"))  # the blocks closed after the last line
    if at_end:
        return _end_of_code(text)
    if token.type == _NEWLINE:
        # Point just past the last thing on the line, not at a comment.
        offset = token.start_pos
        while offset > 0 and text[offset - 1] in " \t\f":
            offset -= 1
        return _pos_at_offset(text, offset)
    if token.type in ("_INDENT", "_DEDENT"):
        return Pos(token.line, token.column, token.line, token.column + 1)
    return _pos_of_token(token)


def _end_of_code(text: str) -> Pos:
    """Just past the last character that is neither blank nor in a comment line."""
    lines = text.split("\n")
    for number in range(len(lines), 0, -1):
        line = lines[number - 1].rstrip()
        if line and not line.lstrip().startswith("#"):
            return Pos(number, len(line) + 1, number, len(line) + 2)
    return Pos(1, 1, 1, 2)


def _glued_to_number(text: str, token: Token) -> bool:
    return token.start_pos > 0 and text[token.start_pos - 1].isdigit()


def _number_start(text: str, offset: int) -> int:
    while offset > 0 and (text[offset - 1].isalnum() or text[offset - 1] in "_."):
        offset -= 1
    return offset


_TERMINAL_DESCRIPTIONS = {
    "NAME": "a name",
    _NEWLINE: "end of line",
    "_INDENT": "an indented block",
    "_DEDENT": "end of the indented block",
    "$END": "end of file",
    "STRING": "a string", "LONG_STRING": "a string",
    "DEC_NUMBER": "a number", "HEX_NUMBER": "a number", "OCT_NUMBER": "a number",
    "BIN_NUMBER": "a number", "FLOAT_NUMBER": "a number", "IMAG_NUMBER": "a number",
    "MATCH": "'match'", "CASE": "'case'",
}
# Terminals that start an expression: all of them expected means "an expression"
# (unless a whole statement could start there, as `pass` tells).
_EXPRESSION_STARTS = {"NAME", "DEC_NUMBER", "STRING", "LPAR", "LSQB"}
_OPERANDS = _EXPRESSION_STARTS | {"HEX_NUMBER", "OCT_NUMBER", "BIN_NUMBER", "FLOAT_NUMBER",
                                  "IMAG_NUMBER", "LONG_STRING", "TRUE", "FALSE", "NONE"}


def _unexpected_token_message(err: UnexpectedToken, inside_brackets: bool) -> str:
    token = getattr(err, "token", None)
    kind = getattr(token, "type", "$END")
    expected = set(getattr(err, "expected", None) or ())
    if kind == "_INDENT":
        return "unexpected indent"
    if expected == {"_INDENT"}:
        return "expected an indented block"
    if _EXPRESSION_STARTS <= expected and "PASS" not in expected and kind not in _OPERANDS:
        return "expected an expression"
    if kind == "$END":
        return "unexpected end of file"
    wanted = sorted({_describe_terminal(name) for name in expected})
    found = _describe_token(token)
    if len(wanted) == 1:
        return f"expected {wanted[0]}, found {found}"
    if inside_brackets and "COMMA" in expected and kind in _OPERANDS:
        return f"unexpected {found}; is a ',' missing before it?"
    return f"unexpected {found}"


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_DESCRIPTIONS:
        return _TERMINAL_DESCRIPTIONS[name]
    try:
        return f"'{_language()[0].patterns[name]}'"
    except KeyError:
        return name


def _describe_token(token: Optional[Token]) -> str:
    kind = getattr(token, "type", "$END")
    if kind == "NAME":
        return f"name '{token}'"
    if kind.endswith("NUMBER"):
        return f"number '{token}'"
    if kind in ("STRING", "LONG_STRING"):
        return "string literal"
    if kind in (_NEWLINE, "_INDENT", "_DEDENT", "$END"):
        return _TERMINAL_DESCRIPTIONS[kind]
    return f"'{token}'"


def _bad_character(err: UnexpectedCharacters, text: str, source: Source) -> CompileError:
    offset = err.pos_in_stream
    rest = text[offset:]
    char = rest[:1]
    pos = _pos_at_offset(text, offset)
    if char in ("'", '"'):
        start = _string_start(text, offset)
        pos = _pos_at_offset(text, start, offset - start + 1)
        if rest.startswith(('"""', "'''")):
            return CompileError("unterminated triple-quoted string literal", pos, source)
        return CompileError("unterminated string literal", pos, source)
    if char == "\\":
        return CompileError("unexpected character after line continuation character", pos, source)
    if char.isprintable() and char.isascii():
        return CompileError(f"invalid character '{char}'", pos, source)
    return CompileError(f"invalid character {char!r} (U+{ord(char):04X})", pos, source)


def _string_start(text: str, quote: int) -> int:
    """Where the string whose opening quote is at `quote` starts: at its prefix
    (`b`, `rb`...) if it has one, which the lexer took for a name."""
    start = quote
    while start > 0 and quote - start < 2 and text[start - 1] in "rRbBuUfF":
        start -= 1
    part_of_longer_name = start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_")
    return quote if part_of_longer_name else start


# --------------------------------------------------------------- tree builder

class _Param(NamedTuple):
    kind: str                  # 'plain', 'star', 'bare_star', 'double_star', 'slash'
    pos: Pos
    name: Optional[str] = None
    annotation: Optional[ast.Expr] = None
    default: Optional[ast.Expr] = None


class _Arguments(NamedTuple):
    args: list[ast.Expr]
    keywords: list[ast.Keyword]


class _ElifClause(NamedTuple):
    meta: object
    test: ast.Expr
    body: list[ast.Stmt]


_EXPRESSION_KINDS = {
    ast.Call: "function call",
    ast.IntLit: "literal",
    ast.StrLit: "literal",
    ast.BytesLit: "literal",
    ast.BinOp: "expression",
    ast.UnaryOp: "expression",
    ast.BoolOp: "expression",
    ast.Compare: "comparison",
    ast.IfExp: "conditional expression",
    ast.ListLit: "list display",
}


def _describe_expr(expr: ast.Expr) -> str:
    if isinstance(expr, ast.Unsupported):
        return expr.what
    if isinstance(expr, ast.BoolLit):
        return str(expr.value)
    if isinstance(expr, ast.NoneLit):
        return "None"
    return _EXPRESSION_KINDS.get(type(expr), "expression")


def _is_tuple(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Unsupported) and expr.what == "tuple"


def _end_of_last(*suites: Optional[list[ast.Stmt]]) -> ast.Stmt:
    """The last statement of the last non-empty suite."""
    for suite in reversed(suites):
        if suite:
            return suite[-1]
    raise AssertionError("a compound statement always has a body")


def _compound_pos(meta, *suites: Optional[list[ast.Stmt]]) -> Pos:
    """From the statement's keyword to the end of its last body statement
    (the parse tree's own end would include the line break and dedent after it)."""
    last = _end_of_last(*suites).pos
    return Pos(meta.line, meta.column, last.end_line, last.end_col)


class _TreeBuilder:
    """Builds pybpfc.compiler.ast nodes from the parse tree, bottom-up.

    Each method is named after a rule or alias of grammar.lark and takes the
    node's position and its children, already built.  Rules with no method
    here (inner parts of unsupported constructs) stay parse trees and are
    dropped by their parent.
    """

    def __init__(self, source: Source):
        self.source = source
        # Parenthesised expressions: their span including the parentheses.
        self.parenthesized: dict[ast.Expr, Pos] = {}

    def transform(self, tree: Tree):
        children = [self.transform(child) if isinstance(child, Tree) else child
                    for child in tree.children]
        build = None if tree.data.startswith("_") else getattr(self, tree.data, None)
        if build is None:
            return Tree(tree.data, children, tree.meta)
        try:
            return build(tree.meta, *children)
        except (CompileError, RecursionError):
            raise
        except Exception as err:  # a slip here must still point at the program
            pos = _pos_of_meta(tree.meta) if not tree.meta.empty else None
            raise CompileError(f"could not parse the program: {err}", pos, self.source) from None

    def _error(self, message: str, pos: Pos, note: Optional[str] = None) -> CompileError:
        return CompileError(message, pos, self.source, note)

    # ------------------------------------------------------------- module

    def module(self, meta, *statements):
        body = list(statements)
        if not body:
            return ast.Module(Pos(1, 1, 1, 1), body)
        last = body[-1].pos
        return ast.Module(Pos(1, 1, last.end_line, last.end_col), body)

    def block(self, meta, *statements):
        return list(statements)

    # -------------------------------------------------- simple statements

    def expr_stmt(self, meta, value):
        return ast.ExprStmt(_pos_of_meta(meta), value)

    def assign_stmt(self, meta, *parts):
        *targets, value = parts
        for target in targets:
            self._check_target(target, "assign")
        if len(targets) > 1:
            return ast.UnsupportedStmt(_pos_of_meta(meta), "chained assignment")
        target = targets[0]
        if _is_tuple(target) or isinstance(target, ast.ListLit):
            return ast.UnsupportedStmt(target.pos, "tuple assignment")
        return ast.Assign(_pos_of_meta(meta), target, value)

    def annassign_stmt(self, meta, target, annotation, value=None):
        # (no placeholder: the optional value is an inlined rule)
        self._check_target(target, "annotate")
        return ast.AnnAssign(_pos_of_meta(meta), target, annotation, value)

    def augassign_stmt(self, meta, target, op, value):
        self._check_target(target, "augment")
        return ast.AugAssign(_pos_of_meta(meta), target, op, value)

    def augassign_op(self, meta, token):
        return str(token)[:-1]  # '+=' -> '+'

    def _check_target(self, target: ast.Expr, how: str) -> None:
        """Reject what Python itself cannot assign to (a syntax error there too)."""
        if isinstance(target, (ast.Name, ast.Attribute, ast.Subscript)):
            return
        is_sequence = _is_tuple(target) or isinstance(target, ast.ListLit)
        what = _describe_expr(target)
        if how == "assign" and is_sequence:
            return
        if how == "augment":
            raise self._error(f"'{what}' is an illegal target for augmented assignment", target.pos)
        if how == "annotate":
            if is_sequence:
                raise self._error(f"only a single target (not a {what}) can be annotated", target.pos)
            raise self._error(f"cannot annotate {what}", target.pos)
        raise self._error(f"cannot assign to {what}", target.pos,
                          "to compare, use '=='" if how == "assign" else None)

    def pass_stmt(self, meta):
        return ast.Pass(_pos_of_meta(meta))

    def break_stmt(self, meta):
        return ast.Break(_pos_of_meta(meta))

    def continue_stmt(self, meta):
        return ast.Continue(_pos_of_meta(meta))

    def return_stmt(self, meta, value):
        return ast.Return(_pos_of_meta(meta), value)

    def global_stmt(self, meta, *names):
        return ast.Global(_pos_of_meta(meta), [str(name) for name in names])

    def nonlocal_stmt(self, meta, *_):
        return ast.UnsupportedStmt(_keyword_pos(meta, "nonlocal"), "nonlocal statement")

    def del_stmt(self, meta, *_):
        return ast.UnsupportedStmt(_keyword_pos(meta, "del"), "del statement")

    def raise_stmt(self, meta, *_):
        return ast.UnsupportedStmt(_keyword_pos(meta, "raise"), "raise statement")

    def assert_stmt(self, meta, *_):
        return ast.UnsupportedStmt(_keyword_pos(meta, "assert"), "assert statement")

    def import_stmt(self, meta, *names):
        return ast.Import(_pos_of_meta(meta), list(names))

    def dotted_as_name(self, meta, dotted, alias):
        return (dotted, str(alias) if alias is not None else None)

    def dotted_name(self, meta, *parts):
        return ".".join(parts)

    def import_from_stmt(self, meta, module, *names):
        return ast.ImportFrom(_pos_of_meta(meta), module, list(names))

    def module_path(self, meta, *parts):
        return "".join(parts)

    def relative_dots(self, meta, *dots):
        return "".join(dots)

    def import_star(self, meta):
        return ("*", None)

    def import_name(self, meta, name, alias):
        return (str(name), str(alias) if alias is not None else None)

    # ------------------------------------------------ compound statements

    def if_stmt(self, meta, test, body, *rest):
        *elifs, orelse = rest
        orelse = orelse or []
        for clause in reversed(elifs):  # `elif` is an If inside the else branch
            orelse = [ast.If(_compound_pos(clause.meta, clause.body, orelse),
                             clause.test, clause.body, orelse)]
        return ast.If(_compound_pos(meta, body, orelse), test, body, orelse)

    def elif_clause(self, meta, test, body):
        return _ElifClause(meta, test, body)

    def while_stmt(self, meta, test, body, orelse):
        return ast.While(_compound_pos(meta, body, orelse), test, body, orelse or [])

    def for_stmt(self, meta, target, iterable, body, orelse):
        self._check_target(target, "loop")
        return ast.For(_compound_pos(meta, body, orelse), target, iterable, body, orelse or [])

    def try_stmt(self, meta, *_):
        return ast.UnsupportedStmt(_keyword_pos(meta, "try"), "try statement")

    def with_stmt(self, meta, *_):
        return ast.UnsupportedStmt(_keyword_pos(meta, "with"), "with statement")

    def async_for(self, meta, *_):
        return ast.UnsupportedStmt(_keyword_pos(meta, "async"), "async for")

    def async_with(self, meta, *_):
        return ast.UnsupportedStmt(_keyword_pos(meta, "async"), "async with")

    def match_stmt(self, meta, keyword, *_):
        return ast.UnsupportedStmt(_pos_of_token(keyword), "match statement")

    # --------------------------------------------------------- definitions

    def decorated(self, meta, *items):
        *decorators, definition = items
        definition.decorators = list(decorators)
        return definition

    def decorator(self, meta, expression):
        return expression

    def async_funcdef(self, meta, function):
        function.unsupported = "async function"
        function.unsupported_pos = _keyword_pos(meta, "async")
        return function

    def funcdef(self, meta, name, parameters, returns, body):
        args, problem = self._signature(parameters or [])
        return ast.FunctionDef(
            pos=_compound_pos(meta, body), name=str(name), name_pos=_pos_of_token(name),
            args=args, returns=returns, body=body, decorators=[],
            unsupported=problem[0] if problem else None,
            unsupported_pos=problem[1] if problem else None)

    def classdef(self, meta, name, arguments, body):
        bases: list[ast.Expr] = []
        if arguments is not None:
            bases = list(arguments.args)
            bases += [ast.Unsupported(keyword.pos, "class keyword argument")
                      for keyword in arguments.keywords]
        return ast.ClassDef(_compound_pos(meta, body), str(name), _pos_of_token(name),
                            bases, body, [])

    def parameters(self, meta, *params):
        return list(params)

    def plain_param(self, meta, name, annotation, default):
        return _Param("plain", _pos_of_meta(meta), str(name), annotation, default)

    def star_param(self, meta, name, annotation):
        return _Param("star", _pos_of_meta(meta), str(name), annotation)

    def bare_star_param(self, meta):
        return _Param("bare_star", _pos_of_meta(meta))

    def double_star_param(self, meta, name, annotation):
        return _Param("double_star", _pos_of_meta(meta), str(name), annotation)

    def slash_param(self, meta):
        return _Param("slash", _pos_of_meta(meta))

    def _signature(self, params: list[_Param]) -> tuple[list[ast.Arg], Optional[tuple[str, Pos]]]:
        """The plain parameters, and the first unsupported feature with its
        position.  Python's own ordering rules are syntax errors here."""
        args: list[ast.Arg] = []
        problem: Optional[tuple[str, Pos]] = None
        seen_slash = seen_star = seen_default = False
        double_star: Optional[_Param] = None
        bare_star: Optional[_Param] = None   # a bare '*' still waiting for a parameter

        def unsupported(what: str, pos: Pos) -> None:
            nonlocal problem
            if problem is None:
                problem = (what, pos)

        for param in params:
            if double_star is not None:
                raise self._error("no parameter can follow a '**' parameter", param.pos)
            if param.kind == "slash":
                if seen_slash:
                    raise self._error("'/' may appear only once", param.pos)
                if seen_star:
                    raise self._error("'/' must come before '*'", param.pos)
                if not args:
                    raise self._error("at least one parameter must come before '/'", param.pos)
                seen_slash = True
                unsupported("positional-only marker", param.pos)
            elif param.kind in ("star", "bare_star"):
                if seen_star:
                    raise self._error("'*' may appear only once", param.pos)
                seen_star = True
                if param.kind == "star":
                    unsupported("*args", param.pos)
                else:
                    bare_star = param
            elif param.kind == "double_star":
                double_star = param
                if bare_star is None:
                    unsupported("**kwargs", param.pos)
            else:
                if seen_star:
                    unsupported("keyword-only argument", param.pos)
                    bare_star = None
                if param.default is not None:
                    seen_default = True
                    unsupported("default argument value", param.pos)
                elif seen_default and not seen_star:
                    raise self._error("a parameter without a default follows one with a default",
                                      param.pos)
                args.append(ast.Arg(param.pos, param.name, param.annotation))
        if bare_star is not None:
            raise self._error("named parameters must follow a bare '*'", bare_star.pos)
        return args, problem

    # ---------------------------------------------------------- expressions

    def tuple_display(self, meta, *items):
        # Kept as its parts: a map's annotation `HashMap[K, V]` indexes with one.
        return ast.Unsupported(_pos_of_meta(meta), "tuple",
                               [i for i in items if isinstance(i, ast.Expr)])

    def if_expr(self, meta, body, test, orelse):
        return ast.IfExp(_pos_of_meta(meta), test, body, orelse)

    def walrus(self, meta, *_):
        return ast.Unsupported(_pos_of_meta(meta), "assignment expression")

    def lambda_expr(self, meta, *_):
        return ast.Unsupported(_pos_of_meta(meta), "lambda")

    def or_test(self, meta, *values):
        return ast.BoolOp(_pos_of_meta(meta), "or", list(values))

    def and_test(self, meta, *values):
        return ast.BoolOp(_pos_of_meta(meta), "and", list(values))

    def not_expr(self, meta, operand):
        return ast.UnaryOp(_pos_of_meta(meta), "not", operand)

    def comparison(self, meta, first, *rest):
        return ast.Compare(_pos_of_meta(meta), [first, *rest[1::2]], list(rest[0::2]))

    def comp_op(self, meta, *words):
        return " ".join(words)  # 'not in', 'is not'

    def binary_chain(self, meta, first, *rest):
        # Fold `a - b - c` to the left; every step starts where the chain does.
        result = first
        for op, right in zip(rest[0::2], rest[1::2]):
            end = self.parenthesized.get(right, right.pos)
            result = ast.BinOp(Pos(meta.line, meta.column, end.end_line, end.end_col),
                               str(op), result, right)
        result.pos = _pos_of_meta(meta)
        return result

    bit_or = bit_xor = bit_and = shift = arith = term = binary_chain

    def unary(self, meta, op, operand):
        return ast.UnaryOp(_pos_of_meta(meta), str(op), operand)

    def power(self, meta, base, exponent):
        return ast.BinOp(_pos_of_meta(meta), "**", base, exponent)

    def await_expr(self, meta, *_):
        return ast.Unsupported(_pos_of_meta(meta), "await")

    def call(self, meta, func, arguments):
        arguments = arguments or _Arguments([], [])
        return ast.Call(_pos_of_meta(meta), func, arguments.args, arguments.keywords)

    def arguments(self, meta, *items):
        args: list[ast.Expr] = []
        keywords: list[ast.Keyword] = []
        after_keyword = after_double_star = False
        for item in items:
            if isinstance(item, ast.Keyword):
                if any(keyword.name == item.name for keyword in keywords):
                    raise self._error(f"keyword argument repeated: {item.name}", item.pos)
                keywords.append(item)
                after_keyword = True
                continue
            starred = isinstance(item, ast.Unsupported) and item.what == "starred argument"
            double_starred = isinstance(item, ast.Unsupported) and item.what == "double-starred argument"
            if after_double_star and not double_starred:
                raise self._error("argument follows keyword argument unpacking ('**')", item.pos)
            if after_keyword and not (starred or double_starred):
                raise self._error("positional argument follows keyword argument", item.pos)
            after_double_star |= double_starred
            args.append(item)
        return _Arguments(args, keywords)

    def generator_argument(self, meta, *_):
        return _Arguments([ast.Unsupported(_pos_of_meta(meta), "generator expression")], [])

    def keyword_arg(self, meta, name, value):
        return ast.Keyword(_pos_of_meta(meta), str(name), value)

    def star_arg(self, meta, _value):
        return ast.Unsupported(_pos_of_meta(meta), "starred argument")

    def double_star_arg(self, meta, _value):
        return ast.Unsupported(_pos_of_meta(meta), "double-starred argument")

    star_expr = star_arg

    def subscript(self, meta, value, index):
        return ast.Subscript(_pos_of_meta(meta), value, index)

    def slice(self, meta, *_):
        return ast.Unsupported(_pos_of_meta(meta), "slice")

    def attribute(self, meta, value, name):
        return ast.Attribute(_pos_of_meta(meta), value, str(name), _pos_of_token(name))

    def yield_expr(self, meta, *_):
        return ast.Unsupported(_pos_of_meta(meta), "yield")

    # --------------------------------------------------------------- atoms

    def name(self, meta, token):
        return ast.Name(_pos_of_token(token), str(token))

    def int_literal(self, meta, token):
        return ast.IntLit(_pos_of_token(token), self._literal(token))

    def float_literal(self, meta, token):
        return ast.Unsupported(_pos_of_token(token), "float literal")

    def complex_literal(self, meta, token):
        return ast.Unsupported(_pos_of_token(token), "complex literal")

    def none(self, meta):
        return ast.NoneLit(_pos_of_meta(meta))

    def true(self, meta):
        return ast.BoolLit(_pos_of_meta(meta), True)

    def false(self, meta):
        return ast.BoolLit(_pos_of_meta(meta), False)

    def ellipsis(self, meta):
        return ast.Unsupported(_pos_of_meta(meta), "ellipsis")

    def group(self, meta, inner):
        # `(a)` is just `a`, but a left-folded chain must end after the ')'.
        self.parenthesized[inner] = _pos_of_meta(meta)
        return inner

    def list_display(self, meta, *items):
        return ast.ListLit(_pos_of_meta(meta), [item for item in items if item is not None])

    def dict_display(self, meta, *_):
        return ast.Unsupported(_pos_of_meta(meta), "dict display")

    def set_display(self, meta, *_):
        return ast.Unsupported(_pos_of_meta(meta), "set display")

    def list_comprehension(self, meta, *_):
        return ast.Unsupported(_pos_of_meta(meta), "list comprehension")

    def set_comprehension(self, meta, *_):
        return ast.Unsupported(_pos_of_meta(meta), "set comprehension")

    def dict_comprehension(self, meta, *_):
        return ast.Unsupported(_pos_of_meta(meta), "dict comprehension")

    def generator(self, meta, *_):
        return ast.Unsupported(_pos_of_meta(meta), "generator expression")

    def strings(self, meta, *tokens):
        pos = _pos_of_meta(meta)
        if any("f" in _string_prefix(token).lower() for token in tokens):
            return ast.Unsupported(pos, "f-string")
        values = [self._literal(token) for token in tokens]
        if len({type(value) for value in values}) > 1:
            raise self._error("cannot mix bytes and str literals", pos)
        if isinstance(values[0], bytes):
            return ast.BytesLit(pos, b"".join(values))
        return ast.StrLit(pos, "".join(values))

    def _literal(self, token: Token):
        """The value of an int, str or bytes literal.  literal_eval only ever
        builds constants: it evaluates no names, calls or operators."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. an invalid escape like "\d"
                return python_ast.literal_eval(str(token))
        except SyntaxError as err:
            raise self._error(f"invalid literal: {err.msg}", _pos_of_token(token)) from None
        except (ValueError, MemoryError) as err:
            raise self._error(f"invalid literal: {err}", _pos_of_token(token)) from None


def _string_prefix(token: Token) -> str:
    return token[:len(token) - len(token.lstrip("rRbBuUfF"))]
