# expect: 5:5 without returning a value
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


def pick(a: u32) -> u32:
    if a > 1:
        return a


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    return ALLOW
