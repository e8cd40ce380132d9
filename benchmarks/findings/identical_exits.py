"""Two refusals that end alike (count, then REJECT), and an accepting
path that stores something else."""
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, u64

refused: u64 = 0
last_position: u64 = 0


@cgroup_sysctl
def guard(ctx: SysctlContext) -> int:
    global refused, last_position
    if ctx.write == 0:
        refused += 1
        return REJECT
    if ctx.file_pos > 10:
        refused += 1
        return REJECT
    last_position = ctx.file_pos
    return ALLOW
