# expect: 9:13 cannot mix
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    a: u32 = 1
    b: i32 = 2
    c = a + b
    return ALLOW
