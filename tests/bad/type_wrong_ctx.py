# expect: 6:7 takes exactly one argument of type SysctlContext
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


@cgroup_sysctl
def f(ctx: SockoptContext) -> int:
    return ALLOW
