"""A ReadOnly global, read; the test turns the read into a write (pybpfc
refuses writing a ReadOnly global at compile time)."""
from pybpfc import ALLOW, REJECT, ReadOnly, SysctlContext, cgroup_sysctl, u32

limit: ReadOnly[u32] = 3


@cgroup_sysctl
def limited(ctx: SysctlContext) -> int:
    return REJECT if ctx.file_pos > limit else ALLOW
