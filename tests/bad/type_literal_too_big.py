# expect: 7:13 300 does not fit in u8
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    x: u8 = 300
    return ALLOW
