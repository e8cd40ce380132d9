# expect: 10:22 a 32-byte bytearray is never equal to a 15-byte literal, so this test is always False
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, sysctl_get_name


@cgroup_sysctl
def guard(ctx: SysctlContext) -> int:
    name = bytearray(32)
    sysctl_get_name(ctx, name, 0)
    # Python compares all 32 bytes: a shorter literal never matches.
    if ctx.write and name == b"kernel/hostname":
        return REJECT
    return ALLOW
