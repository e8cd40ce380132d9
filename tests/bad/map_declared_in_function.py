# expect: 8:13 maps are declared at module level
from pybpfc import ALLOW, HashMap, SockContext, cgroup_sock_create, u32, u64


@cgroup_sock_create
def f(ctx: SockContext) -> int:
    # A map is a kernel object: it exists once, at module level.
    counts: HashMap[u32, u64] = HashMap(max_entries=16)
    return ALLOW
