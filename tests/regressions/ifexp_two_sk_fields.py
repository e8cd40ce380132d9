# Fuzzer finding: the same through ctx.sk (pointer arithmetic on a sock).
from pybpfc import ALLOW, SockoptContext, cgroup_setsockopt
@cgroup_setsockopt
def h(ctx: SockoptContext) -> int:
    x = ctx.sk.dst_ip4 if ctx.level else ctx.sk.family
    return x == 7
