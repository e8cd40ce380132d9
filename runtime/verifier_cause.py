"""Where in the program a verifier refusal comes from.

The verifier stops at the instruction where it could prove nothing more,
which is often not the cause: a map value used unchecked fails where it is
used, but the value came from a lookup lines before; a loop fails wherever
the millionth instruction happened to fall.  Each ``cause`` named in
``verifier_refusals`` is a function here that reads the path the log shows
and the program's instructions, and returns the instruction to point at,
notes on where the values involved came from, and facts the table's rows
may require (``unknown bound``).

Pure data in, data out: the log, the instructions, the ABI tables.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

from pybpfc import abi

from .disasm import (ALU, ALU64, ALU_ADD, ALU_MOV, JMP, JMP32, JMP_CALL, JMP_EXIT, JMP_JA,
                     LD, LDX, MODE_ATOMIC, SRC_X, ST, STX)
from .spec import OP_LD_IMM64, Insn, decode_insn
from .verifier_log import VerifierLog
from .verifier_values import describe, kind_of, scalar_range

if TYPE_CHECKING:
    from .spec import ProgramSpec

__all__ = ["Cause", "Note", "find_cause", "CAUSES"]

FRAME_POINTER = 10
# A loop's bound wider than this is one the verifier does not know.
KNOWN_BOUND = 1 << 16
# How far back from the end the log is searched for the loop it was in.
LOOP_WINDOW = 20000


@dataclass(frozen=True)
class Note:
    index: int          # the instruction the note is about
    text: str


@dataclass
class Cause:
    index: Optional[int] = None      # the instruction to point at
    detail: str = ""                 # what is wrong there, beyond the row's title
    notes: list[Note] = field(default_factory=list)
    facts: set[str] = field(default_factory=set)


# ------------------------------------------------------ the instructions


class _Code:
    """A program's instructions, and what each one does to registers."""

    def __init__(self, spec: Optional["ProgramSpec"], log: VerifierLog):
        self.spec = spec
        self.log = log

    def insn(self, index: int) -> Optional[Insn]:
        if self.spec is None or not 0 <= index < self.spec.insn_count:
            return None
        return decode_insn(self.spec.instructions, index)

    def defines(self, index: int, register: int) -> bool:
        insn = self.insn(index)
        if insn is None:
            return False
        cls = insn.code & 0x07
        if cls in (ALU, ALU64, LDX) or insn.code == OP_LD_IMM64:
            return insn.dst == register
        if cls == LD:                    # legacy packet loads set r0, clobber r1-r5
            return register <= 5
        if cls == JMP and insn.code & 0xF0 == JMP_CALL:
            return register <= 5
        if cls == STX and insn.code & 0xE0 == MODE_ATOMIC:
            return register == (0 if insn.imm == 0xF1 else insn.src) and bool(insn.imm & 1)
        return False

    def jump_target(self, index: int) -> Optional[int]:
        insn = self.insn(index)
        if insn is None or insn.code & 0x07 not in (JMP, JMP32):
            return None
        op = insn.code & 0xF0
        if op in (JMP_CALL, JMP_EXIT):
            return None
        if op == JMP_JA and insn.code & 0x07 == JMP32:
            return index + 1 + insn.imm
        return index + 1 + insn.off

    def is_conditional(self, index: int) -> bool:
        insn = self.insn(index)
        return (insn is not None and self.jump_target(index) is not None
                and insn.code & 0xF0 != JMP_JA)

    # ------------------------------------------------------------ origins

    def origin(self, number: int, register: int) -> Optional[tuple[int, int]]:
        """The step that gave ``register`` the value it has at step
        ``number``, and the register it set there: moves are followed to
        their source, a pointer plus a register to the offset added, an
        operation with a constant to the value it changed; a load, a call or
        a constant is the origin."""
        for earlier in self.log.path_before(number):
            index = self.log.index_of(earlier)
            if not self.defines(index, register):
                continue
            insn = self.insn(index)
            assert insn is not None
            cls = insn.code & 0x07
            if cls not in (ALU, ALU64):
                return earlier, register
            op = insn.code & 0xF0
            if op == ALU_MOV:
                if not insn.code & SRC_X:
                    return earlier, register
                if insn.src == FRAME_POINTER:
                    return earlier, register     # the address of a local: where it was taken
                register = insn.src
                continue
            if insn.code & SRC_X and op == ALU_ADD:
                value = self.log.step(earlier).changes.get(f"R{insn.dst}", "scalar()")
                if kind_of(value) != "scalar":
                    register = insn.src   # a pointer moved by an offset: the offset
            # Otherwise the register was changed, not made: look further back.
        return None

    def value_at(self, number: int, register: int) -> Optional[str]:
        """What the log says ``register`` holds before step ``number``."""
        for visit in self.log.visits(stop=number + 1):
            if visit.number == number:
                return visit.before.get(f"R{register}")
        return None


