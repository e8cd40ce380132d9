# expect: 5:2 unknown decorator
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


@staticmethod
def f(ctx: SysctlContext) -> int:
    return ALLOW
