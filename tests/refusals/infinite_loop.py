"""Waiting for a context field to change: it never does while the hook runs."""
from pybpfc import ALLOW, SysctlContext, cgroup_sysctl


@cgroup_sysctl
def wait(ctx: SysctlContext) -> int:
    while ctx.file_pos < 10:
        pass
    return ALLOW
