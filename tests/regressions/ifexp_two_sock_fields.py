# Fuzzer finding: the same through plain loads of a socket context.
from pybpfc import ALLOW, SockContext, cgroup_sock_create
@cgroup_sock_create
def h(ctx: SockContext) -> int:
    x = ctx.family if ctx.mark else ctx.protocol
    return x == 2
