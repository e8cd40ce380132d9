# expect: 5:12 *args
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


def helper(*args: u32) -> u32:
    return 0


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    return ALLOW
