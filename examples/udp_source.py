"""Choose the source address of the cgroup's UDP datagrams: each datagram
sent with sendto() to a loopback address leaves from `source4` (set from
Python; 0 leaves the choice to the kernel), whatever address the socket
has; IPv6 datagrams are counted."""
from typing import Final

from pybpfc import (ALLOW, SockAddrContext, cgroup_sendmsg4, cgroup_sendmsg6, htonl, u32, u64)

LOOPBACK_NET: Final = htonl(0x7F000000)
LOOPBACK_MASK: Final = htonl(0xFF000000)

source4: u32 = 0            # network byte order, e.g. htonl(0x7F000002) for 127.0.0.2
rewritten: u64 = 0
sent6: u64 = 0


@cgroup_sendmsg4
def choose_source4(ctx: SockAddrContext) -> int:
    global rewritten
    if source4 != 0 and ctx.user_ip4 & LOOPBACK_MASK == LOOPBACK_NET:
        ctx.msg_src_ip4 = source4
        rewritten += 1
    return ALLOW


@cgroup_sendmsg6
def count6(ctx: SockAddrContext) -> int:
    global sent6
    sent6 += 1
    return ALLOW
