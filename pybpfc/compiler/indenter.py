"""Python's layout rules between the lexer and the parser: the indenting
post-lexer.

It turns the lexer's line breaks into _NEWLINE, _INDENT and _DEDENT tokens,
drops line breaks inside brackets, checks that brackets match, and retypes
the soft keywords `match`/`case` where they start a match statement.
Mistakes it finds are :class:`LayoutError`, which the parser reports.
"""
from __future__ import annotations

from typing import Iterable, Iterator, Optional

from .ast import Pos
from .lalr import Token
from .positions import pos_of_token
from .source import MAX_INDENT_LEVELS, MAX_OPEN_BRACKETS

NEWLINE = "_NEWLINE"
OPENERS = {"LPAR": ")", "LSQB": "]", "LBRACE": "}"}  # each with its closing text
CLOSERS = {"RPAR", "RSQB", "RBRACE"}


class LayoutError(Exception):
    """A mistake found before parsing: indentation or bracket nesting."""

    def __init__(self, message: str, pos: Pos, note: Optional[str] = None,
                 unclosed_offset: Optional[int] = None):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.note = note
        # For "'(' was never closed": where that bracket is in the text.
        self.unclosed_offset = unclosed_offset


class Indenter:
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
        self.last: Optional[Token] = None   # the last token read, for an internal error

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
                if first_line and token.type != NEWLINE and token.column > 1:
                    raise LayoutError("unexpected indent", pos_of_token(token))
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
                    at_line_start = last.type == NEWLINE
                    continue
            yield from self._emit(token)
            last = token
            at_line_start = token.type == NEWLINE and not self.open_brackets

        if self.open_brackets:
            opener = self.open_brackets[-1]
            raise LayoutError(f"'{opener}' was never closed", pos_of_token(opener),
                                 unclosed_offset=opener.start_pos)
        while len(self.indents) > 1:
            self.indents.pop()
            self.match_blocks.pop()
            yield _marker(self.DEDENT_type, last)

    def _emit(self, token: Token) -> Iterator[Token]:
        self.last = token
        if token.type == NEWLINE:
            yield from self.handle_NL(token)
            return
        if token.type in OPENERS:
            if len(self.open_brackets) == MAX_OPEN_BRACKETS:
                raise LayoutError("too many nested parentheses", pos_of_token(token),
                                  f"at most {MAX_OPEN_BRACKETS} brackets may be open at once")
            self.open_brackets.append(token)
        elif token.type in CLOSERS:
            if not self.open_brackets:
                raise LayoutError(f"unmatched '{token}'", pos_of_token(token))
            opener = self.open_brackets.pop()
            if OPENERS[opener.type] != token:
                note = None
                if opener.line != token.line:
                    note = f"the '{opener}' is on line {opener.line}"
                raise LayoutError(f"closing '{token}' does not match opening '{opener}'",
                                     pos_of_token(token), note)
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
            if len(self.indents) > MAX_INDENT_LEVELS:
                raise LayoutError("too many levels of indentation",
                                  Pos(token.end_line, 1, token.end_line, token.end_column),
                                  f"blocks nest at most {MAX_INDENT_LEVELS} deep")
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
            raise LayoutError("inconsistent use of tabs and spaces in indentation", where,
                                 "indent with spaces only (or with tabs only)")
        raise LayoutError("unindent does not match any outer indentation level", where)


def _is_name(token: Token, word: str) -> bool:
    return token.type == "NAME" and token == word


def _retyped(token: Token, kind: str) -> Token:
    return token.retyped(kind)


def _rest_of_line(tokens: Iterator[Token]) -> Iterator[Token]:
    """The tokens up to and including the line break that ends this logical line."""
    depth = 0
    for token in tokens:
        yield token
        if token.type in OPENERS:
            depth += 1
        elif token.type in CLOSERS:
            depth = max(depth - 1, 0)
        elif token.type == NEWLINE and depth == 0:
            return


def _is_match_header(line: list[Token]) -> bool:
    # No simple statement can end with ':', so `match ... :` is a match statement.
    return (len(line) >= 4 and line[-1].type == NEWLINE
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

