# expect: 7:47 print() shows at most 3 values
from pybpfc import ALLOW, SockContext, cgroup_sock_create


@cgroup_sock_create
def f(ctx: SockContext) -> int:
    print(ctx.family, ctx.type, ctx.protocol, ctx.mark)
    return ALLOW
