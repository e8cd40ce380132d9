# expect: 8:16 setsockopt() takes the socket, ctx.sk, here
from pybpfc import ALLOW, SockoptContext, cgroup_setsockopt, setsockopt


@cgroup_setsockopt
def f(ctx: SockoptContext) -> int:
    value = bytearray(4)
    setsockopt(ctx, 1, 36, value)
    return ALLOW
