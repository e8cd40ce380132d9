# expect: 7:12 read-only
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


@cgroup_getsockopt
def f(ctx: SockoptContext) -> int:
    ctx.sk.mark = 1
    return ALLOW
