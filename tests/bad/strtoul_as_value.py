# expect: 9:12 strtoul() may only initialise a variable
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, strtoul, sysctl_get_new_value


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    text = bytearray(16)
    sysctl_get_new_value(ctx, text)
    return strtoul(text, 0, 10).value < 100
