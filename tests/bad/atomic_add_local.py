# expect: 8:16 atomic_add() works on a global or on a value in a map
from pybpfc import ALLOW, SockContext, atomic_add, cgroup_sock_create, u64


@cgroup_sock_create
def f(ctx: SockContext) -> int:
    n: u64 = 0
    atomic_add(n, 1)
    return ALLOW
