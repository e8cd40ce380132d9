"""A bounded loop with a branch in every round: the verifier must come back
to the other side of each, and more than 8192 wait at once."""
from typing import Final

from pybpfc import ALLOW, SysctlContext, cgroup_sysctl, sysctl_get_current_value, u64

TAB: Final = 9

tabs: u64 = 0


@cgroup_sysctl
def count_tabs(ctx: SysctlContext) -> int:
    global tabs
    text = bytearray(64)
    sysctl_get_current_value(ctx, text)
    for i in range(20000):
        if text[i % 64] == TAB:
            tabs += 1
    return ALLOW
