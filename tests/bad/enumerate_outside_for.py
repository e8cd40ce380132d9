# expect: 8:9 enumerate() is only for `for` loops
from pybpfc import ALLOW, SysctlContext, cgroup_sysctl


@cgroup_sysctl
def f(ctx: SysctlContext) -> int:
    name = bytearray(16)
    e = enumerate(name)
    return ALLOW
