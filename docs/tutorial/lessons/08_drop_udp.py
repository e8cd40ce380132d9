from typing import Final

from pybpfc import (ETH_HLEN, ETH_P_IP, IPPROTO_UDP, XDP_DROP, XDP_PASS, EthHdr, Ipv4Hdr,
                    UdpHdr, XdpContext, htons, xdp)

PORT: Final = 7777


@xdp
def drop_udp(ctx: XdpContext) -> int:
    eth = ctx.header(EthHdr, 0)
    if eth is None:                          # shorter than an Ethernet header
        return XDP_PASS
    if eth.h_proto != htons(ETH_P_IP):       # not IPv4
        return XDP_PASS
    ip = ctx.header(Ipv4Hdr, ETH_HLEN)
    if ip is None or ip.protocol != IPPROTO_UDP:
        return XDP_PASS
    udp = ctx.header(UdpHdr, ETH_HLEN + (ip.version_ihl & 0x0F) * 4)
    if udp is None:
        return XDP_PASS
    if udp.dest == htons(PORT):
        return XDP_DROP
    return XDP_PASS
