"""Refuse IPv6 binds to even ports between 5000 and 5100, and binds of
the loopback address ::1 to port 5999."""
from typing import Final

from pybpfc import ALLOW, REJECT, SockContext, cgroup_post_bind6, ntohl, u32

ODD_ONLY_FROM: Final[u32] = 5000
ODD_ONLY_TO: Final[u32] = 5100


def is_loopback6(w0: u32, w1: u32, w2: u32, w3: u32) -> bool:
    return w0 == 0 and w1 == 0 and w2 == 0 and ntohl(w3) == 1


@cgroup_post_bind6
def odd_ports(ctx: SockContext) -> int:
    port = ctx.src_port
    if ODD_ONLY_FROM <= port <= ODD_ONLY_TO and port % 2 == 0:
        return REJECT
    if port == 5999 and is_loopback6(ctx.src_ip6[0], ctx.src_ip6[1], ctx.src_ip6[2],
                                     ctx.src_ip6[3]):
        return REJECT
    return ALLOW
