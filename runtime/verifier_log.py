"""The kernel verifier's log, read into what it says: the steps the verifier
took (an instruction, and the registers and stack slots that step set), the
whole states it printed where a path starts, and its complaint.

Log level 1 holds the path that failed (the verifier forgets the paths it
finished); level 2 holds every path, each step with its state.  A refused
program's log can be a hundred megabytes (a loop followed a million
instructions), so the log is indexed in one pass and a step is read only
when asked for.

The lines it reads (Linux 6.x)::

    0: R1=ctx() R10=fp0                         a whole state at instruction 0
    ; seen = counts.lookup(key) @ prog.py:8     the source line of what follows
    6: (85) call bpf_map_lookup_elem#1    ; R0=map_value_or_null(id=1,...)
    7: (55) if r0 != 0x0 goto pc+12 20: R0=...  a jump taken, and the state there
    from 7 to 20: R0=... R10=fp0                a path the verifier comes back to
    R0 invalid mem access 'map_value_or_null'   the complaint
"""
from __future__ import annotations

import dataclasses
import re
from array import array
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Optional

__all__ = ["VerifierLog", "Step", "Visit", "split_state", "split_outside_parentheses"]

# The start of every line the log is indexed by: a step, a whole state, or
# a path the verifier returns to.
_EVENT = re.compile(r"^(?:(\d+): \([0-9a-f]{2}\) "          # 6: (85) call ...
                    r"|(\d+): (?=R\d|fp-?\d|frame\d)"       # 0: R1=ctx() R10=fp0
                    r"|from \d+ to (\d+)\b)", re.M)         # from 7 to 20: R0=...
_STEP, _STATE, _FROM = 0, 1, 2

_STEP_LINE = re.compile(r"(?P<index>\d+): \((?P<op>[0-9a-f]{2})\) (?P<rest>.*)")
_STATE_LINE = re.compile(r"(?:\d+|from \d+ to \d+(?: \(speculative execution\))?): (?P<state>.*)")
# What may follow an instruction's text on its line.
_CHANGES = re.compile(r"\s+; (?P<changes>(?:frame\d+: )?(?:R\d+|fp-?\d+)\S*=.*)$")
_JUMP = re.compile(r"^(?P<text>.*?\bgotol? pc[+-]\d+)(?P<tail>.*)$")
_TARGET_STATE = re.compile(r"^\s*(?P<index>\d+): (?P<state>(?:frame\d+: )?(?:R\d|fp-?\d).*)$")
SOURCE = re.compile(r"^\s*; (?P<text>.*) @ (?P<file>\S+):(?P<line>\d+)$")

# Lines that report on the verification rather than complain.
_STATISTICS = re.compile(r"^(processed \d+ insns|verification time|stack depth|"
                         r"max_states_per_insn|-- END PROG LOAD LOG --)")
# Lines the verifier prints about its own bookkeeping, never a complaint.
_BOOKKEEPING = re.compile(r"^(mark_precise:|\(\d+\) frame \d+ insn|\(\d+\) live stack|"
                          r"func#\d+ @\d+|Live regs before insn:|\s+\d+: |last_idx |"
                          r"regs=|parent (?:didn't|already)|arg#\d+ reference type|"
                          r"Validating |Func#\d+ )")


def _key(name: str) -> str:
    """``R2`` for ``R2_w`` (older kernels mark registers written, ``_w``)."""
    return re.sub(r"_[rwD]+$", "", name)


def split_outside_parentheses(text: str, separator: str) -> list[str]:
    """``text`` split at each ``separator`` that is not inside parentheses:
    the verifier nests them (``var_off=(0x0; 0xff)``)."""
    parts = []
    depth = 0
    start = 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def split_state(text: str) -> dict[str, str]:
    """``R0=scalar(smin=0,var_off=(0x0; 0xff)) fp-8=mmmm????`` as
    ``{"R0": "scalar(...)", "fp-8": "mmmm????"}``; words that are not
    ``name=value`` are skipped."""
    items: dict[str, str] = {}
    for word in split_outside_parentheses(text, " "):
        name, equals, value = word.partition("=")
        if equals and name:
            items[_key(name)] = value
    return items


@dataclass(frozen=True)
class Step:
    """One instruction the verifier went through."""
    index: int                            # the instruction's index in the program
    text: str                             # the verifier's text of it
    changes: Mapping[str, str]            # what it set: ``{"R0": "map_value(...)"}``
    # A jump the verifier followed: the whole state where it landed.
    landed: Optional[Mapping[str, str]] = None
    # Words after a jump's text that are the complaint (level 1 ends so).
    tail: str = ""
    source: Optional[tuple[str, int, str]] = None   # (file, line, text) noted after a jump


@dataclass(frozen=True)
class Visit:
    """A step with the whole state before and after it."""
    step: Step
    before: Mapping[str, str]
    after: Mapping[str, str]
    number: int                           # the step's place among the log's steps


def _parse_step(line: str) -> Step:
    m = _STEP_LINE.match(line)
    assert m is not None, line        # the index only holds lines that match
    index, rest = int(m["index"]), m["rest"]
    changes = _CHANGES.search(rest)
    if changes:
        return Step(index, rest[:changes.start()].rstrip(), split_state(changes["changes"]))
    jump = _JUMP.match(rest)
    if jump is None or not jump["tail"].strip():
        return Step(index, rest.rstrip(), {})
    tail = jump["tail"]
    landed = _TARGET_STATE.match(tail)
    if landed:
        return Step(index, jump["text"], {}, landed=split_state(landed["state"]))
    source = SOURCE.match(tail)
    if source:
        return Step(index, jump["text"], {},
                    source=(source["file"], int(source["line"]), source["text"].strip()))
    return Step(index, jump["text"], {}, tail=tail.strip())


