"""Errors a user can cause, rendered as ``path:line:col: error: message``
followed by the source line and a caret under the offending text."""
from __future__ import annotations

from typing import Optional

from ..records import record
from .ast import Pos


@record(frozen=True)
class Source:
    """A program's text and the path it is reported under."""
    path: str
    text: str

    def line(self, number: int) -> str:
        lines = self.text.splitlines()
        if 1 <= number <= len(lines):
            return lines[number - 1]
        return ""


class CompileError(Exception):
    """A mistake in the user's program, at a position in its source."""

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
        path = self.source.path if self.source else "<unknown>"
        if self.pos is None:
            head = f"{path}: error: {self.message}"
            return head + (f"\n  note: {self.note}" if self.note else "")
        head = f"{path}:{self.pos.line}:{self.pos.col}: error: {self.message}"
        out = [head]
        if self.source is not None:
            text = self.source.line(self.pos.line).rstrip("\n").expandtabs(1)
            if text.strip():
                out.append("    " + text)
                width = 1
                if self.pos.end_line == self.pos.line and self.pos.end_col > self.pos.col:
                    width = self.pos.end_col - self.pos.col
                width = max(1, min(width, len(text) - self.pos.col + 1))
                out.append("    " + " " * (self.pos.col - 1) + "^" + "~" * (width - 1))
        if self.note:
            out.append(f"  note: {self.note}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()


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
        detail = " ".join(str(self.cause).split())
        what = f"{type(self.cause).__name__}: {detail}" if detail else type(self.cause).__name__
        return f"{where}: internal error in pybpfc's {self.phase}: {what}"

    def __str__(self) -> str:
        return self.render()
