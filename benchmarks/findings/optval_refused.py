"""A valid program whose object the verifier refuses: four writes in
ascending order after a length test that covers them all."""
from pybpfc import ALLOW, SockoptContext, cgroup_getsockopt


@cgroup_getsockopt
def four_stores(ctx: SockoptContext) -> int:
    if len(ctx.optval) < 16:
        return ALLOW
    ctx.optval.set_u32(0, 1)
    ctx.optval.set_u32(4, 2)
    ctx.optval.set_u32(8, 3)
    ctx.optval.set_u32(12, 4)
    return ALLOW
