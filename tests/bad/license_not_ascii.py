# expect: 4:11 LICENSE must be ASCII text
from pybpfc import ALLOW, SysctlContext, cgroup_sysctl

LICENSE = "GPL édition"


@cgroup_sysctl
def h(ctx: SysctlContext) -> int:
    return ALLOW
