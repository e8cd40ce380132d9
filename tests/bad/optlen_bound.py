# expect: 7:18 can only be set to between -1 and 4096
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


@cgroup_setsockopt
def f(ctx: SockoptContext) -> int:
    ctx.optlen = -2
    return ALLOW
