# Issue 12: a length test on ctx.optval followed by two stores compiled to
# code whose second store went through the first one's bounds check, which
# the verifier refused ("offset is outside of the packet").
from pybpfc import ALLOW, REJECT, SockoptContext, cgroup_setsockopt


@cgroup_setsockopt
def two(ctx: SockoptContext) -> int:
    if len(ctx.optval) < 2:
        return REJECT
    ctx.optval[0] = 1
    ctx.optval[1] = 2
    return ALLOW
