"""Let tasks in the cgroup read sysctls but not write them, except when
they write at position 0 (which is how echo writes a value)."""
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, u64

reads: u64 = 0
writes_refused: u64 = 0


@cgroup_sysctl
def guard(ctx: SysctlContext) -> int:
    global reads, writes_refused
    if not ctx.write:
        reads += 1
        return ALLOW
    if ctx.file_pos != 0:
        writes_refused += 1
        return REJECT
    ctx.file_pos = 0
    writes_refused += 1
    return REJECT
