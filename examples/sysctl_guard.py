"""Let tasks in the cgroup read sysctls but not write them: every write
fails with EPERM, wherever in the file it starts.  The two branches for
writes show reading and setting ``ctx.file_pos`` (echo writes at position
0); both refuse.  ``reads`` and ``writes_refused`` count what the hook saw."""
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
