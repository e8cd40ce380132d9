# expect: 7:8 unknown type 'u128'
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    x: u128 = 0
    return ALLOW
