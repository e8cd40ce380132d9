# expect: 9:5 'limit' is ReadOnly
from pybpfc import ALLOW, ReadOnly, SockContext, cgroup_sock_create, u32

limit: ReadOnly[u32] = 4


@cgroup_sock_create
def f(ctx: SockContext) -> int:
    global limit
    limit = 5
    return ALLOW
