"""Lesson 3: refuse UDP sockets in the cgroup; everything else goes through."""
from typing import Final

from pybpfc import ALLOW, REJECT, SockContext, cgroup_sock_create, u64

SOCK_DGRAM: Final = 2    # socket.SOCK_DGRAM: the socket type UDP uses

refused: u64 = 0


@cgroup_sock_create
def no_udp(ctx: SockContext) -> int:
    global refused
    if ctx.type == SOCK_DGRAM:
        refused += 1
        return REJECT    # socket() fails with EPERM
    return ALLOW
