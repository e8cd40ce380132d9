# Fuzzer finding: a length only known at run time could be 0, which the
# verifier refuses for a helper buffer.
from pybpfc import ALLOW, SysctlContext, cgroup_sysctl, sysctl_set_new_value
@cgroup_sysctl
def h(ctx: SysctlContext) -> int:
    buf = bytearray(8)
    n = sysctl_set_new_value(ctx, buf, ctx.file_pos)
    return ALLOW
