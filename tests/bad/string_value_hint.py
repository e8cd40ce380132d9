# expect: 9:16 strings are not supported here
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, sysctl_get_name


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    name = bytearray(4)
    sysctl_get_name(ctx, name, 1)
    if name == "abc\0":
        return REJECT
    return ALLOW
