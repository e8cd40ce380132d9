# Fuzzer finding: LLVM's tail merging made the store to a context field in
# one branch and the store to a global in the other one instruction, reached
# with a context pointer and with a map value pointer; the verifier refuses
# that ("same insn cannot be used with different pointers").
from pybpfc import REJECT, SockContext, cgroup_sock_release, u32
g: u32 = 0
@cgroup_sock_release
def h(ctx: SockContext) -> int:
    global g
    if ctx.dst_port > 5:
        g = 1
    elif ctx.protocol:
        ctx.bound_dev_if = ctx.family
    return REJECT
