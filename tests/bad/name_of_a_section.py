# expect: 5:5 'license' is also the name of the section that holds the program's LICENSE string
from pybpfc import ALLOW, SysctlContext, cgroup_sysctl

@cgroup_sysctl
def license(ctx: SysctlContext) -> int:
    return ALLOW
