# Fuzzer finding (differential run, seed 55): a socket field read on one
# arm and a global read on the other were merged by LLVM into one load
# from a pointer chosen at run time; the verifier refuses that ("same insn
# cannot be used with different pointers").  Context and socket reads that
# cannot change are now kept apart from other loads.
from pybpfc import ALLOW, SockContext, SockoptContext, cgroup_setsockopt, cgroup_sock_create, u32

g: u32 = 0


@cgroup_setsockopt
def pick(ctx: SockoptContext) -> int:
    if len(ctx.optval) >= 12:
        ctx.optval.set_u32(8, ctx.sk.bound_dev_if if ctx.optval[3] >= 127 else g)
    return ALLOW


@cgroup_sock_create
def branches(ctx: SockContext) -> int:
    global g
    x: u32 = 0
    if ctx.protocol == 17:
        x = ctx.family
    else:
        x = g
    g = x
    return ALLOW
