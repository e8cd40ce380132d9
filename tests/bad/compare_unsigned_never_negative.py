# expect: 9:8 `ctx.protocol` is a u32 (0..4294967295), so `ctx.protocol < 0` is always False
from pybpfc import ALLOW, REJECT, SockContext, cgroup_sock_create


@cgroup_sock_create
def create(ctx: SockContext) -> int:
    # An unsigned field is never negative: the compiler would drop the
    # test and the branch without a word.
    if ctx.protocol < 0:
        return REJECT
    return ALLOW
