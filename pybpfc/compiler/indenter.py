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
    brackets; checks that brackets match; and retypes the soft keywords
    `match`/`case` (plain names elsewhere) where they start a match
    statement or one of its cases.  A line's indentation is measured as
    CPython's tokenizer measures it (see :func:`_columns`), so that every
    statement lands in the block Python puts it in.  One per parse: after a
    syntax error, its state tells whether the error is inside brackets.
    """
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"

    def __init__(self) -> None:
        # The columns of each open block: with tabs to multiples of 8, and
        # with tabs as one column (CPython's indstack and altindstack).
        self.blocks = [(0, 0)]
        self.match_blocks = [False]     # whether that block holds `case` clauses
        self.open_brackets: list[Token] = []
        self.after_match_header = False
        self.opens_match_block = False
        self.last: Optional[Token] = None   # the last token read, for an internal error
        self.text = ""
        # While the next token starts a logical line: where the line's
        # indentation starts in the text, and the line break before it.
        self.line_start: Optional[int] = 0
        self.newline: Optional[Token] = None

    def process(self, stream: Iterable[Token], text: str) -> Iterator[Token]:
        """`stream`, the tokens the lexer made of `text`, laid out."""
        self.text = text
        return self._process(stream)

    def _process(self, stream: Iterable[Token]) -> Iterator[Token]:
        tokens = iter(stream)
        last: Optional[Token] = None
        for token in tokens:
            if self.line_start is not None and token.type != NEWLINE:
                yield from self._indentation(token)
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
                    continue
            yield from self._emit(token)
            last = token

        if self.open_brackets:
            opener = self.open_brackets[-1]
            raise LayoutError(f"'{opener}' was never closed", pos_of_token(opener),
                              unclosed_offset=opener.start_pos)
        while len(self.blocks) > 1:
            self.blocks.pop()
            self.match_blocks.pop()
            yield _marker(self.DEDENT_type, last)

    def _emit(self, token: Token) -> Iterator[Token]:
        self.last = token
        if token.type == NEWLINE:
            yield from self.handle_NL(token)
            return
        self.line_start = None
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
        # The indentation is measured at the next token: what lies between
        # (blanks, form feeds, continuations) counts as CPython counts it.
        self.line_start = token.start_pos + token.rindex("\n") + 1
        self.newline = token
        if self.after_match_header:
            self.opens_match_block, self.after_match_header = True, False

    def _indentation(self, token: Token) -> Iterator[Token]:
        """The _INDENT or _DEDENTs before `token`, the first of a logical line."""
        assert self.line_start is not None
        column, alt_column = _columns(self.text, self.line_start, token.start_pos)
        opens_match_block, self.opens_match_block = self.opens_match_block, False
        top, alt_top = self.blocks[-1]
        where = Pos(token.line, 1, token.line, token.column)
        if self.newline is None and column > 0:
            raise LayoutError("unexpected indent", pos_of_token(token))
        if column > top:
            if len(self.blocks) > MAX_INDENT_LEVELS:
                raise LayoutError("too many levels of indentation", where,
                                  f"blocks nest at most {MAX_INDENT_LEVELS} deep")
            if alt_column <= alt_top:
                raise _inconsistent_tabs(where)
            self.blocks.append((column, alt_column))
            self.match_blocks.append(opens_match_block)
            yield _marker(self.INDENT_type, self.newline)
            return
        while len(self.blocks) > 1 and column < self.blocks[-1][0]:
            self.blocks.pop()
            self.match_blocks.pop()
            yield _marker(self.DEDENT_type, self.newline)
        if column != self.blocks[-1][0]:
            raise LayoutError("unindent does not match any outer indentation level", where)
        if alt_column != self.blocks[-1][1]:
            raise _inconsistent_tabs(where)


def _columns(text: str, start: int, end: int) -> tuple[int, int]:
    """The indentation of the line whose first token is at `end`, from
    `start`, where its indentation starts: as CPython's tokenizer counts it,
    a tab to the next multiple of 8 (and, for the second count, to the next
    column), a form feed back to column 0, and when a backslash continues
    the indentation on the next line, the column of the first backslash,
    unless that is 0."""
    column = alt_column = 0
    continued_at = 0
    at = start
    while at < end:
        char = text[at]
        if char == " ":
            column += 1
            alt_column += 1
        elif char == "\t":
            column = (column // 8 + 1) * 8
            alt_column += 1
        elif char == "\f":
            column = alt_column = 0
        elif char == "\\":
            continued_at = continued_at or column
            at += 1     # the line break it escapes
        at += 1
    if continued_at:
        return continued_at, continued_at
    return column, alt_column


def _inconsistent_tabs(where: Pos) -> LayoutError:
    return LayoutError("inconsistent use of tabs and spaces in indentation", where,
                       "indent with spaces only (or with tabs only)")


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


def _marker(kind: str, newline: Optional[Token]) -> Token:
    """An _INDENT/_DEDENT: zero width, where the new line's first token starts."""
    if newline is None:
        return Token(kind, "", 0, 1, 1, 1, 1, 0)
    return Token(kind, "", start_pos=newline.end_pos, line=newline.end_line,
                 column=newline.end_column, end_line=newline.end_line,
                 end_column=newline.end_column, end_pos=newline.end_pos)

