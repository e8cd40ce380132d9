"""A byte of a sysctl value at a computed position."""
from pybpfc import ALLOW, SysctlContext, cgroup_sysctl, sysctl_get_new_value, u32


@cgroup_sysctl
def ends_in_newline(ctx: SysctlContext) -> int:
    text = bytearray(16)
    size = sysctl_get_new_value(ctx, text)
    if size <= 0:
        return ALLOW
    return text[u32(size) - 1] == 0x0A
