"""The verifier's common refusals, explained in Python terms: one table.

Each row matches the verifier's complaint (its first line and the lines
after it) with regular expressions, and says

- ``title``: what is wrong, in a line, as a compile error would say it;
- ``why``: why the kernel refuses it;
- ``fix``: what to write instead, in pybpfc's Python;
- ``cause``: how ``verifier_cause`` finds the Python line to show: the
  failing ``access`` and where its pointer or offset came from, the
  ``null`` pointer and the lookup it came from, the ``loop`` (its back
  edge, and where its bound came from), the helper ``call`` and where its
  argument came from, the ``exit`` and where the return value came from,
  the ``context`` field, or just the failing ``insn``;
- ``when``: a fact the cause must have found for the row to apply (a loop
  whose bound the verifier does not know, say), so two rows can share the
  verifier's words;
- ``sections``: the program kinds (ELF sections) the row is about, when
  the same words mean something else elsewhere (a sockopt program's
  "packet" is its optval buffer).

The first row that applies wins.  Every row is provoked by a program in
tests/kernel/test_verifier_explained.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

__all__ = ["Refusal", "REFUSALS", "SOCKOPT_SECTIONS"]

SOCKOPT_SECTIONS = ("cgroup/getsockopt", "cgroup/setsockopt")


@dataclass(frozen=True)
class Refusal:
    key: str
    patterns: tuple[str, ...]
    title: str
    why: str
    fix: str
    cause: str
    when: Optional[str] = None
    sections: tuple[str, ...] = ()


_LOOP_TOO_LONG = r"BPF program is too large\. Processed \d+ insn"
# An access outside the stack: by the program, or by a helper given a
# buffer on the stack and a size too large for it.
_STACK_ACCESS = (r"invalid (?:write|read|indirect access|indirect read) (?:to |from )?"
                 r"stack R\d+ off=-?\d+")

REFUSALS: tuple[Refusal, ...] = (
    Refusal(
        "unbounded-loop", (_LOOP_TOO_LONG,),
        "the verifier cannot see this loop end",
        "the verifier proves a loop ends by following it round after round; the number "
        "that bounds this loop is one it knows nothing about, so no round is provably the "
        "last, and it gave up after following 1,000,000 instructions",
        "bound the loop by a constant the verifier can see: `for i in range(min(n, 64)):`, "
        "or `for i in range(64):` with `if i >= n: break` inside",
        cause="loop", when="unknown bound"),
    Refusal(
        "too-large", (_LOOP_TOO_LONG,),
        "the program is too large for the verifier to follow",
        "the verifier follows every path through the program, every round of every loop "
        "on every path, and gave up after 1,000,000 instructions",
        "run fewer rounds (a smaller range()), or fewer paths: fewer `if`s inside loops, "
        "a loop split in two, work moved out of the loop",
        cause="loop"),
    Refusal(
        "too-complex", (r"The sequence of \d+ jumps is too complex",),
        "this loop leaves the verifier too many paths to come back to",
        "each `if` inside the loop is a branch whose other side the verifier must come back "
        "to later; after 8192 of them waiting, it gives up",
        "run fewer rounds, or take the `if` out of the loop: count with arithmetic "
        "(`n += text[i] == TAB`) instead of branching",
        cause="loop"),
    Refusal(
        "infinite-loop", (r"infinite loop detected at insn \d+", r"back-edge from insn \d+"),
        "this loop can never end",
        "the verifier came round this loop to a state it had already been in: nothing "
        "the loop does changes what its condition tests (a context field keeps its value "
        "while the hook runs)",
        "make the loop change what it tests, or bound it: `for i in range(N):`",
        cause="loop"),
    Refusal(
        "null-pointer", (r"R\d+ invalid mem access '\w+_or_null'",
                         r"R\d+ pointer arithmetic on \w+_or_null prohibited",
                         r"Possibly NULL pointer passed to helper",
                         r"R\d+ type=\w+_or_null expected="),
        "this value may be None here",
        "a lookup gives None (a NULL pointer) when there is nothing to find, and the kernel "
        "refuses to follow a pointer it has not seen checked",
        "check it before using it: `if value is not None:` (or `if value is None: return "
        "ALLOW` first)",
        cause="null"),
    Refusal(
        "optval-out-of-bounds", (r"invalid access to packet", r"offset is outside of the packet",
                                 r"math between pkt pointer and register with unbounded"),
        "this access to ctx.optval may be past the end of the buffer",
        "ctx.optval is the kernel's buffer, between ctx.optval and ctx.optval_end; the "
        "verifier must see, on every path, a test that the bytes read or written are "
        "before the end",
        "use the checked accesses (`ctx.optval[i]`, `ctx.optval.u32(off)`), which test the "
        "end themselves, and test `len(ctx.optval)` first when a short buffer matters",
        cause="access", sections=SOCKOPT_SECTIONS),
    Refusal(
        "packet-out-of-bounds", (r"invalid access to packet", r"offset is outside of the packet",
                                 r"math between pkt pointer and register with unbounded"),
        "this packet access may be past the end of the packet",
        "a packet is as long as it is; the verifier must see, on every path, a comparison "
        "with the packet's end before any byte is read or written",
        "compare first: read only after `if data + offset + size <= data_end`",
        cause="access"),
    Refusal(
        "map-value-out-of-bounds", (r"invalid access to map value", r"invalid access to map key",
                                    r"invalid access to memory",
                                    r"R\d+ (?:min|max) value is outside of the allowed memory",
                                    r"R\d+ unbounded memory access, make sure to bounds check",
                                    r"R\d+ min value is negative, either use unsigned index"),
        "this access may be outside the map's value",
        "a map value has a fixed size; the verifier must know, on every path, that the "
        "offset read or written is inside it, from the index's type and the tests before",
        "test the index against the length first (`if i < len(value.items):`), or mask it "
        "(`i & 7` for 8 elements)",
        cause="access"),
    Refusal(
        "helper-argument", (r"invalid indirect read from stack",
                            r"R\d+ type=\w+ expected=",
                            r"R\d+ min value is negative, either use unsigned or",
                            r"R\d+ unbounded memory access, use 'var &= const'",
                            r"invalid zero-sized read",
                            r"R\d+ leaks addr into helper function",
                            r"cannot pass map_type \d+ into func",
                            _STACK_ACCESS),
        "an argument of this call is not what the kernel function takes",
        "the verifier checks every argument of a kernel helper: a key or buffer must be "
        "memory the program wrote, of the size the helper reads, and a length must be "
        "bounded and not negative",
        "pass a fully set variable, bytearray or struct, and a length the verifier can "
        "bound (`min(n, len(buf))`)",
        cause="call", when="at a call"),
    Refusal(
        "stack-limit", (r"combined stack size of \d+ calls is \d+\. Too large",
                        _STACK_ACCESS,
                        r"stack depth \d+ exceeds"),
        "the program uses more than the 512 bytes of stack BPF gives it",
        "a BPF program's locals live on a stack of 512 bytes, shared by the functions it "
        "calls",
        "make locals smaller (a shorter bytearray or list), or keep large data in a map "
        "value (a per-CPU array of one element is the usual scratch space)",
        cause="insn"),
    Refusal(
        "context-access", (r"invalid bpf_context access off=\d+ size=\d+",
                           r"dereference of modified ctx ptr"),
        "this hook cannot access this context field so",
        "each hook may read and write only some fields of its context, some only whole "
        "(4 bytes for an int field, 8 for a pointer)",
        "use a field the hook allows (docs/hooks.md lists them), read whole",
        cause="context"),
    Refusal(
        "helper-not-allowed", (r"unknown func \w+#\d+",
                               r"program of this type cannot use helper \w+#\d+"),
        "this hook cannot call this kernel function",
        "each kind of program may call only some kernel helpers",
        "call a helper this hook allows (docs/hooks.md lists them), or move the work to a "
        "hook that has it",
        cause="insn"),
    Refusal(
        "return-value", (r"At program exit the register R0 has .* should have been in",
                         r"At program exit the register R0 is not a known value"),
        "this hook cannot return this value",
        "a hook's return value is its verdict, and the kernel accepts only the verdicts "
        "the hook has (0 or 1 for a cgroup hook)",
        "return one of the hook's verdicts: `return ALLOW` or `return REJECT`",
        cause="exit"),
    Refusal(
        "read-only-write", (r"write into map forbidden",),
        "this writes to a value the program may only read",
        "read-only globals and maps frozen by user space cannot be written by the program",
        "declare the global without ReadOnly, or write it from user space",
        cause="access"),
    Refusal(
        "uninitialized-register", (r"R\d+ !read_ok",),
        "a register is read before anything was written to it",
        "pybpfc never does this for a program it compiled: an object that does was written "
        "by hand or by another compiler (or pybpfc has a bug: please report it)",
        "set the register (the return value in r0, say) on every path before its use",
        cause="insn"),
)
