# Issue 12: values the compiler knows fit were refused for their type: a
# constant's length (u32) stored in an i32 field, the option buffer's
# length (at most a page) compared with an i32 global.
from typing import Final
from pybpfc import ALLOW, REJECT, SockoptContext, cgroup_setsockopt, i32

FAKE: Final = b"fake"
limit: i32 = 2


@cgroup_setsockopt
def fake(ctx: SockoptContext) -> int:
    if len(ctx.optval) < limit:
        return REJECT
    if len(ctx.optval) >= len(FAKE):
        ctx.optval[0] = FAKE[0]
        ctx.optlen = len(FAKE)
    return ALLOW
