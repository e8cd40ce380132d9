"""A run's trace: each statement executed, at its Python line, with the
values it produced (what it assigned, the condition it tested, what it
returned), for a learner stepping through a hook."""
from __future__ import annotations

from typing import Any, Optional

from ..compiler import ast as A
from ..compiler.errors import Source
from ..records import field, record
from .memory import Place


@record
class Step:
    function: str
    depth: int
    line: int
    text: str
    values: list[tuple[str, Any]] = field(default_factory=list)
    note: Optional[str] = None


class Trace:
    def __init__(self, source: Source):
        self.source = source
        self.steps: list[Step] = []
        self.functions: list[str] = []

    def enter(self, name: str) -> None:
        self.functions.append(name)

    def leave(self) -> None:
        self.functions.pop()

    def statement(self, s: A.Stmt) -> None:
        line = self.source.line(s.pos.line).strip()
        if isinstance(s, (A.If, A.While, A.For)):
            line = line.rstrip(":")
        self.steps.append(Step(self.functions[-1] if self.functions else "", len(self.functions),
                               s.pos.line, line))

    def value(self, what: str, value: Any) -> None:
        if self.steps:
            self.steps[-1].values.append((what, value))

    def note(self, text: str) -> None:
        self.steps.append(Step(self.functions[-1] if self.functions else "",
                               len(self.functions), self.steps[-1].line if self.steps else 0,
                               "", note=text))

    def text(self, e: A.Expr) -> str:
        """The source text of an expression on one line."""
        pos = e.pos
        if pos.line != pos.end_line:
            return self.source.line(pos.line)[pos.col - 1:].strip()
        return self.source.line(pos.line)[pos.col - 1:pos.end_col - 1]

    def render(self) -> list[str]:
        out = []
        for step in self.steps:
            indent = "  " * (step.depth - 1)
            if step.note is not None:
                out.append(f"{step.line:5} | {indent}  ({step.note})")
                continue
            shown = ", ".join(show(what, v) for what, v in step.values)
            out.append(f"{step.line:5} | {indent}{step.text}" + (f"   -> {shown}" if shown
                                                                  else ""))
        return out


def show(what: str, value: Any) -> str:
    if value is None:
        text = "None"
    elif isinstance(value, Place):
        text = "(a reference to a map value)"
    elif isinstance(value, bytes):
        text = hex_bytes(value)
    else:
        text = repr(value)
    return f"{what} = {text}" if what and what != "return" else (
        f"return {text}" if what == "return" else text)


def hex_bytes(data: bytes) -> str:
    """Bytes as a literal, its trailing zeros counted rather than shown."""
    kept = data.rstrip(b"\0")
    if len(data) - len(kept) <= 4:
        kept = data
    text = 'b"' + "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\x{b:02x}"
                          for b in kept) + '"'
    rest = len(data) - len(kept)
    return text + (f" + {rest} zero bytes" if rest else "")
