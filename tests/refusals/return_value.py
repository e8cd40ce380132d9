"""A verdict; the test makes the program return 2, which no cgroup hook
accepts (pybpfc refuses `return 2` at compile time)."""
from pybpfc import ALLOW, SysctlContext, cgroup_sysctl, u64

reads: u64 = 0


@cgroup_sysctl
def count(ctx: SysctlContext) -> int:
    global reads
    reads += 1
    return ALLOW
