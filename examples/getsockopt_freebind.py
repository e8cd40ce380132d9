"""Report IP_FREEBIND as enabled, whatever the socket says.

getsockopt programs run after the kernel: they see its answer in
ctx.optval / ctx.optlen / ctx.retval and may rewrite it."""
from typing import Final

from pybpfc import ALLOW, PAGE_SIZE, SockoptContext, cgroup_getsockopt, u32

SOL_IP: Final = 0
IP_FREEBIND: Final = 15

rewritten: u32 = 0


@cgroup_getsockopt
def report_freebind(ctx: SockoptContext) -> int:
    global rewritten
    if ctx.level == SOL_IP and ctx.optname == IP_FREEBIND:
        if len(ctx.optval) >= 4:
            ctx.optval.set_u32(0, 1)   # little-endian int 1
            ctx.optlen = 4
            ctx.retval = 0             # success, whatever the kernel said
            rewritten += 1
        return ALLOW
    if ctx.optlen > PAGE_SIZE:
        ctx.optlen = 0
    return ALLOW
