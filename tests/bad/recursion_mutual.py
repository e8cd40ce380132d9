# expect: 10:12 recursion
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


def ping(n: u32) -> u32:
    return pong(n) if n > 0 else 0


def pong(n: u32) -> u32:
    return ping(n - 1)


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    return ALLOW if ping(3) == 0 else REJECT
