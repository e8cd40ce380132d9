"""Three writes after a length test that covers all of them."""
from pybpfc import ALLOW, SockoptContext, cgroup_getsockopt


@cgroup_getsockopt
def fill(ctx: SockoptContext) -> int:
    if len(ctx.optval) < 12:
        return ALLOW
    ctx.optval.set_u32(8, 3)
    ctx.optval.set_u32(4, 2)
    ctx.optval.set_u32(0, 1)
    return ALLOW
