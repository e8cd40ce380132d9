# expect: 7:18 can only be set to 0
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


@cgroup_getsockopt
def f(ctx: SockoptContext) -> int:
    ctx.retval = -1
    return ALLOW
