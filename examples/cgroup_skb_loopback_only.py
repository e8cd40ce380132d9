"""Let the sockets of a cgroup reach loopback only: every IP packet they
send elsewhere is dropped (the sender gets EPERM), and the packets they
receive are counted.

A cgroup_skb program sees the packet from its IP header on, read-only."""
from typing import Final

from pybpfc import (ALLOW, DROP, Ipv4Hdr, Ipv6Hdr, SkBuff, atomic_add, cgroup_skb_egress,
                    cgroup_skb_ingress, htonl, u64)

LOOPBACK_NET: Final = 0x7F000000        # 127.0.0.0/8, host order
LOOPBACK_MASK: Final = 0xFF000000

refused: u64 = 0
received: u64 = 0


@cgroup_skb_egress
def loopback_only(skb: SkBuff) -> int:
    ip = skb.header(Ipv4Hdr, 0)
    if ip is None:
        return DROP
    if ip.version_ihl >> 4 == 4:
        if ip.daddr & htonl(LOOPBACK_MASK) == htonl(LOOPBACK_NET):
            return ALLOW
    else:
        ip6 = skb.header(Ipv6Hdr, 0)
        if ip6 is None:
            return DROP
        if (ip6.daddr[0] == 0 and ip6.daddr[1] == 0 and ip6.daddr[2] == 0
                and ip6.daddr[3] == htonl(1)):        # ::1
            return ALLOW
    atomic_add(refused, 1)
    return DROP


@cgroup_skb_ingress
def count_received(skb: SkBuff) -> int:
    atomic_add(received, 1)
    return ALLOW
