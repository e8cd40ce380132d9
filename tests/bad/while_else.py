# expect: 10:5 `while ... else` is not supported
from pybpfc import ALLOW, SysctlContext, cgroup_sysctl, u32


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    n: u32 = 0
    while n < 3:
        n += 1
    else:
        n = 5
    return ALLOW
