# expect: 10:8 `name` always holds 32 elements, so this test is always False
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, sysctl_get_name


@cgroup_sysctl
def guard(ctx: SysctlContext) -> int:
    name = bytearray(32)
    sysctl_get_name(ctx, name, 0)
    # A bytearray's length is fixed where it is made, not by what a helper wrote.
    if len(name) < 16:
        return REJECT
    return ALLOW
