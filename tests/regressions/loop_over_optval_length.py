# Issue 12: the natural loop over the option buffer ran the verifier out of
# instructions: it knew no bound on a difference of pointers, and each
# byte access doubled the paths it followed.
from pybpfc import ALLOW, REJECT, SockoptContext, cgroup_setsockopt, u32

@cgroup_setsockopt
def scan(ctx: SockoptContext) -> int:
    total: u32 = 0
    for i in range(len(ctx.optval)):
        total += ctx.optval[i]
    if total == 7:
        return REJECT
    return ALLOW
