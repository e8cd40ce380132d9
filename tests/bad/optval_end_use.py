# expect: 7:13 raw pointer
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


@cgroup_getsockopt
def f(ctx: SockoptContext) -> int:
    e = ctx.optval_end
    return ALLOW
