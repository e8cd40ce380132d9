# expect: 9:5 method
from pybpfc import struct, u32, cgroup_sysctl, SysctlContext, ALLOW


@struct
class Pair:
    a: u32

    def total(self) -> u32:
        return self.a


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    return ALLOW
