"""A lookup's result used where it may be None.  pybpfc refuses that at
compile time, so the test breaks the compiled None check: it compares the
pointer with 1 instead of 0, which tells the verifier nothing."""
from pybpfc import ALLOW, HashMap, SockContext, atomic_add, cgroup_sock_create, u32, u64

by_protocol: HashMap[u32, u64] = HashMap(max_entries=64)


@cgroup_sock_create
def count(ctx: SockContext) -> int:
    seen = by_protocol.lookup(ctx.protocol)
    if seen is None:
        by_protocol.update(ctx.protocol, 1)
    else:
        atomic_add(seen.value, 1)
    return ALLOW
