"""Syntax errors as CPython words them, at the offending text.

When the lexer finds no token, the indenter a layout mistake, or the LALR
parser a token it cannot take, this module turns that into a
:class:`CompileError`: a bracket left open explains any later error; a
mistake made in the same parser state as one of the labelled snippets of
:data:`ERROR_EXAMPLES` gets its label; otherwise the message says what was
expected and what was found.
"""
from __future__ import annotations

import functools
from typing import Optional

from . import lalr
from .ast import Pos
from .errors import CompileError, Source
from .indenter import NEWLINE, Indenter, LayoutError
from .lalr import Token, UnexpectedCharacters, UnexpectedToken
from .positions import pos_at_offset, pos_of_token
from .tokens import token_stream

def _stray_clause(header: str) -> list[str]:
    """`header` where no statement can start with it, at module level and in a block."""
    return [f"{header}\n", f"x = 1\n{header}\n",
            f"def f():\n    {header}\n", f"def f():\n    x = 1\n    {header}\n"]


# Labelled mistakes: an error that stops the parser in the same LALR state, on
# the same kind of token, as one of the snippets gets that snippet's label
# (see matching_label).
# tests/compiler/test_parser.py checks that every snippet still gets its own label.
ERROR_EXAMPLES: list[tuple[str, list[str]]] = [
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


def syntax_error(err: UnexpectedCharacters | UnexpectedToken, text: str, source: Source,
                 indenter: Indenter) -> CompileError:
    """The CompileError for where the lexer or the parser stopped.  (A slip
    in describing it is a bug in pybpfc, and left to surface as one.)"""
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
                            pos_at_offset(text, start, token.end_pos - start), source)
    label = matching_label(err)
    if label is not None:
        return CompileError(label, pos, source)
    return CompileError(_unexpected_token_message(err, inside_brackets), pos, source)


def matching_label(err: UnexpectedToken) -> Optional[str]:
    """The label of the first snippet that stops the parser in the same LALR
    state on the same kind of token, preferring one with the same text.  The
    depth of the parser's stack is ignored, so a snippet written at module
    level also labels the same mistake inside a function body; the kind of
    token must match, so a label never lands on a different mistake made in
    the same state."""
    key = (err.state, err.token.type)
    candidate = None
    for label, snippets in ERROR_EXAMPLES:
        for snippet in snippets:
            example = example_error(snippet)
            if example is None or (example.state, example.token.type) != key:
                continue
            if str(example.token) == str(err.token):
                return label
            if candidate is None:
                candidate = label
    return candidate


@functools.cache
def example_error(snippet: str) -> Optional[UnexpectedToken]:
    """Where parsing `snippet` stops, if it stops at a token."""
    try:
        lalr.parse(lalr.language()[0], token_stream(snippet + "\n", Indenter()))
    except UnexpectedToken as err:
        return err
    except (LayoutError, UnexpectedCharacters):
        pass
    return None


def _unclosed_bracket(text: str) -> Optional[LayoutError]:
    """The "never closed" error for a bracket still open at the end of `text`."""
    try:
        for _ in token_stream(text, Indenter()):
            pass
    except LayoutError as problem:
        if problem.unclosed_offset is not None:
            return problem
    except UnexpectedCharacters:
        pass
    return None


def _error_pos(token: Token, text: str) -> Pos:
    at_end = (token.type == lalr.END
              or token.line > text.count("\n"))  # the blocks closed after the last line
    if at_end:
        return _end_of_code(text)
    if token.type == NEWLINE:
        # Point just past the last thing on the line, not at a comment.
        offset = token.start_pos
        while offset > 0 and text[offset - 1] in " \t\f":
            offset -= 1
        return pos_at_offset(text, offset)
    if token.type in ("_INDENT", "_DEDENT"):
        return Pos(token.line, token.column, token.line, token.column + 1)
    return pos_of_token(token)


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
    NEWLINE: "end of line",
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
        return f"'{lalr.language()[0].patterns[name]}'"
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
    if kind in (NEWLINE, "_INDENT", "_DEDENT", "$END"):
        return _TERMINAL_DESCRIPTIONS[kind]
    return f"'{token}'"


def _bad_character(err: UnexpectedCharacters, text: str, source: Source) -> CompileError:
    offset = err.pos_in_stream
    rest = text[offset:]
    char = rest[:1]
    pos = pos_at_offset(text, offset)
    if char in ("'", '"'):
        start = _string_start(text, offset)
        pos = pos_at_offset(text, start, offset - start + 1)
        if rest.startswith(('"""', "'''")):
            return CompileError("unterminated triple-quoted string literal", pos, source)
        return CompileError("unterminated string literal", pos, source)
    if char == "\\":
        return CompileError("unexpected character after line continuation character", pos, source)
    if char.isprintable():
        return CompileError(f"invalid character '{char}'", pos, source)
    # (Only an ASCII character gets here: the lexer takes any other for a name.)
    return CompileError(f"invalid non-printable character U+{ord(char):04X}", pos, source)


def _string_start(text: str, quote: int) -> int:
    """Where the string whose opening quote is at `quote` starts: at its prefix
    (`b`, `rb`...) if it has one, which the lexer took for a name."""
    start = quote
    while start > 0 and quote - start < 2 and text[start - 1] in "rRbBuUfF":
        start -= 1
    part_of_longer_name = start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_")
    return quote if part_of_longer_name else start

