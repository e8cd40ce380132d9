"""Mark every socket created in the cgroup, and refuse raw sockets."""
from typing import Final

from pybpfc import ALLOW, REJECT, SockContext, cgroup_sock_create, struct, u32, u64

SOCK_RAW: Final = 3
MARK: Final[u32] = 0x2A


@struct
class Counts:
    created: u64
    refused: u64


counts: Counts = Counts()
per_type: list[u64] = [0] * 8


def slot_for(sock_type: u32) -> u32:
    """Socket types beyond 7 share the last slot."""
    return sock_type if sock_type < 7 else 7


@cgroup_sock_create
def mark_sockets(ctx: SockContext) -> int:
    if ctx.type == SOCK_RAW:
        counts.refused += 1
        return REJECT
    ctx.mark = MARK
    ctx.priority = 6
    counts.created += 1
    per_type[slot_for(ctx.type)] += 1
    return ALLOW
