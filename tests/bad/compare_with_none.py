# expect: 10:8 compare with None using 'is', not '=='
from pybpfc import ALLOW, REJECT, HashMap, SysctlContext, cgroup_sysctl, u32, u64

seen: HashMap[u32, u64] = HashMap(max_entries=4)


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    v = seen.lookup(1)
    if v == None:
        return REJECT
    return ALLOW
