"""Lesson 6: refuse setsockopt(IP_TTL) on sockets connected to port 53 of
127.0.0.1, comparing the socket's fields in the byte order they are in."""
from typing import Final

from pybpfc import ALLOW, PAGE_SIZE, REJECT, SockoptContext, cgroup_setsockopt, htonl, htons, u32

SOL_IP: Final = 0
IP_TTL: Final = 2
DNS_PORT: Final = 53
LOOPBACK: Final = 0x7F000001     # 127.0.0.1, as a number: 127 << 24 | 1

dst_port_seen: u32 = 0      # ctx.sk.dst_port as it is stored: network order
dst_ip4_seen: u32 = 0       # ctx.sk.dst_ip4 as it is stored: network order
src_port_seen: u32 = 0      # ctx.sk.src_port as it is stored: host order


@cgroup_setsockopt
def no_ttl_for_dns(ctx: SockoptContext) -> int:
    global dst_port_seen, dst_ip4_seen, src_port_seen
    if ctx.level == SOL_IP and ctx.optname == IP_TTL:
        dst_port_seen = ctx.sk.dst_port
        dst_ip4_seen = ctx.sk.dst_ip4
        src_port_seen = ctx.sk.src_port
        if ctx.sk.dst_port == htons(DNS_PORT) and ctx.sk.dst_ip4 == htonl(LOOPBACK):
            return REJECT
    if ctx.optlen > PAGE_SIZE:
        ctx.optlen = 0      # a value larger than a page: hand the caller's buffer through
    return ALLOW
