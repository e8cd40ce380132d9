"""The interpreter's semantics, one rule at a time, on small programs: the
integer rules of compiler.semantics, the option window's bounds, maps as
the kernel keeps them, the helpers and their fakes."""
from __future__ import annotations

import errno
import re

import pybpfc
from pybpfc.simulate import Fakes, load_program
from pybpfc.simulate.helpers import strtol, strtoul


def program(body: str, fakes: Fakes | None = None):  # type: ignore[no-untyped-def]
    """``body`` with the import of the names of pybpfc it uses."""
    names = sorted(n for n in dir(pybpfc) if not n.startswith("_")
                   and re.search(rf"\b{n}\b", body))
    return load_program("<test>.py", text=f"from pybpfc import {', '.join(names)}\n" + body,
                        fakes=fakes)


def test_integers_wrap_and_divide_as_bpf_does() -> None:
    prog = program('''
out: list[i64] = [0] * 6
small: u8 = 250

@cgroup_sock_create
def f(ctx: SockContext) -> int:
    global small
    zero = ctx.mark
    out[0] = i64(ctx.type) // i64(zero)         # division by zero: 0
    out[1] = i64(ctx.type) % i64(zero)          # its remainder: the dividend
    out[2] = -7 // i64(ctx.type)                # floor division
    out[3] = -7 % i64(ctx.type)
    small += u8(ctx.type) * 5                   # 250 + 10 wraps to 4
    out[4] = i64(u32(ctx.type) << 33)           # shift counts modulo the width
    out[5] = i64(i8(ctx.protocol))              # truncation keeps the sign bit
    return ALLOW
''')
    prog.f(type=2, protocol=0xFE)
    assert prog.globals["out"] == [0, 2, -4, 1, 4, -2]
    assert prog.globals["small"] == 4


def test_the_option_window_has_bounds() -> None:
    prog = program('''
seen: list[u32] = [0] * 4

@cgroup_setsockopt
def f(ctx: SockoptContext) -> int:
    seen[0] = ctx.optval.u32(0)
    seen[1] = ctx.optval.u32(ctx.optname)      # past the end: 0
    seen[2] = u32(ctx.optval[ctx.optname])
    seen[3] = u32(len(ctx.optval))
    ctx.optval[1] = 0xAA
    ctx.optval.set_u16(ctx.optname, 0xBBBB)     # past the end: nothing
    return ALLOW
''')
    result = prog.f(optval=b"\x01\x02\x03\x04\x05", optname=3)
    assert result.globals["seen"] == [0x04030201, 0, 4, 5]
    assert result.optval == b"\x01\xaa\x03\xbb\xbb"
    result = prog.f(optval=b"\x01\x02\x03\x04\x05", optname=4)
    assert result.optval == b"\x01\xaa\x03\x04\x05"   # two bytes at 4 do not fit
    assert prog.f(optval=b"\x01\x02\x03\x04\x05", optname=4).written == {}


MAPS = '''
table: HashMap[u32, u64] = HashMap(max_entries=2)
recent: LruHashMap[u32, u64] = LruHashMap(max_entries=2)
slots: ArrayMap[u32] = ArrayMap(max_entries=4)
mine: PerCpuHashMap[u32, u32] = PerCpuHashMap(max_entries=8)
results: list[i64] = [0] * 8

@cgroup_sock_create
def f(ctx: SockContext) -> int:
    key = ctx.protocol
    results[0] = table.update(key, 1, BPF_NOEXIST)
    results[1] = table.update(key, 2, BPF_EXIST)
    results[2] = table.update(key + 100, 3, BPF_EXIST)
    results[3] = table.update(key, 4, u64(ctx.mark) + 2)
    results[4] = table.delete(key + 200)
    results[5] = slots.update(ctx.type, 9)
    results[6] = slots.update(0, 9, BPF_NOEXIST)
    recent.update(key, 1)
    mine.update(key, ctx.mark)
    seen = recent.lookup(key - 1)
    if seen is not None:
        seen.value += 10
    return ALLOW
'''


