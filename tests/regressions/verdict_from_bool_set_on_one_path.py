# Fuzzer finding: a verdict from a bool set on one path only.
from typing import Final
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, get_current_cgroup_id, get_prandom_u32, htonl, i16, i32, i64, i8, ntohl, struct, sysctl_set_new_value, u16, u32, u64, u8
LIMIT2: Final = 4
@struct
class Rec3:
    f6: u32
g9: u32 = 0
g11: u64 = 0
g12: u8 = 0
g17: i8 = 0
def helper7() -> u64:
    for idx8 in range(0):
        idx8 = i64((g9 >> g9))
    count15: u32 = 0
    while count15 < 2:
        v16: i8 = ((g17 & (g17 << 64)) >> g12)
    return g11
@cgroup_sysctl
def hook30(ctx: SysctlContext) -> int:
    for idx18 in range(2):
            ctx.file_pos = (htonl(ctx.file_pos) << u16(ctx.file_pos))
    buf22 = bytearray(4)
    r23: i64 = sysctl_set_new_value(ctx, buf22, get_current_cgroup_id())
    count24: u32 = 0
    while count24 < 4:
        count24 += 1
        if (buf22.startswith(b"\x2b\x65\xcb") or buf22.startswith(b"\x6c\x7d\x22")):
            xs25: list[u64] = [0x281, 0x7fffffffffffffff]
        elif ((g17 < 63) and ((get_prandom_u32() > ctx.write) and (g17 != LIMIT2))):
            if (get_prandom_u32() != ctx.file_pos >= get_prandom_u32()):
                flag26: bool = ((-i16(ctx.file_pos)) and True)
    return REJECT if flag26 else ALLOW
