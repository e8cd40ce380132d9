# expect: 6:1 async
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


@cgroup_sysctl
async def f(ctx: SysctlContext) -> int:
    return ALLOW
