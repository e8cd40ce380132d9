"""Count the IPv4 traffic a packet socket sees arriving, by IP protocol,
and UDP/TCP packets by destination port.

Attached to an AF_PACKET socket, the program sees each frame from its
Ethernet header on.  It copies the IPv4 header with skb_load_bytes(),
reads the header length and the port with packet loads, and drops every
frame: it only counts, so the socket never queues a copy."""
from typing import Final

from pybpfc import (DROP, LruHashMap, PerCpuArrayMap, SkBuff, atomic_add, skb_load_bytes,
                    socket_filter, struct, u32, u64)

ETH_P_IP: Final = 0x0008     # 0x0800 in network byte order, as ctx.protocol holds it
PACKET_HOST: Final = 0       # addressed to this host
ETH_HLEN: Final = 14
IPPROTO_TCP: Final = 6
IPPROTO_UDP: Final = 17


@struct
class Flow:
    protocol: u32
    port: u32                # destination port, host byte order; 0 for other protocols


bytes_by_protocol: PerCpuArrayMap[u64] = PerCpuArrayMap(max_entries=256)
packets_by_flow: LruHashMap[Flow, u64] = LruHashMap(max_entries=1024)


@socket_filter
def count_protocols(skb: SkBuff) -> int:
    if skb.protocol != ETH_P_IP or skb.pkt_type != PACKET_HOST:
        return DROP
    header = bytearray(20)
    if skb_load_bytes(skb, ETH_HLEN, header) < 0:
        return DROP
    protocol = header[9]
    total = bytes_by_protocol.lookup(protocol)
    if total is not None:
        total.value += skb.len           # this CPU's own slot: no other writer
    flow = Flow()
    flow.protocol = protocol
    if protocol == IPPROTO_TCP or protocol == IPPROTO_UDP:
        header_length = u32(skb.load_u8(ETH_HLEN) & 0x0F) * 4
        flow.port = skb.load_u16(ETH_HLEN + header_length + 2)
    seen = packets_by_flow.lookup(flow)
    if seen is None:
        packets_by_flow.update(flow, 1)
    else:
        atomic_add(seen.value, 1)
    return DROP
