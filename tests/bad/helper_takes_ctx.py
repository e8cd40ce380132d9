# expect: 5:7 cannot take the context
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


def w(ctx: SysctlContext) -> bool:
    return ctx.write == 1


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    return ALLOW
