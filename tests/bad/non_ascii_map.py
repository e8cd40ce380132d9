# expect: 4:1 the map name 'vüs' is not ASCII
from pybpfc import ALLOW, HashMap, SockoptContext, cgroup_setsockopt, u32, u64

vüs: HashMap[u32, u64] = HashMap(max_entries=4)


@cgroup_setsockopt
def guard(ctx: SockoptContext) -> int:
    vüs.update(1, 2)
    return ALLOW
