"""Lesson 5: count the tabs in a sysctl's value, with a loop the verifier refuses."""
from typing import Final

from pybpfc import ALLOW, SysctlContext, cgroup_sysctl, sysctl_get_current_value, u64

TAB: Final = 9      # ord("\t")

tabs: u64 = 0


@cgroup_sysctl
def count_tabs(ctx: SysctlContext) -> int:
    global tabs
    text = bytearray(64)
    length = sysctl_get_current_value(ctx, text)    # how many bytes it wrote, or -errno
    for i in range(length):
        if text[i] == TAB:
            tabs += 1
    return ALLOW
