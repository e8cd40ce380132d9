# expect: 9:17 slice is not supported
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, sysctl_get_name


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    name = bytearray(16)
    sysctl_get_name(ctx, name, 0)
    head = name[0:4]
    return ALLOW
