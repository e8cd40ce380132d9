# expect: 14:9 a loop over the whole option buffer may go round 4096 times
from pybpfc import ALLOW, SockoptContext, cgroup_setsockopt, u32

slashes: u32 = 0
digits: u32 = 0


@cgroup_setsockopt
def count(ctx: SockoptContext) -> int:
    global slashes, digits
    for i in range(len(ctx.optval)):
        if ctx.optval[i] == 47:
            slashes += 1
        if 48 <= ctx.optval[i] <= 57:
            digits += 1
    return ALLOW
