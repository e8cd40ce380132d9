# expect: 8:37 sysctl_set_new_value() needs a length of at least 1
from pybpfc import ALLOW, SysctlContext, cgroup_sysctl, sysctl_set_new_value


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    text = bytearray(b"1")
    sysctl_set_new_value(ctx, text, 0)
    return ALLOW
