# expect: 9:5 add `global hits`
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32

hits: u64 = 0


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    hits = hits + 1
    return ALLOW
