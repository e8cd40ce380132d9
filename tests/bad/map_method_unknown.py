# expect: 9:11 ArrayMap 'slots' has no method 'delete'
from pybpfc import ALLOW, ArrayMap, SockContext, cgroup_sock_create, u64

slots: ArrayMap[u64] = ArrayMap(max_entries=4)


@cgroup_sock_create
def f(ctx: SockContext) -> int:
    slots.delete(0)
    return ALLOW
