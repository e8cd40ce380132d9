# expect: 7:17 a @cgroup_sock_create hook has no packet to load from
from pybpfc import ALLOW, SockContext, cgroup_sock_create


@cgroup_sock_create
def f(ctx: SockContext) -> int:
    first = ctx.load_u8(0)
    return ALLOW
