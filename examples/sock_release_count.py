"""Count the UDP and TCP sockets released in the cgroup."""
from typing import Final

from pybpfc import ALLOW, SockContext, cgroup_sock_release, u64

IPPROTO_TCP: Final = 6
IPPROTO_UDP: Final = 17

tcp_released: u64 = 0
udp_released: u64 = 0


@cgroup_sock_release
def count_release(ctx: SockContext) -> int:
    global tcp_released, udp_released
    if ctx.protocol == IPPROTO_TCP:
        tcp_released += 1
    elif ctx.protocol == IPPROTO_UDP:
        udp_released += 1
    return ALLOW
