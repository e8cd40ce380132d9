"""Send TCP connections to a local proxy: a connect() in the cgroup to a
port that `proxied` lists, on any IPv4 or IPv6 address, goes to that
port's proxy on loopback (127.0.0.1 or ::1) instead; getpeername() still
shows the address the program asked for."""
from typing import Final

from pybpfc import (ALLOW, HashMap, SockAddrContext, SockStorage, cgroup_connect4,
                    cgroup_connect6, cgroup_getpeername4, cgroup_getpeername6, htonl, htons,
                    ntohs, struct, u16, u32, u64)

SOCK_STREAM: Final = 1
LOOPBACK4: Final = htonl(0x7F000001)
LOOPBACK6_LAST_WORD: Final = htonl(1)     # ::1 is three zero words, then 1


@struct
class Destination:
    ip: list[u32] = [0] * 4     # network byte order; IPv4 in ip[0]
    port: u32                   # network byte order, as in user_port


# The proxy's port for each port it stands in for, both in host byte order.
proxied: HashMap[u32, u32] = HashMap(max_entries=64)
# Where each redirected socket meant to go.
asked: SockStorage[Destination] = SockStorage()
connects: u64 = 0           # TCP connections seen
redirected: u32 = 0


@cgroup_connect4
def to_proxy4(ctx: SockAddrContext) -> int:
    global connects, redirected
    if ctx.type != SOCK_STREAM:
        return ALLOW
    connects += 1
    proxy = proxied.lookup(ntohs(u16(ctx.user_port)))
    if proxy is None:
        return ALLOW
    redirected += 1
    dest = asked.get(ctx.sk, create=True)
    if dest is not None:
        dest.value.ip[0] = ctx.user_ip4
        dest.value.port = ctx.user_port
    ctx.user_ip4 = LOOPBACK4
    ctx.user_port = htons(u16(proxy.value))
    return ALLOW


@cgroup_getpeername4
def as_asked4(ctx: SockAddrContext) -> int:
    dest = asked.get(ctx.sk)
    if dest is not None:
        ctx.user_ip4 = dest.value.ip[0]
        ctx.user_port = dest.value.port
    return ALLOW


@cgroup_connect6
def to_proxy6(ctx: SockAddrContext) -> int:
    global connects, redirected
    if ctx.type != SOCK_STREAM:
        return ALLOW
    connects += 1
    proxy = proxied.lookup(ntohs(u16(ctx.user_port)))
    if proxy is None:
        return ALLOW
    redirected += 1
    dest = asked.get(ctx.sk, create=True)
    if dest is not None:
        dest.value.ip[0] = ctx.user_ip6[0]
        dest.value.ip[1] = ctx.user_ip6[1]
        dest.value.ip[2] = ctx.user_ip6[2]
        dest.value.ip[3] = ctx.user_ip6[3]
        dest.value.port = ctx.user_port
    ctx.user_ip6[0] = 0
    ctx.user_ip6[1] = 0
    ctx.user_ip6[2] = 0
    ctx.user_ip6[3] = LOOPBACK6_LAST_WORD
    ctx.user_port = htons(u16(proxy.value))
    return ALLOW


@cgroup_getpeername6
def as_asked6(ctx: SockAddrContext) -> int:
    dest = asked.get(ctx.sk)
    if dest is not None:
        ctx.user_ip6[0] = dest.value.ip[0]
        ctx.user_ip6[1] = dest.value.ip[1]
        ctx.user_ip6[2] = dest.value.ip[2]
        ctx.user_ip6[3] = dest.value.ip[3]
        ctx.user_port = dest.value.port
    return ALLOW