def test_maps_keep_the_kernels_rules() -> None:
    prog = program(MAPS, Fakes(cpu=1, cpus=3))
    first = prog.f(protocol=1, type=0, mark=5)
    assert first.globals["results"][:7] == [0, 0, -errno.ENOENT, -errno.EINVAL,
                                            -errno.ENOENT, 0, -errno.EEXIST]
    assert first.maps["table"] == {1: 2}
    assert first.maps["mine"] == {1: [0, 5, 0]}
    prog.f(protocol=2, type=4, mark=6)                   # index 4 is past the end
    assert prog.globals["results"][5] == -errno.E2BIG
    third = prog.f(protocol=3, type=1, mark=7)           # the hash map is full
    assert third.globals["results"][0] == -errno.E2BIG
    assert third.maps["table"] == {1: 2, 2: 2}
    # The second run looked 1 up after adding 2: 2 was the least recently used.
    assert third.maps["recent"] == {1: 11, 3: 1}
    assert third.maps["slots"] == {0: 9, 1: 9, 2: 0, 3: 0}


def test_ring_buffer_refuses_what_does_not_fit() -> None:
    prog = program('''
events: RingBuf = RingBuf(max_entries=4096)
failed: i64 = 0

@cgroup_sock_create
def f(ctx: SockContext) -> int:
    global failed
    record = bytearray(248)
    record[0] = u8(ctx.type)
    result = events.output(record)
    if result < 0:
        failed = result
    return ALLOW
''')
    for i in range(15):
        prog.f(type=i)
    assert len(prog.maps["events"]) == 15 and prog.globals["failed"] == 0
    prog.f(type=99)       # 16 records of 256 bytes would fill all 4096
    assert prog.globals["failed"] == -errno.EAGAIN
    assert [r[0] for r in prog.maps["events"].drain()] == list(range(15))


def test_helpers_report_the_fakes() -> None:
    prog = program('''
seen: list[u64] = [0] * 7

@cgroup_sock_create
def f(ctx: SockContext) -> int:
    seen[0] = ktime_get_ns()
    seen[1] = ktime_get_ns()
    seen[2] = u64(get_prandom_u32())
    seen[3] = u64(get_prandom_u32())
    seen[4] = get_current_pid_tgid()
    seen[5] = get_current_uid_gid()
    seen[6] = get_socket_cookie(ctx)
    print("pid", seen[4] >> 32, "mark", ctx.mark)
    return ALLOW
''', Fakes(time_ns=100, time_step_ns=5, random=[7, 8], pid=11, tgid=10, uid=3, gid=4,
           socket_cookie=99))
    result = prog.f(mark=1)
    assert result.globals["seen"] == [100, 105, 7, 8, 10 << 32 | 11, 4 << 32 | 3, 99]
    assert result.printed == ["pid 10 mark 1"]


def test_a_packet_load_outside_the_packet_ends_the_program() -> None:
    prog = program('''
@socket_filter
def f(skb: SkBuff) -> int:
    buf = bytearray(4)
    if skb_load_bytes(skb, 2, buf) < 0:
        return 7
    return u32(skb.load_u16(skb.len - 1)) + 100
''')
    assert prog.f(packet=b"\x01\x02\x03\x04\x05\x06").verdict == 0
    assert prog.f(packet=b"\x01\x02\x03\x04").verdict == 7


def test_strtol_and_strtoul_follow_the_kernel() -> None:
    assert strtoul(b"  42 rest", 10) == (4, 42)
    assert strtoul(b"0x1f", 0) == (4, 31)
    assert strtoul(b"017", 0) == (3, 15)
    assert strtoul(b"-5", 10) == (-errno.EINVAL, 0)
    assert strtol(b"-5", 10) == (2, -5)
    assert strtoul(b"x", 10) == (-errno.EINVAL, 0)
    assert strtoul(b"18446744073709551616", 10) == (-errno.ERANGE, 0)
    assert strtol(b"9223372036854775808", 10) == (-errno.ERANGE, 0)
    assert strtol(b"-9223372036854775808", 10) == (20, -(1 << 63))
    assert strtoul(b"12", 7) == (-errno.EINVAL, 0)
    assert strtoul(b"   ", 10) == (-errno.EINVAL, 0)
