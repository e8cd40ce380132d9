"""``pybpfc objdump --html``: one self-contained page (no script, font or
file from elsewhere) showing a program as the verifier sees it.

Each source line of the program comes with the BPF instructions made from
it folded under it (a ``<details>`` element: click the line to fold them).
When the programs were loaded (``runtime.verify``), each instruction also
shows what the verifier knew after it: the registers and stack slots it
set, in words ("a number in [0, 255]") with the verifier's own notation
on hover; a refused program shows the explanation at the line that caused
it, and marks the lines its notes point at.

Pure data in, text out: the spec, the verdicts, the source text.
"""
from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping, Optional, Sequence

from .disasm import disassemble, prog_type_name
from .verifier import explain
from .verifier_log import VerifierLog
from .verifier_values import describe

if TYPE_CHECKING:
    from .spec import ObjectSpec, ProgramSpec
    from .verify import Verdict

__all__ = ["html_page", "states_by_instruction"]

# At most this many steps of a log are read for the page (a refused loop
# can have a million); and this many different states shown per instruction.
MAX_STEPS = 200_000
MAX_STATES = 4

_STYLE = """
body { font: 15px/1.45 "DejaVu Sans", sans-serif; margin: 24px; color: #1d2430;
       background: #ffffff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding: 6px 10px; background: #e7ecf5;
     border-radius: 4px; }
.legend { color: #4a5468; margin: 0 0 12px; }
code, pre, .insn, .idx, .src { font-family: "DejaVu Sans Mono", monospace; }
.verdict { margin: 6px 0 12px; padding: 8px 12px; border-radius: 4px; }
.accepted { background: #e5f5e8; border-left: 5px solid #2e8b47; }
.refused { background: #fde8e8; border-left: 5px solid #c62828; }
pre.explanation { margin: 0; white-space: pre-wrap; font-size: 14px; }
.line { margin: 0; border-left: 5px solid transparent; }
.line.error { border-left-color: #c62828; background: #fff3f3; }
.line.note { border-left-color: #e0a800; background: #fffaea; }
.line > summary, .plain { display: grid; grid-template-columns: 4em 1fr; cursor: pointer;
       padding: 1px 6px; list-style: none; }
.line > summary::-webkit-details-marker { display: none; }
.line > summary:hover { background: #f0f3f8; }
.lineno { color: #8a93a6; text-align: right; padding-right: 12px; }
.src { white-space: pre; font-weight: bold; }
.plain .src { font-weight: normal; color: #5b6475; }
table.insns { border-collapse: collapse; margin: 2px 0 8px 4em; }
table.insns td { padding: 1px 10px; vertical-align: top; font-size: 14px; }
td.idx { color: #8a93a6; text-align: right; min-width: 3em; }
td.insn { white-space: pre; color: #253858; min-width: 34ch; }
td.state { color: #0b3d91; background: #eaf2ff; border-radius: 3px; }
td.state .raw { color: #60708a; font-size: 12px; }
td.refusal { color: #b71c1c; background: #fde8e8; font-weight: bold; }
.visits { color: #60708a; font-size: 12px; }
"""


# ----------------------------------------------------------- the states


@dataclass
class InsnStates:
    """What the verifier's log says about one instruction."""
    visits: int = 0
    changes: list[dict[str, str]] = field(default_factory=list)   # distinct, in order


def states_by_instruction(log: str, max_steps: int = MAX_STEPS) -> tuple[dict[int, InsnStates],
                                                                         int]:
    """Each instruction's visits and the different things its visits set,
    from a verifier log; and how many steps were left unread."""
    parsed = VerifierLog(log)
    states: dict[int, InsnStates] = {}
    for visit in parsed.visits(stop=max_steps):
        found = states.setdefault(visit.step.index, InsnStates())
        found.visits += 1
        # What the step changed: the kernel also lists registers it only read.
        changes = {name: value for name, value in visit.step.changes.items()
                   if visit.before.get(name) != value}
        if changes and changes not in found.changes and len(found.changes) < MAX_STATES:
            found.changes.append(changes)
    return states, max(0, parsed.steps - max_steps)


# ------------------------------------------------------------- the page


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _state_cell(states: Optional[InsnStates], packet: str) -> str:
    if states is None:
        return "<td></td>"
    parts = []
    for changes in states.changes:
        words = "; ".join(
            f"{name} = {describe(value, stack=name.startswith('fp'), packet=packet)}"
            for name, value in changes.items() if name != "R10")
        raw = " ".join(f"{name}={value}" for name, value in changes.items())
        if words:
            parts.append(f'<div title="{_e(raw)}">{_e(words)}</div>')
    if states.visits > 1:
        parts.append(f'<div class="visits">verified {states.visits} times</div>')
    return f'<td class="state">{"".join(parts)}</td>' if parts else "<td></td>"


def _lines_of(program: "ProgramSpec") -> dict[int, Optional[tuple[str, int]]]:
    """Instruction index -> (file, line) it came from (None before any):
    each line info record holds until the next, as the kernel reads them."""
    lines: dict[int, Optional[tuple[str, int]]] = {}
    infos = sorted(program.line_info, key=lambda li: li.insn)
    current: Optional[tuple[str, int]] = None
    for index in range(program.insn_count):
        while infos and infos[0].insn <= index:
            info = infos.pop(0)
            current = (info.file_name, info.line_number) if info.line_number else None
        lines[index] = current
    return lines


