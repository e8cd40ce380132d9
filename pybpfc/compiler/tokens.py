"""The parser's tokens: the lexer's, read with Python's rules for names and
line continuations, then laid out by the indenter.

The lexer takes any run of letters, digits, '_' and non-ASCII characters
for a name, as CPython's tokenizer does; here a name is then held to
Python's rules (PEP 3131): it must be an identifier, and it means its NFKC
normal form, so ``ｄeny`` (a fullwidth d) is the variable ``deny``, as it
is to Python.  The token keeps the position of the text as written.
"""
from __future__ import annotations

import unicodedata
from typing import Iterable, Iterator

from . import lalr
from .ast import Pos
from .indenter import Indenter, LayoutError
from .lalr import Token
from .positions import pos_at_offset, pos_of_token
from .source import MAX_IDENTIFIER_LENGTH


def token_stream(text: str, indenter: Indenter) -> Iterator[Token]:
    """The tokens of `text` as the parser takes them; `indenter`'s state
    tells, after a syntax error, whether the error is inside brackets."""
    return indenter.process(python_names(lalr.language()[1].lex(text), text), text)


def python_names(tokens: Iterable[Token], text: str) -> Iterator[Token]:
    """`tokens` with every name checked and normalised as Python does; at
    the end, a line continuation with nothing after it is refused."""
    end = 0
    for token in tokens:
        end = token.end_pos
        if token.type == "NAME":
            token = _python_name(token)
        yield token
    # What follows the last token was ignored: blanks and continuations.
    backslash = text.find("\\", end)
    if backslash >= 0:
        raise LayoutError("unexpected end of file after a line continuation ('\\')",
                          pos_at_offset(text, backslash))


def _python_name(token: Token) -> Token:
    if len(token) > MAX_IDENTIFIER_LENGTH:
        raise LayoutError(f"name longer than {MAX_IDENTIFIER_LENGTH:,} characters",
                          pos_of_token(token))
    if token.isascii():
        return token   # the lexer's ASCII names are identifiers already
    if not token.isidentifier():
        raise _invalid_character(token)
    normal = unicodedata.normalize("NFKC", token)
    if normal == token:
        return token
    if len(normal) > MAX_IDENTIFIER_LENGTH:
        raise LayoutError(f"name longer than {MAX_IDENTIFIER_LENGTH:,} characters "
                          "once normalised (NFKC)", pos_of_token(token))
    return Token(token.type, normal, token.start_pos, token.line, token.column,
                 token.end_line, token.end_column, token.end_pos)


def _invalid_character(token: Token) -> LayoutError:
    """CPython's error for a name that is not an identifier, at its first
    character that cannot be where it is (an identifier starts with a
    letter or '_' and goes on with letters, digits and '_', in Unicode's
    sense: XID_Start and XID_Continue)."""
    if not token[0].isidentifier():
        index = 0
    else:
        index = next(i for i in range(1, len(token)) if not ("_" + token[i]).isidentifier())
    char = token[index]
    column = token.column + index
    at = Pos(token.line, column, token.line, column + 1)
    if char.isprintable():
        return LayoutError(f"invalid character '{char}' (U+{ord(char):04X})", at)
    return LayoutError(f"invalid non-printable character U+{ord(char):04X}", at)
