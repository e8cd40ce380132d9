"""Count packets and bytes by IP protocol as a device receives them (IPv4
and IPv6), and let every packet through.

The counters are per CPU (each CPU adds to its own slot, without atomic
operations); user space sums them: `pybpfc maps` shows each CPU's value."""
from pybpfc import (ETH_HLEN, ETH_P_IP, ETH_P_IPV6, XDP_PASS, EthHdr, Ipv4Hdr, Ipv6Hdr,
                    PerCpuArrayMap, XdpContext, htons, ntohs, struct, u32, u64, xdp)


@struct
class Traffic:
    packets: u64
    bytes: u64


by_protocol: PerCpuArrayMap[Traffic] = PerCpuArrayMap(max_entries=256)


@xdp
def count_protocols(ctx: XdpContext) -> int:
    eth = ctx.header(EthHdr, 0)
    if eth is None:
        return XDP_PASS
    protocol: u32 = 0
    length: u32 = 0
    if eth.h_proto == htons(ETH_P_IP):
        ip = ctx.header(Ipv4Hdr, ETH_HLEN)
        if ip is None:
            return XDP_PASS
        protocol = ip.protocol
        length = ETH_HLEN + u32(ntohs(ip.tot_len))
    elif eth.h_proto == htons(ETH_P_IPV6):
        ip6 = ctx.header(Ipv6Hdr, ETH_HLEN)
        if ip6 is None:
            return XDP_PASS
        protocol = ip6.nexthdr
        length = ETH_HLEN + 40 + u32(ntohs(ip6.payload_len))
    else:
        return XDP_PASS
    seen = by_protocol.lookup(protocol)
    if seen is not None:
        seen.value.packets += 1
        seen.value.bytes += length
    return XDP_PASS
