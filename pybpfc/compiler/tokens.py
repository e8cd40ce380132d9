"""The parser's tokens: the lexer's, laid out by the indenter."""
from __future__ import annotations

from typing import Iterator

from . import lalr
from .indenter import Indenter
from .lalr import Token


def token_stream(text: str, indenter: Indenter) -> Iterator[Token]:
    """The tokens of `text` as the parser takes them; `indenter`'s state
    tells, after a syntax error, whether the error is inside brackets."""
    return indenter.process(lalr.language()[1].lex(text))
