# Issue 12: a loop over the whole option buffer whose body branches (if/else)
# left the verifier too many paths: each round pushed the failed test of the
# byte's bounds and the other arm.  The byte's test is now the loop's own.
from pybpfc import ALLOW, SockoptContext, cgroup_setsockopt, u32

others: u32 = 0


@cgroup_setsockopt
def upper(ctx: SockoptContext) -> int:
    global others
    for i in range(len(ctx.optval)):
        c = ctx.optval[i]
        if 97 <= c <= 122:
            ctx.optval[i] = c - 32
        else:
            others += 1
    return ALLOW
