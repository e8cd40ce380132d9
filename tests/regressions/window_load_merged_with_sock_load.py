# Fuzzer finding: LLVM merged an option-buffer read (unaligned, so done
# byte by byte) on one arm with a socket field read on the other into
# loads from either pointer; the verifier refuses socket reads that way.
# Option-buffer reads are now volatile, so they are never merged.
from typing import Final
from pybpfc import ALLOW, REJECT, SockContext, SockoptContext, atomic_add, cgroup_setsockopt, cgroup_sock_create, get_current_cgroup_id, get_current_pid_tgid, get_current_uid_gid, i16, i32, i64, i8, ktime_get_ns, struct, u16, u32, u64, u8


LIMIT1: Final = 88
LIMIT2: Final[u8] = 112
@struct
class Rec3:
    f4: u16
    f5: i16
    f6: u8

@struct
class Rec7:
    f8: u64
    f9: u32
    f10: i32

g11: list[i32] = [0] * 1
g12: Rec3 = Rec3()
g13: i32 = 100
g14: u8 = 0xff
g16: i64 = 0
g17: u32 = 0
g18: u64 = 0


def helper15() -> i32:
    global g13, g14, g16, g17, g18
    if (g16 < g16 < g16):
        g12.f6 <<= g16
    elif (not ((g18 > g18) and (g12.f5 >= g12.f5))):
        g16 = LIMIT1
        g16 -= g16
    return ((g13 if (g12.f5 < g12.f5) else g13) if (g12.f5 and True) else g13)


@cgroup_setsockopt
def hook22(ctx: SockoptContext) -> int:
    global g13, g14, g16, g17, g18
    if bool((ctx.optval.u32(ctx.sk.bound_dev_if % 9) if (i8(ctx.sk.protocol) >= i8(ctx.sk.dst_port)) else ctx.sk.bound_dev_if)):
        old19: u64 = atomic_add(g18, (g18 + get_current_pid_tgid()))
    elif ((g12.f5 and True) or (get_current_uid_gid() and True)):
        g18 = ((get_current_cgroup_id() * ktime_get_ns()) >> 8)
    elif (not (get_current_uid_gid() == 7 > 2)):
        buf20 = bytearray(b"\xe2\x1d\xfa\x1d\x72\x2d\x6a\xe8")
        v21: u64 = get_current_pid_tgid()
    return REJECT


@cgroup_sock_create
def hook23(ctx: SockContext) -> int:
    global g13, g14, g16, g17, g18
    pass
    return ALLOW

