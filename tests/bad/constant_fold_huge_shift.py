# expect: 7:24 does not fit in i64
# Fuzzer finding: folding `-2 - (1 << 64)` also computed `-2 << (1 << 64)`,
# which ran out of memory.
from pybpfc import ALLOW, SysctlContext, cgroup_sysctl
@cgroup_sysctl
def h(ctx: SysctlContext) -> int:
    for i in range(-3, -2-(1 << 64) -1):
        pass
    return ALLOW
