# expect: 10:5 used before its global declaration
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32

hits: u64 = 0


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    x = hits
    global hits
    hits = x + 1
    return ALLOW
