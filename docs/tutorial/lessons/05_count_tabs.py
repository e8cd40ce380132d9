"""Lesson 5: count the tabs in a sysctl's value, with a loop the verifier can bound."""
from typing import Final

from pybpfc import ALLOW, SysctlContext, cgroup_sysctl, sysctl_get_current_value, u64

TAB: Final = 9      # ord("\t")

reads: u64 = 0
tabs: u64 = 0


@cgroup_sysctl
def count_tabs(ctx: SysctlContext) -> int:
    global reads, tabs
    if ctx.write or ctx.file_pos != 0:      # only the first read(2) of each value
        return ALLOW
    reads += 1
    text = bytearray(64)
    length = sysctl_get_current_value(ctx, text)
    for i in range(min(length, len(text))):     # never more than 64 rounds
        if text[i] == TAB:
            tabs += 1
    return ALLOW
