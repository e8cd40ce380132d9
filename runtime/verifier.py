"""Verifier logs, told in terms of the program's source lines.

When a program is loaded with line info, the kernel prints the source line
(``; <text> @ <file>:<line>``) before the instructions it produced.  A
rejection ends with the verifier's complaint; the source line in effect at
that point is the line that caused it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

SOURCE_LINE = re.compile(r"^; (?P<text>.*) @ (?P<file>\S+):(?P<line>\d+)$")
INSN_LINE = re.compile(r"^\d+: \(")


@dataclass(frozen=True)
class Complaint:
    message: str                 # the verifier's own words
    file: Optional[str] = None
    line: Optional[int] = None
    source: Optional[str] = None

    def render(self) -> str:
        if self.file is None:
            return f"verifier: {self.message}"
        return f"{self.file}:{self.line}: {self.source}\n  verifier: {self.message}"


# Lines of a log that summarise rather than complain.
_SUMMARY = re.compile(r"^(processed \d+ insns|verification time|stack depth|"
                      r"max_states_per_insn|-- END PROG LOAD LOG --)")


def complaint(log: str) -> Complaint:
    """The verifier's complaint and the source line it refers to."""
    lines = [line.rstrip() for line in log.splitlines() if line.strip()]
    while lines and _SUMMARY.match(lines[-1]):
        lines.pop()
    if not lines:
        return Complaint("(the verifier gave no reason)")
    message_lines = []
    index = len(lines) - 1
    # The complaint is the tail after the last instruction or register dump.
    while index >= 0 and not INSN_LINE.match(lines[index]) and not SOURCE_LINE.match(
            lines[index]) and not lines[index].startswith(("R", "from ", "last_idx")):
        message_lines.insert(0, lines[index])
        index -= 1
    # Its first line says what is wrong; register dumps after it stay in the log.
    message = message_lines[0] if message_lines else lines[-1]
    for line in reversed(lines[:index + 1]):
        m = SOURCE_LINE.match(line)
        if m:
            return Complaint(message, m["file"], int(m["line"]), m["text"].strip())
    return Complaint(message)
