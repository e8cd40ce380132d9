# Issue 12: a loop over the option buffer whose body branches (upper-casing
# ASCII letters) loads when min() bounds it by a constant: each access is
# known inside the buffer, and the verifier goes round at most 64 times.
from pybpfc import ALLOW, SockoptContext, cgroup_setsockopt


@cgroup_setsockopt
def upper(ctx: SockoptContext) -> int:
    for i in range(min(len(ctx.optval), 64)):
        c = ctx.optval[i]
        if 97 <= c <= 122:
            ctx.optval[i] = c - 32
    return ALLOW
