# expect: 10:12 this lookup may find nothing
from pybpfc import ALLOW, HashMap, SockContext, cgroup_sock_create, u32, u64

counts: HashMap[u32, u64] = HashMap(max_entries=16)


@cgroup_sock_create
def f(ctx: SockContext) -> int:
    # The result of a lookup goes in a variable and is checked first.
    return counts.lookup(ctx.protocol).value > 2
