"""Lesson 4: count the sockets of each type in a map, and all of them in a global."""
from pybpfc import ALLOW, HashMap, SockContext, atomic_add, cgroup_sock_create, u32, u64

by_type: HashMap[u32, u64] = HashMap(max_entries=16)   # socket type -> sockets
total: u64 = 0


@cgroup_sock_create
def count_by_type(ctx: SockContext) -> int:
    atomic_add(total, 1)
    seen = by_type.lookup(ctx.type)     # a reference into the map, or None
    if seen is None:
        by_type.update(ctx.type, 1)     # the first socket of this type
    else:
        atomic_add(seen.value, 1)
    return ALLOW