def _named_register(complaint: str) -> Optional[int]:
    m = re.search(r"\bR(\d+)\b", complaint) or re.search(r"\barg#?(\d+)\b", complaint)
    return int(m.group(1)) if m else None


def _origin_note(code: _Code, number: int, register: int, what: str,
                 with_value: bool = False) -> list[Note]:
    """A note at the step where ``register`` got its value; ``with_value``
    adds what the verifier knew of the value there."""
    found = code.origin(number, register)
    if found is None:
        return []
    step, made = found
    if with_value:
        value = code.log.step(step).changes.get(f"R{made}")
        if value:
            what += f" ({describe(value)})"
    return [Note(code.log.index_of(step), what)]


# ---------------------------------------------------------------- causes


def _failing(code: _Code) -> tuple[Optional[int], Cause]:
    """The log's last step (where the verifier stopped), and a cause there."""
    last = code.log.steps - 1 if code.log.steps else None
    return last, Cause(None if last is None else code.log.index_of(last))


def _insn(code: _Code, complaint: str) -> Cause:
    return _failing(code)[1]


def _base_register(insn: Optional[Insn]) -> Optional[int]:
    if insn is None:
        return None
    cls = insn.code & 0x07
    if cls == LDX:
        return insn.src
    if cls in (ST, STX):
        return insn.dst
    return None


def _access(code: _Code, complaint: str) -> Cause:
    last, cause = _failing(code)
    if last is None or cause.index is None:
        return cause
    register = _named_register(complaint)
    if register is None:
        register = _base_register(code.insn(cause.index))
    if register is not None:
        cause.notes += _origin_note(code, last, register, "the offset or address used comes "
                                    "from here", with_value=True)
    return cause


def _null(code: _Code, complaint: str) -> Cause:
    last, cause = _failing(code)
    register = _named_register(complaint)
    if last is not None and register is not None:
        cause.notes += _origin_note(code, last, register,
                                    "the value comes from here, and is None when nothing "
                                    "was found")
    return cause


def _call(code: _Code, complaint: str) -> Cause:
    last, cause = _failing(code)
    if last is None or cause.index is None:
        return cause
    insn = code.insn(cause.index)
    if insn is not None and insn.code == JMP | JMP_CALL:
        cause.facts.add("at a call")
    register = _named_register(complaint)
    if register is not None and 1 <= register <= 5:
        cause.detail = f"argument {register} is refused"
        reach = re.search(r"(read|write)\S* (?:to|from) stack R\d+ off=(-?\d+) size=(\d+)",
                          complaint)
        if reach:          # a buffer on the stack, and a size past its end
            verb, offset, size = reach.group(1), int(reach.group(2)), int(reach.group(3))
            cause.detail += (f": the helper would {verb} {size} bytes from stack offset "
                             f"{offset}, and the stack ends at 0")
        cause.notes += _origin_note(code, last, register, f"argument {register} comes from here")
    return cause


def _exit(code: _Code, complaint: str) -> Cause:
    last, cause = _failing(code)
    if last is not None:
        cause.notes += _origin_note(code, last, 0, "the value returned is set here")
    return cause


def _context(code: _Code, complaint: str) -> Cause:
    cause = _insn(code, complaint)
    m = re.search(r"off=(\d+) size=(\d+)", complaint)
    if m is None or cause.index is None or code.spec is None:
        return cause
    offset, size = int(m.group(1)), int(m.group(2))
    insn = code.insn(cause.index)
    writing = insn is not None and insn.code & 0x07 in (ST, STX)
    cause.detail = _context_detail(code.spec.section, offset, size, writing)
    return cause


def _context_detail(section: str, offset: int, size: int, writing: bool) -> str:
    hook = abi.hook_for_section(section)
    access = "write" if writing else "read"
    if hook is None:
        return f"{access} of {size} bytes at offset {offset} of the context"
    context = hook.context
    found = next((f for f in context.fields
                  if f.offset <= offset < f.offset + f.size * f.count), None)
    if found is None:
        return f"{context.python_name} has no field at offset {offset}"
    name = f"ctx.{found.name}"
    rights = hook.writable if writing else hook.readable
    if found.name not in rights:
        also = " (it may read it)" if writing and found.name in hook.readable else ""
        return f"@{hook.decorator} may not {access} {name}{also}"
    if size != found.size:
        unit = "byte" if size == 1 else "bytes"
        return (f"@{hook.decorator} may {access} {name} only whole ({found.size} bytes), "
                f"not {size} {unit} at a time")
    return f"{access} of {name}"


