# Differential test finding: LLVM folded the two arms' loads, ctx.sk's
# field and a global, into one load reached with a socket pointer and a map
# value pointer; the verifier refuses that ("same insn cannot be used with
# different pointers").
from pybpfc import ALLOW, SockoptContext, cgroup_setsockopt, u32

g: u32 = 0


@cgroup_setsockopt
def h(ctx: SockoptContext) -> int:
    ctx.optval.set_u32(8, ctx.sk.bound_dev_if if ctx.optval[3] >= 127 else g)
    return ALLOW
