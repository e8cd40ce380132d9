# expect: 10:5 is a constant
from typing import Final
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32

LIMIT: Final = 10


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    LIMIT = 3
    return ALLOW
