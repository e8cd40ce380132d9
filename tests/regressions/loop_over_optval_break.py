# Issue 12: a loop over the option buffer from a constant start, left early
# with break, its variable used after the loop, and the bytes before the
# first zero rewritten.
from pybpfc import ALLOW, SockoptContext, cgroup_getsockopt, u32

first_zero: u32 = 0


@cgroup_getsockopt
def find(ctx: SockoptContext) -> int:
    global first_zero
    for i in range(1, len(ctx.optval)):
        if ctx.optval[i] == 0:
            first_zero = u32(i)
            break
        ctx.optval[i] = ctx.optval[i] | 32
    return ALLOW
