# expect: 12:12 is a hook
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


@cgroup_sysctl
def g(ctx: SysctlContext) -> int:
    return ALLOW


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    return g(ctx)
