"""Every row of the verifier's refusal table (runtime/verifier_refusals.py),
provoked in the kernel: the refusal must be explained by that row, at the
Python line that caused it, with notes at the lines its values came from.

The programs are in tests/refusals/ (and the tutorial's unbounded loop).
Most mistakes there pybpfc refuses at compile time, so the test compiles a
correct program and then breaks one instruction of it, found through the
line info of the line it belongs to (a None check that tests the wrong
value, a bounds test taken away); the line info still names the Python
lines.  The two refusals no Python program can reach, a packet program and
a register read before it is set, are hand-assembled.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pytest

from pybpfc import abi
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime import bpf
from pybpfc.runtime.collection import load
from pybpfc.runtime.elf import read_object
from pybpfc.runtime.errors import VerifierError
from pybpfc.runtime.spec import INSN_SIZE, ProgramSpec, decode_insn
from pybpfc.runtime.verifier import explain
from pybpfc.runtime.verifier_refusals import REFUSALS
from tests.support import REPO_ROOT, insn, require_root

REFUSAL_PROGRAMS = REPO_ROOT / "tests" / "refusals"
UNBOUNDED = REPO_ROOT / "docs" / "tutorial" / "lessons" / "05_count_tabs_unbounded.py"

Patch = Callable[[ProgramSpec], None]


# ------------------------------------------------------------- patching


def on_line(program: ProgramSpec, text: str) -> list[int]:
    """The instructions the line info puts on the source line holding
    ``text`` (each record holds until the next)."""
    infos = sorted(program.line_info, key=lambda li: li.insn)
    found = []
    for i, info in enumerate(infos):
        end = infos[i + 1].insn if i + 1 < len(infos) else program.insn_count
        if text in info.line:
            found += range(info.insn, end)
    assert found, f"no instruction on a line with {text!r}"
    return found


def rewrite(program: ProgramSpec, index: int, **fields: int) -> None:
    """Set fields (code, dst, src, off, imm) of one instruction."""
    old = decode_insn(program.instructions, index)._asdict()
    new = {**old, **fields}
    code = bytearray(program.instructions)
    code[index * INSN_SIZE:(index + 1) * INSN_SIZE] = insn(**new)
    program.instructions = bytes(code)


def is_conditional(program: ProgramSpec, index: int) -> bool:
    code = decode_insn(program.instructions, index).code
    return code & 0x07 in (0x05, 0x06) and code & 0xF0 not in (0x00, 0x80, 0x90)


def first(program: ProgramSpec, line: str, wanted: Callable[[int], bool]) -> int:
    return next(i for i in on_line(program, line) if wanted(i))


def code_of(program: ProgramSpec, index: int) -> int:
    return decode_insn(program.instructions, index).code


def null_check_tests_one(program: ProgramSpec) -> None:
    check = first(program, "if seen is None:", lambda i: is_conditional(program, i))
    rewrite(program, check, imm=1)


def optval_end_test_removed(program: ProgramSpec) -> None:
    # The test against ctx.optval_end compares two registers (a pointer
    # and the end); jumping nowhere, it tells the verifier nothing.
    test = first(program, "ctx.optval[i]", lambda i: is_conditional(program, i)
                 and bool(code_of(program, i) & 0x08))
    rewrite(program, test, off=0)


def index_tests_too_wide(program: ProgramSpec) -> None:
    for i in on_line(program, "seen.value.by_type[kind]"):
        if is_conditional(program, i) and not code_of(program, i) & 0x08:
            rewrite(program, i, imm=decode_insn(program.instructions, i).imm * 25)


def length_100(program: ProgramSpec) -> None:
    length = first(program, "sysctl_get_current_value(ctx, text)",
                   lambda i: code_of(program, i) == 0xB7)          # r3 = 8
    rewrite(program, length, imm=100)


def store_below_the_stack(program: ProgramSpec) -> None:
    store = first(program, "text = bytearray(8)",
                  lambda i: code_of(program, i) & 0x07 == 0x03)      # *(u64 *)(r10 -8) = ...
    rewrite(program, store, off=-520)


def level_read_as_a_byte(program: ProgramSpec) -> None:
    load_level = first(program, "ctx.level", lambda i: code_of(program, i) == 0x61)
    rewrite(program, load_level, code=0x71)                          # u32 load -> u8 load


def retval_read(program: ProgramSpec) -> None:
    load_level = first(program, "ctx.level", lambda i: code_of(program, i) == 0x61)
    rewrite(program, load_level, off=abi.BPF_SOCKOPT.field("retval").offset)  # type: ignore


def getsockopt_called(program: ProgramSpec) -> None:
    call = first(program, "sysctl_get_current_value", lambda i: code_of(program, i) == 0x85)
    rewrite(program, call, imm=abi.HELPERS["getsockopt"].func_id)


def returns_two(program: ProgramSpec) -> None:
    verdict = first(program, "return ALLOW", lambda i: code_of(program, i) in (0xB4, 0xB7))
    rewrite(program, verdict, imm=2)


def read_only_written(program: ProgramSpec) -> None:
    line = "ctx.file_pos > limit"
    address = first(program, line, lambda i: code_of(program, i) == 0x18)   # r2 = .rodata
    base = decode_insn(program.instructions, address).dst
    read = first(program, line, lambda i: code_of(program, i) == 0x61
                 and decode_insn(program.instructions, i).src == base)
    rewrite(program, read, code=0x63, dst=base, src=1)               # *(u32 *)(r2 +0) = r1


# ----------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    refusal: str                     # the row's key
    program: Path
    error: str                       # text on the line the error must be at
    notes: tuple[str, ...] = ()      # text on the lines the notes must be at
    patch: Optional[Patch] = None
    says: str = ""                   # words the error line must hold
    name: str = ""

    @property
    def id(self) -> str:
        return self.name or self.refusal


CASES = [
    # A loop's notes: where its bound came from, when the verifier does not
    # know it, and the back edge the verifier went round most.
    Case("unbounded-loop", UNBOUNDED, "for i in range(length):",
         ("length = sysctl_get_current_value", "if text[i] == TAB:"),
         says="knows it only as a number in [1, "),
    Case("too-large", REFUSAL_PROGRAMS / "too_large.py", "for i in range(200000):",
         ("total += text[i % 64]",), says="the loop goes back from here: "),
    Case("too-complex", REFUSAL_PROGRAMS / "too_complex.py", "for i in range(20000):",
         ("tabs += 1",), says="the loop goes back from here: 8192 times"),
    Case("infinite-loop", REFUSAL_PROGRAMS / "infinite_loop.py", "while ctx.file_pos < 10:"),
    Case("null-pointer", REFUSAL_PROGRAMS / "null_pointer.py", "atomic_add(seen.value, 1)",
         ("seen = by_protocol.lookup",), null_check_tests_one),
    Case("optval-out-of-bounds", REFUSAL_PROGRAMS / "optval_out_of_bounds.py",
         "if ctx.optval[i] > 64:", ("i = ctx.optlen",), optval_end_test_removed,
         says="a number in [0, 4294967295]"),
    Case("map-value-out-of-bounds", REFUSAL_PROGRAMS / "map_value_out_of_bounds.py",
         "seen.value.by_type[kind] += 1", ("kind = ctx.type",), index_tests_too_wide),
    Case("helper-argument", REFUSAL_PROGRAMS / "first_byte.py",
         "sysctl_get_current_value(ctx, text)", ("text = bytearray(8)",), length_100,
         says="argument 2"),
    Case("stack-limit", REFUSAL_PROGRAMS / "first_byte.py", "text = bytearray(8)",
         patch=store_below_the_stack),
    Case("context-access", REFUSAL_PROGRAMS / "context_access.py", "if ctx.level == SOL_IP",
         patch=level_read_as_a_byte, name="context-access-width",
         says="@cgroup_setsockopt may read ctx.level only whole (4 bytes), not 1 byte"),
    Case("context-access", REFUSAL_PROGRAMS / "context_access.py", "if ctx.level == SOL_IP",
         patch=retval_read, name="context-access-hook",
         says="@cgroup_setsockopt may not read ctx.retval"),
    Case("helper-not-allowed", REFUSAL_PROGRAMS / "helper_not_allowed.py",
         "sysctl_get_current_value(ctx, text)", patch=getsockopt_called),
    Case("return-value", REFUSAL_PROGRAMS / "return_value.py", "return ALLOW",
         patch=returns_two),
    Case("read-only-write", REFUSAL_PROGRAMS / "read_only_write.py",
         "return REJECT if ctx.file_pos > limit else ALLOW", patch=read_only_written),
]

# Rows provoked by hand-assembled programs, below.
HAND_ASSEMBLED = {"packet-out-of-bounds", "uninitialized-register"}


def line_number(path: Path, text: str) -> int:
    numbers = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(numbers) == 1, f"{path.name}: {text!r} is on lines {numbers}"
    return numbers[0]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_refusal_is_explained_at_its_python_line(case: Case) -> None:
    require_root("loading programs")
    spec = read_object(compile_source(Source(str(case.program),
                                             case.program.read_text())).elf)
    (program,) = spec.programs.values()
    if case.patch is not None:
        case.patch(program)
    with pytest.raises(VerifierError) as caught:
        load(spec).close()
    error = caught.value
    explanation = error.explanation
    assert explanation is not None and explanation.refusal is not None, str(error)
    assert explanation.refusal.key == case.refusal, str(error)
    site = explanation.site
    assert site is not None and site.file == str(case.program), str(error)
    assert site.line == line_number(case.program, case.error), str(error)
    assert [n.line for n in explanation.notes] == \
        [line_number(case.program, text) for text in case.notes], str(error)
    assert all(n.file == str(case.program) for n in explanation.notes)

    # Shown as a compile error is: file:line:col, the line, a caret under the column.
    lines = str(error).splitlines()
    error_line = next(i for i, line in enumerate(lines) if ": error: " in line)
    assert lines[error_line].endswith(f":{site.line}:{site.column}: error: "
                                      f"{explanation.title}")
    assert explanation.refusal.title in lines[error_line]
    assert case.says in str(error)
    assert lines[error_line + 1] == "    " + site.source
    assert lines[error_line + 2] == "    " + " " * (site.column - 1) + "^"
    assert f"  verifier: {explanation.message}" in lines
    assert f"  why: {explanation.refusal.why}" in lines
    assert f"  fix: {explanation.refusal.fix}" in lines


def test_every_row_is_provoked() -> None:
    provoked = {case.refusal for case in CASES} | HAND_ASSEMBLED
    assert provoked == {row.key for row in REFUSALS}


# ------------------------------------------------------ hand-assembled


def refused(prog_type: str, code: bytes, section: str) -> tuple[VerifierError, ProgramSpec]:
    spec = ProgramSpec("hand", section, abi.PROG_TYPES[prog_type], None, code)
    with pytest.raises(VerifierError) as caught:
        bpf.prog_load(spec.prog_type, code, "GPL", "hand")
    return caught.value, spec


def test_packet_read_before_its_end_is_tested_is_explained() -> None:
    """XDP, which pybpfc has no hook for: a byte of the packet read with no
    comparison against its end.  The note points at where the pointer was
    loaded from the context."""
    require_root("loading programs")
    error, spec = refused("BPF_PROG_TYPE_XDP", b"".join([
        insn(0x61, dst=2, src=1, off=0),        # r2 = *(u32 *)(r1 +0): ctx->data
        insn(0x61, dst=3, src=1, off=4),        # r3 = *(u32 *)(r1 +4): ctx->data_end
        insn(0x71, dst=0, src=2, off=0),        # r0 = *(u8 *)(r2 +0): unchecked
        insn(0xB7, dst=0, imm=2),               # r0 = XDP_PASS
        insn(0x95)]), "xdp")
    explanation = explain(error.log, spec)
    assert explanation.refusal is not None
    assert explanation.refusal.key == "packet-out-of-bounds"
    assert explanation.site is not None and explanation.site.index == 2
    assert explanation.site.instruction == "r0 = *(u8 *)(r2 +0)"
    assert [n.index for n in explanation.notes] == [0]
    text = explanation.render()
    assert text.startswith("instruction 2: error: this packet access may be past the end")
    assert "instruction 0: note: the offset or address used comes from here" in text


def test_register_read_before_it_is_set_is_explained() -> None:
    require_root("loading programs")
    error, spec = refused("BPF_PROG_TYPE_SOCKET_FILTER", insn(0x95), "socket")
    explanation = explain(error.log, spec)
    assert explanation.refusal is not None
    assert explanation.refusal.key == "uninitialized-register"
    assert explanation.site is not None and explanation.site.index == 0
    assert "instruction 0: error: a register is read before anything was written to it" \
        in explanation.render()
    # Straight from bpf.prog_load, which knows no program, the message
    # still carries the verifier's words.
    assert "verifier: R0 !read_ok" in str(error)


def test_a_refusal_pickles_with_its_program() -> None:
    import pickle
    require_root("loading programs")
    path = REFUSAL_PROGRAMS / "infinite_loop.py"
    spec = read_object(compile_source(Source(str(path), path.read_text())).elf)
    with pytest.raises(VerifierError) as caught:
        load(spec).close()
    again = pickle.loads(pickle.dumps(caught.value))
    assert str(again) == str(caught.value)
    assert again.program == caught.value.program
    assert dataclasses.asdict(again.program) == dataclasses.asdict(caught.value.program)
