# expect: 7:5 with
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    with open("x") as fh:
        pass
    return ALLOW
