# expect: 12:16 starred
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


def helper(a: u32) -> u32:
    return a


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    xs = [1]
    y = helper(*xs)
    return ALLOW
