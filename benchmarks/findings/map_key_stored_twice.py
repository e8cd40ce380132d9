"""Count by protocol: look the key up, add it when missing."""
from pybpfc import ALLOW, HashMap, SockContext, atomic_add, cgroup_sock_create, u32, u64

counts: HashMap[u32, u64] = HashMap(max_entries=16)


@cgroup_sock_create
def by_protocol(ctx: SockContext) -> int:
    seen = counts.lookup(ctx.protocol)
    if seen is None:
        counts.update(ctx.protocol, 1)
    else:
        atomic_add(seen.value, 1)
    return ALLOW
