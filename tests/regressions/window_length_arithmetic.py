# Fuzzer finding: LLVM narrowed len(ctx.optval) into a 32-bit subtraction of
# pointers, which the verifier refuses.
from pybpfc import ALLOW, REJECT, SockoptContext, cgroup_setsockopt, get_current_cgroup_id, get_netns_cookie, get_prandom_u32, get_retval, i32, i64, i8, u16, u32, u64, u8
g2: u8 = 0
g3: i32 = 2
g4: u32 = 1
def helper6(p7: i8) -> u32:
    return g4
@cgroup_setsockopt
def hook21(ctx: SockoptContext) -> int:
    global g2, g3, g4
    if (ctx.optval[3] and True):
            for idx9 in range(1):
                    continue
    elif (ctx.level <= 100 <= 1073741823):
        xs13: list[u32] = [0] * 2
        for idx17 in range(1):
            buf18 = bytearray(b"\x7a\x7d\x40\x60\x0d\x1e\x25\x21\xdb\x57\x46\x8b\x1d\xba\x5b\x70\xe8\x9d\x27\x25\x3a")
    g4 &= ((len(ctx.optval) - 1) - xs13[1])
    return REJECT if True else ALLOW
