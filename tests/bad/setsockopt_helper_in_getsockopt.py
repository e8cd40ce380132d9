# expect: 8:5 setsockopt() is not available in a @cgroup_getsockopt hook
from pybpfc import ALLOW, SockoptContext, cgroup_getsockopt, setsockopt


@cgroup_getsockopt
def f(ctx: SockoptContext) -> int:
    value = bytearray(4)
    setsockopt(ctx.sk, 0, 1, value)
    return ALLOW
