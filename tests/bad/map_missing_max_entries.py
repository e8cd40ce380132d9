# expect: 4:29 HashMap() needs max_entries
from pybpfc import ALLOW, HashMap, SockContext, cgroup_sock_create, u32, u64

counts: HashMap[u32, u64] = HashMap()


@cgroup_sock_create
def f(ctx: SockContext) -> int:
    return ALLOW
