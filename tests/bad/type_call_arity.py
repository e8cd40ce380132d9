# expect: 11:9 takes 2 arguments, got 1
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


def add(a: u32, b: u32) -> u32:
    return a + b


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    x = add(1)
    return ALLOW
