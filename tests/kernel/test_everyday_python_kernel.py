"""Programs written as a newcomer writes them behave in the kernel as their
Python reads: records sent to user space are read back by their type's
name, and a length test of the option buffer lets the accesses after it
through."""
from __future__ import annotations

import errno
import os
import socket

from tests.support import REPO_ROOT, errno_of, run_in_cgroup
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.cgroup import TemporaryCgroup
from pybpfc.runtime.collection import load

SENDS_A_RECORD = """
from pybpfc import ALLOW, RingBuf, SysctlContext, cgroup_sysctl, struct, u32

@struct
class Write:
    pos: u32
    write: u32

events: RingBuf = RingBuf(max_entries=4096)

@cgroup_sysctl
def watch(ctx: SysctlContext) -> int:
    w = Write()             # a local only: no global, map or function names Write
    w.pos = ctx.file_pos + 7
    w.write = ctx.write
    events.output(w)
    return ALLOW
"""


def test_a_record_type_sent_to_user_space_reads_back_by_name(cgroup: TemporaryCgroup) -> None:
    with load(compile_source(Source("sends.py", SENDS_A_RECORD)).elf) as coll, \
            coll.maps["events"].reader("Write") as ring:
        with coll["watch"].attach(cgroup.path):
            def child() -> None:
                fd = os.open("/proc/sys/net/ipv4/ip_forward", os.O_RDONLY)
                os.read(fd, 100)
                os.close(fd)
            run_in_cgroup(cgroup.path, child)
        records = ring.read()
    assert [(r.pos, r.write) for r in records] == [(7, 0)]


TWO_STORES = """
from typing import Final
from pybpfc import ALLOW, REJECT, SockoptContext, cgroup_setsockopt

SOL_SOCKET: Final = 1
SO_MARK: Final = 36

@cgroup_setsockopt
def two(ctx: SockoptContext) -> int:
    if ctx.level != SOL_SOCKET or ctx.optname != SO_MARK:
        return ALLOW
    if len(ctx.optval) < 2:
        return REJECT
    ctx.optval[0] = 1
    ctx.optval[1] = 2
    return ALLOW
"""


def test_a_length_test_lets_two_stores_through(cgroup: TemporaryCgroup) -> None:
    with load(compile_source(Source("two.py", TWO_STORES)).elf) as coll:
        with coll["two"].attach(cgroup.path):
            def child() -> int:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 0)
                return s.getsockopt(socket.SOL_SOCKET, socket.SO_MARK)
            # The hook rewrote the value's first two bytes: 0x0201.
            assert run_in_cgroup(cgroup.path, child) == 0x0201


# The program is also a regression program: it must keep loading on its own.
SEQUENCES = (REPO_ROOT / "tests" / "regressions" /
             "loops_over_sequences_in_and_enums.py").read_text()


def test_loops_over_sequences_membership_and_enums(cgroup: TemporaryCgroup) -> None:
    with load(compile_source(Source("seq.py", SEQUENCES)).elf) as coll:
        with coll["names"].attach(cgroup.path), coll["protocols"].attach(cgroup.path):
            def child() -> tuple[int, int]:
                fd = os.open("/proc/sys/net/ipv4/ip_forward", os.O_RDONLY)
                os.read(fd, 100)
                os.close(fd)
                return (errno_of(socket.socket, socket.AF_INET, socket.SOCK_STREAM),
                        errno_of(socket.socket, socket.AF_INET, socket.SOCK_DGRAM))
            assert run_in_cgroup(cgroup.path, child) == (0, errno.EPERM)
        # net/ipv4/ip_forward: two slashes, the first at 3, one digit.
        assert (coll.globals["slashes"], coll.globals["first_slash"],
                coll.globals["digits"]) == (2, 3, 1)


OVER_THE_WINDOW = """
from pybpfc import ALLOW, SockoptContext, cgroup_setsockopt, u32

total: u32 = 0
length: u32 = 0


@cgroup_setsockopt
def scan(ctx: SockoptContext) -> int:
    global total, length
    for i in range(len(ctx.optval)):
        total += ctx.optval[i]
    length = len(ctx.optval)
    return ALLOW
"""


def test_a_loop_over_the_option_buffer_reads_every_byte(cgroup: TemporaryCgroup) -> None:
    with load(compile_source(Source("scan.py", OVER_THE_WINDOW)).elf) as coll:
        with coll["scan"].attach(cgroup.path):
            def child() -> None:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.SOL_IP, socket.IP_TOS, 0x0810)   # bytes 10 08 00 00
            run_in_cgroup(cgroup.path, child)
        # The kernel hands the hook at least 16 bytes, zero past the value.
        assert (coll.globals["total"], coll.globals["length"]) == (0x10 + 0x08, 16)


BRANCHING_LOOPS = """
from pybpfc import ALLOW, REJECT, SockoptContext, cgroup_setsockopt, u32

others: u32 = 0
first_zero: u32 = 0


@cgroup_setsockopt
def lower(ctx: SockoptContext) -> int:
    global others, first_zero
    for i in range(len(ctx.optval)):
        if ctx.optval[i] == 0xFF:
            return REJECT
    for i in range(len(ctx.optval)):
        c = ctx.optval[i]
        if 65 <= c <= 90:
            ctx.optval[i] = c + 32
        else:
            others += 1
    for i in range(len(ctx.optval)):
        if ctx.optval[i] == 0:
            first_zero = u32(i)
            break
    return ALLOW
"""


def test_loops_over_the_option_buffer_with_branches(cgroup: TemporaryCgroup) -> None:
    with load(compile_source(Source("lower.py", BRANCHING_LOOPS)).elf) as coll:
        with coll["lower"].attach(cgroup.path):
            def child() -> tuple[bytes, int]:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                # The hook lower-cases the name before the kernel reads it.
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"RENO")
                name = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16)
                return name.rstrip(b"\0"), errno_of(
                    lambda: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"r\xffno"))
            assert run_in_cgroup(cgroup.path, child) == (b"reno", errno.EPERM)
        # "RENO" in a 16-byte buffer: 12 zero bytes are not letters, the
        # first of them at 4.
        assert (coll.globals["others"], coll.globals["first_zero"]) == (12, 4)
