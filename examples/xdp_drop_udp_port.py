"""Drop IPv4 UDP datagrams to one port as they arrive, before the kernel
has spent anything on them; pass every other packet.

Each header is asked for with ctx.header(Type, offset), which is None when
the packet is too short for it: the compiler writes the bounds check the
verifier demands, and the program must say what a short packet gets.  The
UDP header starts after the IPv4 header's options, at the length its IHL
gives."""
from pybpfc import (ETH_HLEN, ETH_P_IP, IPPROTO_UDP, XDP_DROP, XDP_PASS, EthHdr, Ipv4Hdr,
                    ReadOnly, UdpHdr, XdpContext, htons, u16, xdp)

port: ReadOnly[u16] = 7777       # set it before loading: `pybpfc load --set port=53`


@xdp
def drop_udp_port(ctx: XdpContext) -> int:
    eth = ctx.header(EthHdr, 0)
    if eth is None or eth.h_proto != htons(ETH_P_IP):
        return XDP_PASS
    ip = ctx.header(Ipv4Hdr, ETH_HLEN)
    if ip is None or ip.protocol != IPPROTO_UDP:
        return XDP_PASS
    udp = ctx.header(UdpHdr, ETH_HLEN + (ip.version_ihl & 0x0F) * 4)
    if udp is None:
        return XDP_PASS
    if udp.dest == htons(port):
        return XDP_DROP
    return XDP_PASS