# ----------------------------------------------------------------- loops


def _back_edges(code: _Code, start: int) -> dict[tuple[int, int], int]:
    """(jump, target) -> how often the path jumped back so, from step ``start``."""
    edges: dict[tuple[int, int], int] = {}
    log = code.log
    previous = log.index_of(start) if start < log.steps else None
    for number in range(start + 1, log.steps):
        index = log.index_of(number)
        if previous is not None and index <= previous and code.jump_target(previous) == index:
            edges[(previous, index)] = edges.get((previous, index), 0) + 1
        previous = index
    return edges


def _loop_body(code: _Code, head: int, start: int) -> set[int]:
    """The instructions the path went through in the loop at ``head``: all
    it visited from its first visit of ``head`` after step ``start`` on (the
    path that failed in a loop stays in it).  Taken from the path, not from
    the layout: a loop's exit can sit between its instructions."""
    body: set[int] = set()
    inside = False
    for number in range(start, code.log.steps):
        index = code.log.index_of(number)
        inside = inside or index == head
        if inside:
            body.add(index)
    return body


def _exit_tests(code: _Code, body: set[int]) -> list[int]:
    """The conditional jumps of the loop that can leave it."""
    return sorted(i for i in body if code.is_conditional(i)
                  and not {i + 1, code.jump_target(i)} <= body)


def _loop_bound(code: _Code, body: set[int], test: int) -> Optional[int]:
    """The register a loop's exit test compares its counter with: the one
    the loop does not change.  None for a constant."""
    insn = code.insn(test)
    if insn is None or not insn.code & SRC_X:
        return None
    for register in (insn.src, insn.dst):
        if not any(code.defines(i, register) for i in body):
            return register
    return None


def _first_visit(code: _Code, index: int) -> Optional[int]:
    return next((n for n in range(code.log.steps) if code.log.index_of(n) == index), None)


def _loop(code: _Code, complaint: str) -> Cause:
    log = code.log
    if not log.steps:
        return Cause()
    window = max(0, log.steps - LOOP_WINDOW)
    edges = _back_edges(code, window)
    at = re.search(r"infinite loop detected at insn (\d+)", complaint)
    if at:
        inside = int(at.group(1))
        edges = {e: n for e, n in edges.items() if e[1] <= inside <= e[0]} or edges
    if not edges:
        return _insn(code, complaint)
    (tail, head), _ = max(edges.items(), key=lambda item: (item[1], -item[0][1]))
    body = _loop_body(code, head, window)
    tests = _exit_tests(code, body)
    # The loop's own line is the one that tests whether it goes on (a
    # `for` or `while`); the instruction jumped back to may be in its body.
    cause = Cause(tests[0] if tests else head)
    for test in tests:
        bound = _loop_bound(code, body, test)
        first = _first_visit(code, test)
        if bound is None or first is None:
            continue
        value = code.value_at(first, bound)
        known = scalar_range(value) if value else None
        if known is not None and known[1] - known[0] <= KNOWN_BOUND:
            continue
        cause.facts.add("unknown bound")
        cause.index = test
        what = f"; the verifier knows it only as {describe(value)}" if value else ""
        cause.notes += _origin_note(code, first, bound, f"the loop's bound comes from here{what}")
        break
    rounds = _times_taken(code, tail, head)
    cause.notes.append(Note(tail, f"the loop goes back from here: {rounds} times on the path "
                                  "the verifier followed"))
    return cause


def _times_taken(code: _Code, jump: int, target: int) -> int:
    """How often the log's path went from ``jump`` straight to ``target``."""
    log = code.log
    return sum(1 for n in range(1, log.steps)
               if log.index_of(n) == target and log.index_of(n - 1) == jump)


CAUSES: dict[str, Callable[[_Code, str], Cause]] = {
    "insn": _insn, "access": _access, "null": _null, "call": _call, "exit": _exit,
    "context": _context, "loop": _loop,
}


def find_cause(name: str, log: VerifierLog, spec: Optional["ProgramSpec"],
               complaint: str) -> Cause:
    """Where the refusal ``complaint`` (the verifier's words) comes from,
    found the way the table's row ``cause`` names."""
    return CAUSES[name](_Code(spec, log), complaint)
