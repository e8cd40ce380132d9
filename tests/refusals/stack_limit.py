"""A local the program keeps on its stack.  pybpfc refuses locals past the
512 bytes BPF has; the test moves one store 520 bytes down."""
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, sysctl_get_current_value


@cgroup_sysctl
def first_byte(ctx: SysctlContext) -> int:
    text = bytearray(16)
    sysctl_get_current_value(ctx, text)
    if text[0] == 0:
        return REJECT
    return ALLOW
