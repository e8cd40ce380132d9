"""Forwarding between devices with a DevMap: each UDP datagram to one of
the ports base_port .. base_port + 7 leaves through the device user space
put in that port's slot (its interface index in ports[dport - base_port]),
as it came in.  An empty slot, and every other packet, go on to the kernel."""
from pybpfc import (ETH_HLEN, ETH_P_IP, IPPROTO_UDP, XDP_PASS, DevMap, EthHdr, Ipv4Hdr,
                    ReadOnly, UdpHdr, XdpContext, htons, ntohs, u16, xdp)

base_port: ReadOnly[u16] = 7000
ports: DevMap = DevMap(max_entries=8)


@xdp
def redirect_ports(ctx: XdpContext) -> int:
    eth = ctx.header(EthHdr, 0)
    if eth is None or eth.h_proto != htons(ETH_P_IP):
        return XDP_PASS
    ip = ctx.header(Ipv4Hdr, ETH_HLEN)
    if ip is None or ip.protocol != IPPROTO_UDP:
        return XDP_PASS
    udp = ctx.header(UdpHdr, ETH_HLEN + (ip.version_ihl & 0x0F) * 4)
    if udp is None:
        return XDP_PASS
    slot = ntohs(udp.dest) - base_port      # below base_port wraps far past 7
    if slot > 7:
        return XDP_PASS
    return ports.redirect(slot, XDP_PASS)   # XDP_PASS too when the slot is empty
