"""Reading verifier logs and saying what they mean, without a kernel: logs
as Linux 6.18 wrote them for small programs (the kernel tests provoke the
real thing), the values they hold, and the explanation's rendering."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pybpfc.runtime.btf_ext import LineInfo
from pybpfc.runtime.spec import ProgramSpec
from pybpfc.runtime.verifier import explain
from pybpfc.runtime.verifier_log import VerifierLog, split_state
from pybpfc.runtime.verifier_values import describe, scalar_range
from tests.support import insn

# A map lookup used unchecked (the None check compared another register),
# at log level 1: the path that failed, a jump followed with the state
# where it landed, then the complaint.
UNCHECKED = """\
arg#0 reference type('FWD bpf_sock') size cannot be determined: -22
0: R1=ctx() R10=fp0
; seen = by_protocol.lookup(ctx.protocol) @ exp1.py:8
0: (61) r6 = *(u32 *)(r1 +12)         ; R1=ctx() R6=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))
1: (63) *(u32 *)(r10 -4) = r6         ; R6=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0 fp-8=mmmm????
2: (bf) r2 = r10                      ; R2=fp0 R10=fp0
3: (07) r2 += -4                      ; R2=fp-4
4: (18) r1 = 0xffff8881c4e36400       ; R1=map_ptr(map=by_protocol,ks=4,vs=8)
6: (85) call bpf_map_lookup_elem#1    ; R0=map_value_or_null(id=1,map=by_protocol,ks=4,vs=8)
; if seen is None: @ exp1.py:9
7: (55) if r6 != 0x0 goto pc+12 20: R0=map_value_or_null(id=1,map=by_protocol,ks=4,vs=8) R6=scalar(smin=umin=umin32=1,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0 fp-8=mmmm????
; if seen is None: @ exp1.py:9
20: (b7) r1 = 1                       ; R1=1
; atomic_add(seen.value, 1) @ exp1.py:12
21: (db) lock *(u64 *)(r0 +0) += r1
R0 invalid mem access 'map_value_or_null'
processed 22 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0
"""

# Level 2: every path; a call's doing on a state line of its own; a path
# picked up again ("from 8 to 10").
ACCEPTED = """\
func#0 @0
Live regs before insn:
      0: .1........ (b7) r2 = 0
      5: .123...... (85) call bpf_sysctl_get_current_value#102
0: R1=ctx() R10=fp0
0: (b7) r2 = 0                        ; R2=0
1: (7b) *(u64 *)(r10 -8) = r2         ; R2=0 R10=fp0 fp-8=0
2: (bf) r2 = r10                      ; R2=fp0 R10=fp0
3: (07) r2 += -8                      ; R2=fp-8
4: (b7) r3 = 8                        ; R3=8
5: (85) call bpf_sysctl_get_current_value#102
mark_precise: frame0: last_idx 5 first_idx 0 subseq_idx -1
6: R0=scalar() fp-8=mmmmmmmm
6: (b4) w0 = 1                        ; R0=1
7: (71) r1 = *(u8 *)(r10 -8)          ; R1=scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff)) R10=fp0 fp-8=mmmmmmmm
8: (56) if w1 != 0x0 goto pc+1        ; R1=0
9: (b4) w0 = 0                        ; R0=0
10: (95) exit

