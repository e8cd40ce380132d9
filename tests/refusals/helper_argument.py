"""A kernel helper asked to write more bytes than the buffer it is given
holds.  pybpfc passes the buffer's own length; the test passes 100."""
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, sysctl_get_current_value


@cgroup_sysctl
def first_byte(ctx: SysctlContext) -> int:
    text = bytearray(16)
    sysctl_get_current_value(ctx, text)
    if text[0] == 0:
        return REJECT
    return ALLOW
