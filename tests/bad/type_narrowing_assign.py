# expect: 9:9 does not fit in u8
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    x: u8 = 1
    y: u32 = x
    x = y + 0
    return ALLOW