from 8 to 10: R0=1 R1=scalar(smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff)) R10=fp0 fp-8=mmmmmmmm
10: R0=1 R1=scalar(smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff)) R10=fp0 fp-8=mmmmmmmm
10: (95) exit
processed 12 insns (limit 1000000) max_states_per_insn 1 total_states 1 peak_states 1 mark_read 0
"""

# A loop with no way out; level 1 puts the source line after the jump.
SPIN = """\
0: R1=ctx() R10=fp0
; while ctx.file_pos < 10: @ spin.py:6
0: (61) r2 = *(u32 *)(r1 +4)          ; R1=ctx() R2=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))
1: (a6) if w2 < 0xa goto pc-2 0: R1=ctx() R2=scalar(smin=smin32=0,smax=umax=smax32=umax32=9,var_off=(0x0; 0xf)) R10=fp0
; while ctx.file_pos < 10: @ spin.py:6
0: (61) r2 = *(u32 *)(r1 +4)          ; R1=ctx() R2=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))
1: (a6) if w2 < 0xa goto pc-2 ; while ctx.file_pos < 10: @ spin.py:6
infinite loop detected at insn 0
cur state: R1=ctx() R2=scalar(smin=smin32=0,smax=umax=smax32=umax32=9,var_off=(0x0; 0xf)) R10=fp0
old state: R1=ctx() R2=scalar(smin=smin32=0,smax=umax=smax32=umax32=9,var_off=(0x0; 0xf)) R10=fp0
processed 13 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0
"""


def test_a_state_splits_at_spaces_outside_parentheses() -> None:
    assert split_state("R0=scalar(smin=0,var_off=(0x0; 0xff)) R2_w=fp-8 fp-8=mmmm???? frame1:") \
        == {"R0": "scalar(smin=0,var_off=(0x0; 0xff))", "R2": "fp-8", "fp-8": "mmmm????"}


def test_the_steps_of_a_failed_path() -> None:
    log = VerifierLog(UNCHECKED)
    assert [log.index_of(n) for n in range(log.steps)] == [0, 1, 2, 3, 4, 6, 7, 20, 21]
    call = log.step(5)
    assert call.text == "call bpf_map_lookup_elem#1"
    assert call.changes == {"R0": "map_value_or_null(id=1,map=by_protocol,ks=4,vs=8)"}
    jump = log.step(6)
    assert jump.text == "if r6 != 0x0 goto pc+12" and jump.changes == {}
    assert jump.landed is not None and jump.landed["R6"].startswith("scalar(smin=umin=umin32=1")
    assert log.complaint() == ["R0 invalid mem access 'map_value_or_null'"]
    assert log.processed() == 22
    assert list(log.path_before(8)) == [7, 6, 5, 4, 3, 2, 1, 0]


def test_visits_carry_the_whole_state() -> None:
    visits = list(VerifierLog(UNCHECKED).visits())
    last = visits[-1]
    assert last.step.index == 21
    assert last.before["R0"] == "map_value_or_null(id=1,map=by_protocol,ks=4,vs=8)"
    assert last.before["R1"] == "1" and last.before["R10"] == "fp0"
    assert last.before["fp-8"] == "mmmm????"


def test_level_2_states_and_paths() -> None:
    log = VerifierLog(ACCEPTED)
    visits = list(log.visits())
    call = next(v for v in visits if v.step.index == 5)
    # The state line after a call is what the call set.
    assert call.step.changes == {"R0": "scalar()", "fp-8": "mmmmmmmm"}
    assert call.after["R2"] == "fp-8" and call.after["R0"] == "scalar()"
    second_exit = visits[-1]
    assert second_exit.step.index == 10 and second_exit.before["R0"] == "1"
    # Before the second exit: the path from 8, picked up at 8's last visit.
    assert [log.index_of(n) for n in log.path_before(log.steps - 1)] == \
        [8, 7, 6, 5, 4, 3, 2, 1, 0]
    assert log.complaint() == []


def test_a_complaint_after_a_jump_and_its_source_line() -> None:
    log = VerifierLog(SPIN)
    assert log.step(3).source == ("spin.py", 6, "while ctx.file_pos < 10:")
    assert log.complaint()[0] == "infinite loop detected at insn 0"
    tail = VerifierLog("17: (07) r6 += 1  ; R6=5\n"
                       "18: (cd) if r6 s< r0 goto pc+2 BPF program is too large. "
                       "Processed 1000001 insn\nprocessed 1000001 insns (limit 1000000)\n")
    assert tail.complaint() == ["BPF program is too large. Processed 1000001 insn"]
    assert tail.step(1).text == "if r6 s< r0 goto pc+2"


@pytest.mark.parametrize("value, words", [
    ("scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))",
     "a number in [0, 255]"),
    ("scalar(smin=umin=1,umax=0x7fffffffffffffff,var_off=(0x0; 0x7fffffffffffffff))",
     "a number in [1, 9223372036854775807]"),
    ("scalar(smin=0xffffffff80000000,smax=0x7fffffff)", "a number in [-2147483648, 2147483647]"),
    ("scalar()", "any number"),
    ("0x22db1", "exactly 142769"),
    ("-3", "exactly -3"),
    ("ctx()", "the hook's context (ctx)"),
    ("fp-8", "a pointer into the stack, at -8"),
    ("fp0", "the stack's end (frame pointer)"),
    ("map_ptr(map=counts,ks=4,vs=8)", "the map counts"),
    ("map_value_or_null(id=1,map=counts,ks=4,vs=8)", "a pointer to a value of map counts, or None"),
    ("map_value(map=deny_ttl.bss,ks=4,vs=8)", "a pointer to a value of the program's globals (.bss)"),
    ("pkt(id=2,off=1,r=0)", "a pointer into the packet + 1 (no byte of it checked yet)"),
    ("pkt(off=14,r=14)", "a pointer into the packet + 14 (checked up to byte 14)"),
    ("pkt_end()", "the end of the packet"),
    ("something_new(x=1)", "something_new(x=1)"),
])
def test_values_in_words(value: str, words: str) -> None:
    assert describe(value) == words


def test_stack_slots_in_words() -> None:
    assert describe("mmmm????", stack=True) == "4 bytes written, 4 never written"
    assert describe("00000000", stack=True) == "zeros"
    assert describe("????????", stack=True) == "never written"
    assert describe("mmmmscalar(smin=0,smax=umax=255)", stack=True) == "a number in [0, 255]"
    assert scalar_range("map_value(map=x)") is None


def line(insn_index: int, number: int, column: int, text: str) -> LineInfo:
    return LineInfo(insn_index, 0, 0, number << 10 | column, "prog.py", text)


def program(*lines: LineInfo) -> ProgramSpec:
    code = b"".join([insn(0x61, dst=6, src=1, off=12), insn(0x63, dst=10, src=6, off=-4),
                     insn(0xBF, dst=2, src=10), insn(0x07, dst=2, imm=-4),
                     insn(0x18, dst=1), insn(0), insn(0x85, imm=1),
                     insn(0x55, dst=6, imm=0, off=12)] + [insn(0xB7, dst=0)] * 12 +
                    [insn(0xB7, dst=1, imm=1), insn(0xDB, dst=0, src=1), insn(0x95)])
    return ProgramSpec("count", "cgroup/sock_create", 9, 2, code, line_info=list(lines))


def test_an_unchecked_lookup_is_explained_at_its_use_with_a_note_at_the_lookup() -> None:
    spec = program(line(0, 8, 12, "    seen = by_protocol.lookup(ctx.protocol)"),
                   line(7, 9, 5, "    if seen is None:"),
                   line(21, 12, 9, "        atomic_add(seen.value, 1)"))
    explanation = explain(UNCHECKED, spec)
    assert explanation.refusal is not None and explanation.refusal.key == "null-pointer"
    assert explanation.site is not None and (explanation.site.line, explanation.site.column) \
        == (12, 9)
    assert [(n.line, n.column, n.index) for n in explanation.notes] == [(8, 12, 6)]
    assert explanation.render().splitlines()[:6] == [
        "prog.py:12:9: error: this value may be None here",
        "            atomic_add(seen.value, 1)",
        " " * 12 + "^",
        "prog.py:8:12: note: the value comes from here, and is None when nothing was found",
        "        seen = by_protocol.lookup(ctx.protocol)",
        " " * 15 + "^"]


def test_the_source_shown_cannot_drive_the_terminal() -> None:
    spec = program(line(0, 8, 12, "    seen = by_protocol.lookup(ctx.protocol)"),
                   line(21, 12, 9, "        atomic_add(seen.value, 1)  # \x1b[31mred"))
    rendered = explain(UNCHECKED, spec).render()
    assert "\x1b" not in rendered and "\\x1b[31mred" in rendered


def test_a_log_without_a_program_names_instructions() -> None:
    explanation = explain(UNCHECKED)
    assert explanation.site is not None and explanation.site.index == 21
    assert explanation.render().startswith("instruction 21: error: this value may be None here")
    assert explanation.notes == ()         # without the instructions, no origin is traced


def test_an_unknown_complaint_is_shown_as_the_verifier_said_it() -> None:
    explanation = explain("0: R1=ctx() R10=fp0\n0: (95) exit\nsomething new went wrong\n")
    assert explanation.refusal is None
    assert explanation.render().splitlines() == [
        "instruction 0: error: the verifier refused the program here",
        "  verifier: something new went wrong"]
    assert explain("").message == "(the verifier gave no reason)"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from((UNCHECKED + ACCEPTED + SPIN).splitlines()), max_size=40),
       st.lists(st.tuples(st.integers(0, 39), st.integers(0, 80), st.text(max_size=3)),
                max_size=6))
def test_any_log_is_explained_without_failing(lines: list[str],
                                              edits: list[tuple[int, int, str]]) -> None:
    """Logs cut, shuffled and garbled, with and without the program: the
    explanation may say little, but it never raises (it would turn the
    kernel's refusal into a pybpfc bug)."""
    for at, column, text in edits:
        if at < len(lines):
            lines[at] = lines[at][:column] + text + lines[at][column + len(text):]
    log = "\n".join(lines)
    spec = program(line(0, 8, 12, "    seen = by_protocol.lookup(ctx.protocol)"))
    for with_program in (None, spec):
        explanation = explain(log, with_program)
        assert explanation.render().count("error: ") >= 1