def _program_section(program: "ProgramSpec", verdict: Optional["Verdict"],
                     sources: Mapping[str, Sequence[str]], data: Mapping[str, object]) -> str:
    out = [f"<h2>{_e(program.name)} <small>({_e(program.section)}, "
           f"{_e(prog_type_name(program.prog_type))})</small></h2>"]
    packet = "optval buffer" if "sockopt" in program.section else "packet"
    states: dict[int, InsnStates] = {}
    marks: dict[tuple[str, int], str] = {}
    refusal_at: Optional[int] = None
    refused_words = ""
    if verdict is not None:
        states, unread = states_by_instruction(verdict.log)
        if verdict.error is None:
            out.append(f'<div class="verdict accepted">The verifier accepted it: '
                       f'{verdict.verified_insns} instructions verified. Each instruction '
                       f'shows what the verifier knew after it.</div>')
        else:
            explanation = verdict.error.explanation or explain(verdict.log, program)
            refused_words = explanation.message
            out.append('<div class="verdict refused"><pre class="explanation">'
                       f'{_e(explanation.render())}</pre></div>')
            if explanation.site is not None:
                refusal_at = explanation.site.index
                if explanation.site.file is not None:
                    marks[(explanation.site.file, explanation.site.line)] = "error"
            for note in explanation.notes:
                if note.file is not None:
                    marks.setdefault((note.file, note.line), "note")
        if unread:
            out.append(f'<p class="legend">The log goes on for {unread} more steps, '
                       'not shown.</p>')
    by_line: dict[Optional[tuple[str, int]], list[tuple[int, str]]] = {}
    lines_of = _lines_of(program)
    for index, text in disassemble(program.instructions, program.relocations,
                                   data):     # type: ignore[arg-type]
        by_line.setdefault(lines_of.get(index), []).append((index, text))
    texts = {(info.file_name, info.line_number): info.line.rstrip("\r\n")
             for info in program.line_info if info.line_number}
    shown = sorted((key for key in set(by_line) | set(texts) if key is not None),
                   key=lambda key: (key[0], key[1]))
    for file_name in sorted({key[0] for key in shown}):
        whole = sources.get(file_name)
        numbers = range(1, len(whole) + 1) if whole is not None else \
            [line for name, line in shown if name == file_name]
        out.append(f'<p class="legend">{_e(os.path.basename(file_name))}</p>')
        for number in numbers:
            key = (file_name, number)
            text = whole[number - 1] if whole is not None else texts.get(key, "")
            out.append(_line(number, text, by_line.get(key, []), states, marks.get(key),
                             refusal_at, refused_words, packet))
    if None in by_line:
        out.append(_line(0, "(no source line)", by_line[None], states, None, refusal_at,
                         refused_words, packet))
    return "\n".join(out)


def _line(number: int, text: str, insns: list[tuple[int, str]],
          states: Mapping[int, InsnStates], mark: Optional[str], refusal_at: Optional[int],
          refused_words: str, packet: str) -> str:
    lineno = f'<span class="lineno">{number or ""}</span>'
    source = f'<span class="src">{_e(text) or " "}</span>'
    if not insns:
        return f'<div class="line plain">{lineno}{source}</div>'
    rows = []
    for index, insn in insns:
        if index == refusal_at:
            cell = f'<td class="refusal">refused here: {_e(refused_words)}</td>'

        else:
            cell = _state_cell(states.get(index), packet)
        rows.append(f'<tr><td class="idx">{index}</td><td class="insn">{_e(insn)}</td>'
                    f'{cell}</tr>')
    classes = "line" + (f" {mark}" if mark else "")
    return (f'<details class="{classes}" open><summary>{lineno}{source}</summary>'
            f'<table class="insns">{"".join(rows)}</table></details>')


def html_page(spec: "ObjectSpec", verdicts: Sequence["Verdict"],
              sources: Optional[Mapping[str, Sequence[str]]] = None) -> str:
    """The page for every program of ``spec``; ``verdicts`` (from
    ``verify(spec, states=True)``, or none) add the verifier's view;
    ``sources`` maps a source file's name to its lines, to show the whole
    file rather than only the lines instructions came from."""
    by_name = {v.program.name: v for v in verdicts}
    title = os.path.basename(spec.path) if spec.path else "BPF object"
    legend = ("Click a line to fold its instructions. " +
              ("Hover over what the verifier knew to see its own notation."
               if verdicts else "Load the programs (pybpfc objdump --html --load) to see "
               "what the verifier knew at each instruction."))
    body = [f"<h1>{_e(title)}</h1>", f'<p class="legend">{_e(legend)}</p>']
    for program in spec.programs.values():
        body.append(_program_section(program, by_name.get(program.name), sources or {},
                                     spec.data))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}: what the verifier sees</title>"
            f"<style>{_STYLE}</style></head>\n<body>\n" + "\n".join(body) +
            "\n</body></html>\n")
