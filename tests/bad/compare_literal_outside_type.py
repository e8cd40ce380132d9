# expect: 7:28 300 does not fit in u8 (0..255)
from pybpfc import ALLOW, REJECT, SockContext, cgroup_sock_create, u8


@cgroup_sock_create
def create(ctx: SockContext) -> int:
    if u8(ctx.protocol) == 300:
        return REJECT
    return ALLOW
