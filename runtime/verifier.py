"""A verifier refusal, explained at the Python line that caused it.

``explain(log, program)`` reads the verifier's log (``verifier_log``),
finds the row of ``verifier_refusals`` its complaint matches, asks
``verifier_cause`` where the refusal comes from, and maps the instructions
found to source lines through the program's BTF line info.  ``render``
shows the result as a compile error is shown::

    prog.py:12:9: error: this value may be None here
        atomic_add(seen.value, 1)
        ^
    prog.py:8:12: note: the value comes from here, and is None when nothing was found
        seen = counts.lookup(ctx.protocol)
               ^
      verifier: R0 invalid mem access 'map_value_or_null'
      why: a lookup gives None ...
      fix: check it before using it: `if value is not None:` ...
"""
from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from .verifier_cause import Cause, find_cause
from .verifier_log import VerifierLog
from .verifier_refusals import REFUSALS, Refusal

if TYPE_CHECKING:
    from .btf_ext import LineInfo
    from .spec import ProgramSpec

__all__ = ["Explanation", "Site", "explain", "source_line", "render"]


@dataclass(frozen=True)
class Site:
    """An instruction, and the source line it came from when the program
    has line info (``file`` is None otherwise)."""
    index: int
    file: Optional[str] = None
    line: int = 0
    column: int = 0
    source: str = ""
    note: str = ""
    instruction: str = ""          # the instruction's text, for a program without lines

    @property
    def where(self) -> str:
        if self.file is None:
            return f"instruction {self.index}"
        path = _shown_path(self.file)
        return f"{path}:{self.line}:{self.column}" if self.column else f"{path}:{self.line}"


def _shown_path(path: str) -> str:
    """A path below the working directory as a relative one, as the user
    most likely named it when building; others as they are."""
    if not os.path.isabs(path):
        return path
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


@dataclass(frozen=True)
class Explanation:
    message: str                         # the verifier's complaint, its first line
    details: tuple[str, ...] = ()        # the lines after it
    refusal: Optional[Refusal] = None    # the row that explains it, if one does
    site: Optional[Site] = None          # where to look
    detail: str = ""                     # what is wrong there, beyond the row's title
    notes: tuple[Site, ...] = field(default_factory=tuple)

    @property
    def title(self) -> str:
        title = self.refusal.title if self.refusal else "the verifier refused the program here"
        return f"{title}: {self.detail}" if self.detail else title

    def render(self) -> str:
        return render(self)


def source_line(program: Optional["ProgramSpec"], index: int) -> Optional["LineInfo"]:
    """The line info in effect at instruction ``index``: the last record at
    or before it (the kernel's rule too)."""
    if program is None or not program.line_info:
        return None
    infos = sorted(program.line_info, key=lambda li: li.insn)
    at = bisect.bisect_right([li.insn for li in infos], index) - 1
    return infos[at] if at >= 0 else None


def _site(program: Optional["ProgramSpec"], index: int, note: str = "") -> Site:
    info = source_line(program, index)
    if info is None or not info.line_number:
        from .disasm import disassemble
        text = ""
        if program is not None:
            text = dict(disassemble(program.instructions, program.relocations)).get(index, "")
        return Site(index, note=note, instruction=text)
    return Site(index, info.file_name, info.line_number, info.column,
                info.line.rstrip("\r\n"), note)


def _matching_row(complaint: str, log: VerifierLog, program: Optional["ProgramSpec"]
                  ) -> tuple[Optional[Refusal], Optional[Cause]]:
    section = program.section if program is not None else ""
    causes: dict[str, Cause] = {}
    for row in REFUSALS:
        if row.sections and section not in row.sections:
            continue
        if not any(re.search(p, complaint, re.M) for p in row.patterns):
            continue
        if row.cause not in causes:
            causes[row.cause] = find_cause(row.cause, log, program, complaint)
        cause = causes[row.cause]
        if row.when is None or row.when in cause.facts:
            return row, cause
    return None, None


def explain(log: str, program: Optional["ProgramSpec"] = None) -> Explanation:
    """Why the verifier refused a program, and where: ``log`` is its log
    (level 1 shows the failing path, which is what the causes follow),
    ``program`` the spec that was loaded (for its instructions and lines)."""
    parsed = VerifierLog(log)
    lines = parsed.complaint()
    if not lines:
        return Explanation("(the verifier gave no reason)")
    complaint = "\n".join(lines)
    row, cause = _matching_row(complaint, parsed, program)
    if cause is None:
        cause = find_cause("insn", parsed, program, complaint)
    index = cause.index
    site = _site(program, index) if index is not None else None
    notes = []
    for note in cause.notes:
        found = _site(program, note.index, note.text)
        # A note at the very place of the error would say nothing new.
        if site is None or found.file is None or \
                (found.file, found.line, found.column) != (site.file, site.line, site.column):
            notes.append(found)
    return Explanation(lines[0], tuple(lines[1:]), row, site, cause.detail, tuple(notes))


# ---------------------------------------------------------------- rendering

_STATE_DUMP = re.compile(r"^(?:cur|old) state:|\bR10=fp0\b")


def _shown(text: str) -> str:
    """``text`` with what a terminal would not show as itself escaped
    (an ESC could recolour it), tabs as one space."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else " " if c == "\t" else
                   repr(c)[1:-1] for c in text)


def _excerpt(site: Site) -> list[str]:
    if site.file is None:
        return [f"    {site.instruction}"] if site.instruction else []
    if not site.source.strip():
        return []
    lines = ["    " + _shown(site.source)]
    if site.column:
        lines.append("    " + " " * len(_shown(site.source[:site.column - 1])) + "^")
    return lines


def render(explanation: Explanation) -> str:
    """The explanation as lines: the site as a compile error, the notes,
    then the verifier's own words, why and the fix."""
    out: list[str] = []
    site = explanation.site
    if site is not None:
        out.append(f"{_shown(site.where)}: error: {explanation.title}")
        out += _excerpt(site)
    else:
        out.append(f"error: {explanation.title}")
    for note in explanation.notes:
        out.append(f"{_shown(note.where)}: note: {note.note}")
        out += _excerpt(note)
    out.append(f"  verifier: {_shown(explanation.message)}")
    for detail in explanation.details[:3]:
        if not _STATE_DUMP.search(detail):     # whole register states stay in the log
            out.append(f"            {_shown(detail)}")
    if explanation.refusal is not None:
        out.append(f"  why: {explanation.refusal.why}")
        out.append(f"  fix: {explanation.refusal.fix}")
    return "\n".join(out)
