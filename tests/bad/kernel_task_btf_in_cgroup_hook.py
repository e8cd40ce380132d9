# expect: 6:12 get_current_task_btf() is not available in a @cgroup_sysctl hook
from pybpfc import ALLOW, SysctlContext, cgroup_sysctl, get_current_task_btf

@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    task = get_current_task_btf()
    return ALLOW
