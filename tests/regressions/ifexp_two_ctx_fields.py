# Fuzzer finding: LLVM merged two context loads into one load from a selected
# address, which the verifier refuses.
from pybpfc import ALLOW, SockoptContext, cgroup_getsockopt
@cgroup_getsockopt
def h(ctx: SockoptContext) -> int:
    x = ctx.optname if ctx.level else ctx.retval
    return ALLOW
