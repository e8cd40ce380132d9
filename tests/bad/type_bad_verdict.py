# expect: 7:12 returns ALLOW (1) or REJECT (0)
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    return 2
