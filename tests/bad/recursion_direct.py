# expect: 6:12 recursion
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


def fact(n: u32) -> u32:
    return fact(n - 1) if n > 1 else 1


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    return ALLOW if fact(3) == 6 else REJECT
