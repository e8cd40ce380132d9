# expect: 13:5 'seen' may be None here
from pybpfc import ALLOW, HashMap, SockContext, cgroup_sock_create, u32, u64

counts: HashMap[u32, u64] = HashMap(max_entries=16)


@cgroup_sock_create
def f(ctx: SockContext) -> int:
    seen = counts.lookup(ctx.protocol)
    if seen is None:
        return ALLOW
    seen = counts.lookup(ctx.type)
    seen.value += 1
    return ALLOW
