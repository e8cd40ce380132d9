"""Refuse IPv4 binds to a range of reserved ports, and to port 0 on
127.0.0.2."""
from typing import Final

from pybpfc import REJECT, SockContext, cgroup_post_bind4, ntohl, u32

RESERVED_LOW: Final[u32] = 4000
RESERVED_HIGH: Final[u32] = 4010
LOOPBACK_2: Final[u32] = 0x7F000002


@cgroup_post_bind4
def reserved_ports(ctx: SockContext) -> int:
    if RESERVED_LOW <= ctx.src_port <= RESERVED_HIGH:
        return REJECT
    return ntohl(ctx.src_ip4) != LOOPBACK_2 or ctx.src_port != 0
