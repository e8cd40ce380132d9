# expect: error: the program defines no hook
from pybpfc import ALLOW, REJECT, SockoptContext, SysctlContext, SockContext, cgroup_sysctl, cgroup_setsockopt, cgroup_getsockopt, u8, u32, u64, i32


def helper(a: u32) -> u32:
    return a
