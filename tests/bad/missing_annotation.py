# expect: 5:12 needs a type annotation
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


def helper(a) -> u32:
    return 0


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    return ALLOW
