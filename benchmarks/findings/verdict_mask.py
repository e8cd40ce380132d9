"""A verdict computed as a bool."""
from pybpfc import SockContext, cgroup_post_bind4


@cgroup_post_bind4
def bound_somewhere(ctx: SockContext) -> int:
    return ctx.src_ip4 != 0 or ctx.src_port != 0
