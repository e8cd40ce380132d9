# expect: 7:8 `ctx.write` is u32, not a bool
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    if ctx.write == True:
        return REJECT
    return ALLOW
