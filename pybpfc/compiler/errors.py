"""Errors a user can cause, rendered as ``path:line:col: error: message``
followed by the source line and a caret under the offending text.

Rendering never writes the program's raw control characters to the
terminal (an ESC could recolour it, a bidirectional control reorder it):
they are shown escaped, and the caret stays under the right text, counting
wide and zero-width characters as a terminal shows them.
"""
from __future__ import annotations

import unicodedata
from typing import Optional

from ..records import record
from .ast import Pos


@record(frozen=True)
class Source:
    """A program's text and the path it is reported under."""
    path: str
    text: str

    def line(self, number: int) -> str:
        """Line `number` (from 1) as Python counts lines: only a line break
        ends a line, not a form feed or U+2028."""
        lines = self.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if 1 <= number <= len(lines):
            return lines[number - 1]
        return ""


class CompileError(Exception):
    """A mistake in the user's program, at a position in its source."""
    severity = "error"

    def __init__(self, message: str, pos: Optional[Pos], source: Optional[Source] = None,
                 note: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.source = source
        self.note = note

    def located(self, source: Source) -> "CompileError":
        if self.source is None:
            self.source = source
        return self

    def render(self) -> str:
        path = printable(self.source.path if self.source else "<unknown>")
        message = printable(self.message)
        note = [f"  note: {printable(self.note)}"] if self.note else []
        if self.pos is None:
            return "\n".join([f"{path}: {self.severity}: {message}", *note])
        out = [f"{path}:{self.pos.line}:{self.pos.col}: {self.severity}: {message}"]
        if self.source is not None:
            out += _excerpt(self.source.line(self.pos.line), self.pos)
        return "\n".join(out + note)

    def __str__(self) -> str:
        return self.render()


class CompileWarning(CompileError):
    """Something the kernel accepts in the program but that surely fails
    when it runs; the program still compiles.  Never raised: the checker
    collects them (``CheckedProgram.warnings``)."""
    severity = "warning"


# An excerpt shows at most this many characters of a long line, around the error.
_EXCERPT_BEFORE, _EXCERPT_AFTER = 60, 100


def _excerpt(line: str, pos: Pos) -> list[str]:
    """The source line, indented, with a caret and tildes under the text
    from `pos` to its end on that line."""
    if not line.strip():
        return []
    start = pos.col - 1
    end = pos.end_col - 1 if pos.end_line == pos.line and pos.end_col > pos.col else pos.col
    start, end = min(start, len(line)), min(max(end, start + 1), len(line))
    first = max(0, start - _EXCERPT_BEFORE)
    last = min(len(line), max(end, start + 1) + _EXCERPT_AFTER)
    before = ("..." if first else "") + _shown(line[first:start])
    marked = _shown(line[start:end])
    after = _shown(line[end:last]) + ("..." if last < len(line) else "")
    width = max(1, _columns(marked))
    return ["    " + before + marked + after,
            "    " + " " * _columns(before) + "^" + "~" * (width - 1)]


def printable(text: str) -> str:
    """`text` with every character a terminal would not show as itself
    escaped (controls, format and separator characters, unassigned ones)
    and tabs as one space; line breaks are kept."""
    if text.isprintable():
        return text
    return "\n".join(_shown(part) for part in text.split("\n"))


def _shown(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else " " if char == "\t" else _escaped(char)
                   for char in text)


def _escaped(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _columns(shown: str) -> int:
    """How many columns a terminal gives `shown` (printable text): two for
    an East Asian wide character, none for a combining mark."""
    if shown.isascii():
        return len(shown)
    return sum(2 if unicodedata.east_asian_width(char) in "WF"
               else 0 if unicodedata.combining(char) or unicodedata.category(char) == "Me"
               else 1 for char in shown)


class InternalError(Exception):
    """A bug in pybpfc, met while compiling: never the user's mistake.

    A phase that meets an unexpected exception raises this with the position
    of the node it was working on (the exception is its ``__cause__``), so
    the report says where in the program the compiler failed.  The command
    line exits with status 2 for it; a traceback is shown under ``--debug``."""

    def __init__(self, phase: str, cause: BaseException, pos: Optional[Pos] = None,
                 source: Optional[Source] = None):
        self.phase = phase
        self.cause = cause
        self.pos = pos
        self.source = source
        super().__init__(self.render())

    def located(self, source: Source) -> "InternalError":
        if self.source is None:
            self.source = source
            self.args = (self.render(),)
        return self

    def render(self) -> str:
        where = self.source.path if self.source else "<unknown>"
        if self.pos is not None:
            where += f":{self.pos.line}:{self.pos.col}"
        detail = printable(" ".join(str(self.cause).split()))
        what = f"{type(self.cause).__name__}: {detail}" if detail else type(self.cause).__name__
        return f"{where}: internal error in pybpfc's {self.phase}: {what}"

    def __str__(self) -> str:
        return self.render()
