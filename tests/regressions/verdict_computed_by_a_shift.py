# Fuzzer finding: LLVM computed `(v + v) >= v` for a 16-bit v as `v >> 15`,
# leaving out the `& 1` because it knew v has 16 bits; the verifier, which
# lost track of v's width after a shift by a variable amount, found R0 up to
# 131071 at the exit, where a verdict must be 0 or 1.
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, get_current_cgroup_id, get_retval, u16
@cgroup_sysctl
def h(ctx: SysctlContext) -> int:
    v: u16 = min(u16(get_retval()), u16(ctx.file_pos) & (u16(ctx.file_pos) >> get_current_cgroup_id()))
    return REJECT if ((v + v) >= v) else ALLOW
