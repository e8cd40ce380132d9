# expect: 11:8 `u8(ctx.protocol)` is a u8 (0..255), so `u8(ctx.protocol) < 300` is always True
from typing import Final

from pybpfc import ALLOW, REJECT, SockContext, cgroup_sock_create, i32, u8

LIMIT: Final[i32] = 300


@cgroup_sock_create
def create(ctx: SockContext) -> int:
    if u8(ctx.protocol) < LIMIT:
        return REJECT
    return ALLOW
