"""Two numbers of a sysctl value, the second parsed where the first ended."""
from pybpfc import ALLOW, SysctlContext, cgroup_sysctl, strtoul, sysctl_get_new_value, u32


@cgroup_sysctl
def ordered(ctx: SysctlContext) -> int:
    text = bytearray(16)
    if sysctl_get_new_value(ctx, text) <= 0:
        return ALLOW
    first = strtoul(text, 0, 10)
    if first.length <= 0:
        return ALLOW
    second = strtoul(text, u32(first.length), 10)
    return second.length <= 0 or first.value < second.value