@dataclass
class VerifierLog:
    """A verifier log, indexed.  ``steps`` counts the steps; ``step(n)`` reads
    the n-th; ``index_of(n)`` is its instruction index without reading it."""
    text: str
    _kinds: "array[int]" = field(init=False, repr=False)       # event kind (_STEP, _STATE, _FROM)
    _indexes: "array[int]" = field(init=False, repr=False)     # instruction index of each event
    _offsets: "array[int]" = field(init=False, repr=False)     # where each event's line starts
    _step_events: "array[int]" = field(init=False, repr=False)  # event number of each step

    def __post_init__(self) -> None:
        self._kinds, self._indexes = array("b"), array("l")
        self._offsets, self._step_events = array("q"), array("l")
        for m in _EVENT.finditer(self.text):
            kind = _STEP if m.group(1) else _STATE if m.group(2) else _FROM
            if kind == _STEP:
                self._step_events.append(len(self._kinds))
            self._kinds.append(kind)
            self._indexes.append(int(m.group(1) or m.group(2) or m.group(3)))
            self._offsets.append(m.start())

    # ---------------------------------------------------------------- lines

    def _line_at(self, offset: int) -> str:
        end = self.text.find("\n", offset)
        return self.text[offset:] if end < 0 else self.text[offset:end]

    def _event_line(self, event: int) -> str:
        return self._line_at(self._offsets[event])

    @property
    def steps(self) -> int:
        return len(self._step_events)

    def index_of(self, number: int) -> int:
        """The instruction index of step ``number``."""
        return self._indexes[self._step_events[number]]

    def step(self, number: int) -> Step:
        return _parse_step(self._event_line(self._step_events[number]))

    def _state(self, event: int) -> dict[str, str]:
        m = _STATE_LINE.match(self._event_line(event))
        return split_state(m["state"]) if m else {}

    # ------------------------------------------------------------ walking

    def visits(self, stop: Optional[int] = None) -> Iterator[Visit]:
        """The steps in log order, up to step ``stop``, each with the whole
        state before and after it, as the log's states and changes tell it.

        A ``from X to Y`` line, and the state a followed jump landed in
        (level 1), are whole states: the path changes there.  A ``N: ...``
        state line lists only what changed: straight after a step it is
        that step's doing (what a call set, at level 2), and counts among
        the step's changes."""
        state: dict[str, str] = {}
        number = 0
        event = 0
        while event < len(self._kinds) and (stop is None or number < stop):
            kind = self._kinds[event]
            event += 1
            if kind == _FROM:
                state = self._state(event - 1)
                continue
            if kind == _STATE:
                state = {**state, **self._state(event - 1)}
                continue
            step = self.step(number)
            if event < len(self._kinds) and self._kinds[event] == _STATE:
                step = dataclasses.replace(step, changes={**step.changes,
                                                          **self._state(event)})
                event += 1
            after = {**state, **step.changes}
            yield Visit(step, state, after, number)
            state = dict(step.landed) if step.landed is not None else after
            number += 1

    def path_before(self, number: int) -> Iterator[int]:
        """The steps before step ``number`` on the path that led to it,
        latest first.  At log level 1 the log is that path; at level 2 a
        path picked up again (``from X to Y``) goes on before it, at the
        latest visit of X."""
        event = self._step_events[number] if number < self.steps else len(self._kinds)
        event -= 1
        while event >= 0:
            kind = self._kinds[event]
            if kind == _FROM:
                # Resume at the latest earlier visit of the jump it came from.
                origin = int(self._event_line(event).split()[1])
                event -= 1
                while event >= 0 and not (self._kinds[event] == _STEP
                                          and self._indexes[event] == origin):
                    event -= 1
                continue
            if kind == _STEP:
                yield self._step_number(event)
            event -= 1

    def _step_number(self, event: int) -> int:
        # Binary search: events and step numbers grow together.
        lo, hi = 0, len(self._step_events)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._step_events[mid] < event:
                lo = mid + 1
            else:
                hi = mid
        return lo

    # --------------------------------------------------------- complaint

    def complaint(self) -> list[str]:
        """The verifier's complaint: the lines after its last step or state
        (and words a jump's line ends with), without its statistics and
        bookkeeping.  Empty when the log has none (an accepted program)."""
        start = self._offsets[-1] if len(self._offsets) else 0
        lines: list[str] = []
        if len(self._kinds) and self._kinds[-1] == _STEP:
            tail = self.step(self.steps - 1).tail
            if tail:
                lines.append(tail)
        rest = self.text[start:].split("\n")[1:] if len(self._offsets) else \
            self.text.split("\n")
        for line in rest:
            stripped = line.rstrip()
            if (not stripped or _STATISTICS.match(stripped) or _BOOKKEEPING.match(stripped)
                    or SOURCE.match(stripped)):
                continue
            lines.append(stripped)
        return lines

    def processed(self) -> Optional[int]:
        """How many instructions the verifier processed, from its statistics."""
        m = re.search(r"^processed (\d+) insns", self.text, re.M)
        return int(m.group(1)) if m else None
