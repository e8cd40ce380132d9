"""Two reads and a write of an option value, with no length test of its own."""
from pybpfc import ALLOW, SockoptContext, cgroup_setsockopt


@cgroup_setsockopt
def clamp(ctx: SockoptContext) -> int:
    if ctx.optval.u32(0) != 0 and ctx.optval.u32(4) > 5:
        ctx.optval.set_u32(4, 5)
    return ALLOW
