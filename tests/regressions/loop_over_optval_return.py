# Issue 12: a return from inside a loop over the whole option buffer was too
# complex for the verifier.
from pybpfc import ALLOW, REJECT, SockoptContext, cgroup_setsockopt


@cgroup_setsockopt
def deny(ctx: SockoptContext) -> int:
    for i in range(len(ctx.optval)):
        if ctx.optval[i] == 0xFF:
            return REJECT
    return ALLOW
