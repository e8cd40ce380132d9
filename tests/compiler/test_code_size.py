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
from tests.support import REPO_ROOT


def compiled(body: str) -> tuple[dict[str, int], str]:
    """Each program's instruction count, and the whole listing."""
    spec = read_object(compile_source(Source("size.py", textwrap.dedent(body))).elf)
    return {name: p.insn_count for name, p in spec.programs.items()}, objdump(spec)


def compiled_file(path: str) -> tuple[dict[str, int], str]:
    return compiled((REPO_ROOT / path).read_text())


def window_checks(listing: str) -> int:
    """Comparisons of a pointer against the option buffer's end (loaded
    into r2 or r3 here): one per bounds test left in the code."""
    return len(re.findall(r"if r\d [<>]=? r\d goto", listing))


def test_a_bool_helper_gives_a_constant_verdict_on_each_path() -> None:
    # refuse_smtp's mail_port() returns a bool.  As an i1, its true and
    # false became its condition computed again after the branches (three
    # compares more, 0/1 flags combined with &, the verdict masked): 21
    # instructions a hook.  As a byte, each path sets its verdict as a
    # constant.
    counts, listing = compiled_file("examples/refuse_smtp.py")
    assert sorted(counts) == ["no_smtp4", "no_smtp6"] and max(counts.values()) <= 11, listing
    assert "&=" not in listing, listing
    # The port is compared once with each constant, in each hook.
    assert len(re.findall(r"0x1900", listing)) == 2, listing


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


def test_accesses_a_length_test_covers_keep_no_check_of_their_own() -> None:
    # Four stores after `if len(ctx.optval) < 16: return`: only the
    # length test compares with the buffer's end (once, each store kept
    # its own test, and the verifier refused one of them).
    counts, listing = compiled_file("benchmarks/findings/optval_refused.py")
    assert window_checks(listing) == 1, listing
    assert counts["four_stores"] <= 15, listing      # as clang's twin


def test_a_byte_and_a_read_after_a_length_test_keep_no_check_either() -> None:
    counts, listing = compiled("""
        from pybpfc import ALLOW, SockoptContext, cgroup_getsockopt

        @cgroup_getsockopt
        def fill(ctx: SockoptContext) -> int:
            if len(ctx.optval) >= 8:
                ctx.optval.set_u32(4, ctx.optval.u32(0) + 1)
                ctx.optval[0] = 1
            return ALLOW
        """)
    assert window_checks(listing) == 1, listing


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
    # execsnoop's event (152 bytes of u32 fields and byte arrays) was
    # 4-aligned on the stack and zeroed with 4-byte stores: 38 where clang
    # makes 19.  Its first 8 bytes are written at once, so 18 remain.
    counts, listing = compiled_file("examples/execsnoop.py")
    assert len(re.findall(r"\*\(u64 \*\)\(r10 -\d+\) = r\d", listing)) == 18, listing
    assert not re.search(r"\*\(u32 \*\)\(r10 -\d+\) = r1\n.*\*\(u32 \*\)\(r10", listing), listing
    assert counts["on_exec"] <= 49, listing


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
    # mask each loaded byte again where it is widened to a u32 (3 masks in
    # this loop before).
    _, listing = compiled_file("benchmarks/findings/packet_load_masks.py")
    assert not re.search(r"&= (255|0xff)\n", listing), listing


def test_a_global_is_read_once_across_context_accesses() -> None:
    # udp_source read `source4` again after the volatile `ctx.user_ip4`
    # load (LLVM must assume a volatile access may write anywhere it
    # cannot tell apart).  Context accesses are in a scope of their own
    # that global, map value and variable accesses are marked apart from.
    counts, listing = compiled("""
        from pybpfc import ALLOW, SockAddrContext, cgroup_sendmsg4, u32

        source4: u32 = 0
        extra: u32 = 0

        @cgroup_sendmsg4
        def pick(ctx: SockAddrContext) -> int:
            global extra
            if source4 != 0 and ctx.user_ip4 & 0xFF == 127:
                ctx.msg_src_ip4 = source4
                extra = source4 + ctx.user_port
                ctx.user_port = extra
            return ALLOW
        """)
    assert len(re.findall(r"<source4>", listing)) == 1, listing
    assert len(re.findall(r"<extra>", listing)) == 1, listing
    # A context field written is still read again from the context.
    assert len(re.findall(r"= \*\(u32 \*\)\(r1 \+4\)", listing)) == 1, listing


def test_udp_source_reads_its_source_address_once() -> None:
    counts, listing = compiled_file("examples/udp_source.py")
    assert len(re.findall(r"<source4>", listing)) == 1, listing
    assert counts["choose_source4"] <= 14, listing


def test_two_parts_of_a_packed_member_are_read_in_one_load() -> None:
    # device_allowlist read device_type and access as two 16-bit loads;
    # the verifier accepts access_type at any width, so a hook reading
    # both takes them out of one 32-bit load, and LLVM tests them with
    # one mask, as clang does for the C twin (27 -> 25 instructions).
    counts, listing = compiled_file("examples/device_allowlist.py")
    assert "u16" not in listing, listing
    assert len(re.findall(r"= \*\(u32 \*\)\(r1 \+0\)", listing)) == 1, listing
    assert "&= 131071" in listing, listing     # type and the mknod bit at once
    assert counts["device_allowlist"] <= 25, listing


def test_a_part_read_alone_stays_a_narrow_load() -> None:
    counts, listing = compiled("""
        from pybpfc import ALLOW, REJECT, DeviceContext, cgroup_device

        @cgroup_device
        def only_type(ctx: DeviceContext) -> int:
            if ctx.device_type == 1:
                return REJECT
            return ALLOW

        @cgroup_device
        def only_access(ctx: DeviceContext) -> int:
            if ctx.access == 1:
                return REJECT
            return ALLOW
        """)
    assert "r1 = *(u16 *)(r1 +0)" in listing and "r1 = *(u16 *)(r1 +2)" in listing, listing
    assert "65535" not in listing and "65536" not in listing, listing
    assert counts == {"only_type": 5, "only_access": 5}, listing
