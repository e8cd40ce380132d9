"""Code shapes that made pybpfc's output longer than clang's on the same
program (issue 12's size target): each test compiles a small program and
holds its instructions to the shorter shape."""
from __future__ import annotations

import re
import textwrap

from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.disasm import objdump
from pybpfc.runtime.elf import read_object


def compiled(body: str) -> tuple[dict[str, int], str]:
    """Each program's instruction count, and the whole listing."""
    spec = read_object(compile_source(Source("size.py", textwrap.dedent(body))).elf)
    return {name: p.insn_count for name, p in spec.programs.items()}, objdump(spec)


def window_checks(listing: str) -> int:
    """Comparisons of a pointer against the option buffer's end (loaded
    into r2 or r3 here): one per bounds test left in the code."""
    return len(re.findall(r"if r\d [<>]=? r\d goto", listing))


BOOL_HELPER = """
from typing import Final
from pybpfc import ALLOW, REJECT, SockAddrContext, cgroup_connect4, htons, u32, u64

SMTP: Final = htons(25)
SUBMISSION: Final = htons(587)
refused: u64 = 0


def mail_port(port: u32) -> bool:
    global refused
    if port == SMTP or port == SUBMISSION:
        refused += 1
        return True
    return False


@cgroup_connect4
def no_smtp(ctx: SockAddrContext) -> int:
    return REJECT if mail_port(ctx.user_port) else ALLOW
"""


def test_a_bool_helper_gives_a_constant_verdict_on_each_path() -> None:
    # Returned as an i1, the helper's true and false became its condition
    # computed again after the branches (two compares more, 0/1 flags
    # combined with &, and the verdict masked): 21 instructions for this
    # shape.  As a byte, each path sets its verdict as a constant.
    counts, listing = compiled(BOOL_HELPER)
    assert counts["no_smtp"] <= 11, listing
    assert "&=" not in listing, listing
    # The port is compared once with each constant.
    assert len(re.findall(r"0x1900", listing)) == 1, listing


def test_a_computed_verdict_is_still_masked() -> None:
    # LLVM computes this verdict with a shift (tests/regressions/
    # verdict_computed_by_a_shift.py): the mask stays where it is computed.
    counts, listing = compiled("""
        from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, get_current_cgroup_id, get_retval, u16

        @cgroup_sysctl
        def h(ctx: SysctlContext) -> int:
            v: u16 = min(u16(get_retval()), u16(ctx.file_pos) & (u16(ctx.file_pos) >> get_current_cgroup_id()))
            return REJECT if ((v + v) >= v) else ALLOW
        """)
    assert re.search(r">>= 15\n.*&= 1\n", listing), listing


OPTVAL_AFTER_LENGTH_TEST = """
from pybpfc import ALLOW, SockoptContext, cgroup_getsockopt


@cgroup_getsockopt
def fill(ctx: SockoptContext) -> int:
    if len(ctx.optval) < 16:
        return ALLOW
    ctx.optval.set_u32(12, 4)
    ctx.optval.set_u32(8, 3)
    ctx.optval.set_u32(4, ctx.optval.u32(0) + 1)
    ctx.optval[0] = 1
    return ALLOW
"""


def test_accesses_a_length_test_covers_keep_no_check_of_their_own() -> None:
    counts, listing = compiled(OPTVAL_AFTER_LENGTH_TEST)
    assert window_checks(listing) == 1, listing
    assert counts["fill"] <= 16, listing


def test_a_length_test_in_a_condition_covers_its_body_only() -> None:
    counts, listing = compiled("""
        from pybpfc import ALLOW, SockoptContext, cgroup_getsockopt

        @cgroup_getsockopt
        def both(ctx: SockoptContext) -> int:
            if ctx.level == 0 and len(ctx.optval) >= 4:
                ctx.optval.set_u32(0, ctx.optval.u32(0) << 4)
            ctx.optval[1] = 7       # not covered on the path where level != 0
            ctx.optval.set_u32(4, 1)    # beyond what the test found
            return ALLOW
        """)
    assert window_checks(listing) == 3, listing


def test_a_length_test_too_short_leaves_the_check() -> None:
    _, listing = compiled("""
        from pybpfc import ALLOW, SockoptContext, cgroup_getsockopt

        @cgroup_getsockopt
        def short(ctx: SockoptContext) -> int:
            if len(ctx.optval) >= 4:
                ctx.optval.set_u32(2, 1)
            return ALLOW
        """)
    assert window_checks(listing) == 2, listing


def test_a_struct_on_the_stack_is_zeroed_a_word_at_a_time() -> None:
    # A struct of u32 fields was 4-aligned on the stack, and zeroed with
    # 4-byte stores: 38 for these 152 bytes where clang makes 19.
    counts, listing = compiled("""
        from pybpfc import RingBuf, TracepointContext, get_current_comm, struct, tracepoint, u32

        @struct
        class Exec:
            pid: u32
            old_pid: u32
            comm: bytearray = bytearray(16)
            filename: bytearray = bytearray(128)

        execs: RingBuf = RingBuf(max_entries=4096)

        @tracepoint("sched", "sched_process_exec")
        def on_exec(ctx: TracepointContext) -> int:
            ev = Exec()
            ev.pid = 1
            get_current_comm(ev.comm)
            execs.output(ev)
            return 0
        """)
    assert len(re.findall(r"\*\(u64 \*\)\(r10 -\d+\) = r\d", listing)) == 152 // 8, listing
    assert not re.search(r"\*\(u32 \*\)\(r10 -\d+\) = r1\n.*\*\(u32 \*\)\(r10", listing), listing


def test_a_variable_used_as_a_key_twice_is_stored_once() -> None:
    # Each map call stored the key into a slot of its own; passing the
    # variable's own storage (as clang passes &key), the delete after the
    # lookup and the ring buffer output stores nothing again.
    counts, listing = compiled("""
        from pybpfc import HashMap, RingBuf, TracepointContext, get_current_pid_tgid, tracepoint, u32, u64

        pending: HashMap[u32, u64] = HashMap(max_entries=64)
        out: RingBuf = RingBuf(max_entries=4096)

        @tracepoint("syscalls", "sys_exit_openat")
        def done(ctx: TracepointContext) -> int:
            tid = u32(get_current_pid_tgid())
            seen = pending.lookup(tid)
            if seen is not None:
                out.output(seen.value)
                pending.delete(tid)
            return 0
        """)
    assert len(re.findall(r"\*\(u32 \*\)\(r10 -\d+\) = r\d", listing)) == 1, listing


def test_a_classic_packet_load_is_not_masked_again() -> None:
    # LD_ABS/LD_IND give their bytes zero-extended; told so, LLVM does not
    # mask each loaded byte again where it is widened to a u32
    # (benchmarks/findings/packet_load_masks.py: 3 masks in this loop).
    _, listing = compiled("""
        from pybpfc import SkBuff, socket_filter, u32

        @socket_filter
        def labels(skb: SkBuff) -> int:
            pos: u32 = 54
            total: u32 = 0
            for i in range(4):
                length = skb.load_u8(pos)
                if length == 0:
                    break
                pos += u32(length) + 1
                total += u32(length)
            return total
        """)
    assert not re.search(r"&= (255|0xff)\n", listing), listing
