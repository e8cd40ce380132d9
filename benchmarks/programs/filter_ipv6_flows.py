"""IPv6 traffic on a packet socket, by next header and port: for each
IPv6 frame addressed to this host, packets and bytes per {next header,
destination port (UDP, TCP) or ICMPv6 type}, and the frames between two
loopback addresses counted apart.  Keeps ICMPv6 and UDP, drops the rest.

The fixed IPv6 header is copied with one skb_load_bytes(), the ports with
a second; the ICMPv6 type is a packet load."""
from typing import Final

from pybpfc import (DROP, KEEP_ALL, LruHashMap, SkBuff, atomic_add, skb_load_bytes,
                    socket_filter, struct, u32, u64)

ETH_P_IPV6: Final = 0xDD86   # 0x86DD in network byte order, as skb.protocol holds it
PACKET_HOST: Final = 0
ETH_HLEN: Final = 14
IPV6_HLEN: Final = 40
IPPROTO_TCP: Final = 6
IPPROTO_UDP: Final = 17
IPPROTO_ICMPV6: Final = 58


@struct
class Flow:
    next_header: u32
    port: u32            # UDP/TCP destination port, ICMPv6 type, else 0


@struct
class Totals:
    packets: u64
    bytes: u64


flows: LruHashMap[Flow, Totals] = LruHashMap(max_entries=1024)
loopback: u64 = 0
truncated: u64 = 0


@socket_filter
def ipv6_flows(skb: SkBuff) -> int:
    global loopback, truncated
    if skb.protocol != ETH_P_IPV6 or skb.pkt_type != PACKET_HOST:
        return DROP
    ip6 = bytearray(40)
    if skb_load_bytes(skb, ETH_HLEN, ip6) < 0 or ip6[0] >> 4 != 6:
        truncated += 1
        return DROP
    payload = u32(ip6[4]) << 8 | ip6[5]
    if payload + IPV6_HLEN + ETH_HLEN > skb.len:
        truncated += 1
        return DROP
    flow = Flow()
    flow.next_header = ip6[6]
    if flow.next_header == IPPROTO_UDP or flow.next_header == IPPROTO_TCP:
        ports = bytearray(4)
        if skb_load_bytes(skb, ETH_HLEN + IPV6_HLEN, ports) < 0:
            truncated += 1
            return DROP
        flow.port = u32(ports[2]) << 8 | ports[3]
    elif flow.next_header == IPPROTO_ICMPV6:
        flow.port = skb.load_u8(ETH_HLEN + IPV6_HLEN)
    # ::1 to ::1: fifteen zero bytes and a one, twice.
    is_local = ip6[23] == 1 and ip6[39] == 1
    for i in range(8, 23):
        if ip6[i] != 0 or ip6[i + 16] != 0:
            is_local = False
    if is_local:
        loopback += 1
    totals = flows.lookup(flow)
    if totals is None:
        fresh = Totals()
        fresh.packets = 1
        fresh.bytes = skb.len
        flows.update(flow, fresh)
    else:
        atomic_add(totals.value.packets, 1)
        atomic_add(totals.value.bytes, skb.len)
    if flow.next_header == IPPROTO_ICMPV6 or flow.next_header == IPPROTO_UDP:
        return KEEP_ALL
    return DROP
