# expect: 4:5 needs 800 bytes of stack
from pybpfc import ALLOW, SysctlContext, cgroup_sysctl, sysctl_get_name
@cgroup_sysctl
def h(ctx: SysctlContext) -> int:
    a = bytearray(400)
    b = bytearray(400)
    sysctl_get_name(ctx, a, 0)
    sysctl_get_name(ctx, b, 0)
    return a[3] == b[5]
