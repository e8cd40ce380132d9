"""A small load balancer: UDP datagrams to a virtual address and port are
sent to one of the backends (chosen by the source port), rewritten in place
and sent back out of the device they came in on (XDP_TX), toward the router
whose MAC address they came from.

The destination address changes, so the IP header's checksum and the UDP
checksum (whose pseudo-header holds the address) are updated for that one
field, as RFC 1624 computes it."""
from pybpfc import (ETH_HLEN, ETH_P_IP, IPPROTO_UDP, XDP_PASS, XDP_TX, ArrayMap, EthHdr, Ipv4Hdr,
                    ReadOnly, UdpHdr, XdpContext, be16, be32, htonl, htons, ntohl, ntohs, u16,
                    u32, xdp)

vip: ReadOnly[u32] = 0x0A000064        # 10.0.0.100, the virtual address (host order)
vport: ReadOnly[u16] = 80
backend_count: ReadOnly[u32] = 2
backends: ArrayMap[be32] = ArrayMap(max_entries=16)   # their addresses, as on the wire


def checksum_update(check: be16, old: be32, new: be32) -> be16:
    """The checksum after a 32-bit field it covers changed from old to new."""
    total = u32(~ntohs(check))
    before = ntohl(old)
    after = ntohl(new)
    total += (~before >> 16) + (~before & 0xFFFF) + (after >> 16) + (after & 0xFFFF)
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return htons(u16(~total & 0xFFFF))


@xdp
def balance(ctx: XdpContext) -> int:
    eth = ctx.header(EthHdr, 0)
    if eth is None or eth.h_proto != htons(ETH_P_IP):
        return XDP_PASS
    ip = ctx.header(Ipv4Hdr, ETH_HLEN)
    if ip is None or ip.protocol != IPPROTO_UDP or ip.daddr != htonl(vip):
        return XDP_PASS
    udp = ctx.header(UdpHdr, ETH_HLEN + (ip.version_ihl & 0x0F) * 4)
    if udp is None or udp.dest != htons(vport) or backend_count == 0:
        return XDP_PASS
    backend = backends.lookup(u32(ntohs(udp.source)) % backend_count)
    if backend is None:
        return XDP_PASS
    old = ip.daddr
    ip.daddr = backend.value
    ip.check = checksum_update(ip.check, old, backend.value)
    if udp.check != 0:                   # 0: the sender computed none
        udp.check = checksum_update(udp.check, old, backend.value)
    for i in range(6):                   # back to where it came from
        mac = eth.h_dest[i]
        eth.h_dest[i] = eth.h_source[i]
        eth.h_source[i] = mac
    return XDP_TX
