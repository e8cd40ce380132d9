# expect: 8:20 300 is never a u8
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, u8


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    x: u8 = u8(ctx.file_pos)
    if x in (1, 2, 300):
        return REJECT
    return ALLOW
