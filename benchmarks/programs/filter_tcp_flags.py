"""TCP connection events on a packet socket: count SYN, SYN-ACK, FIN and
RST segments of IPv4 TCP traffic addressed to this host, and payload bytes
per server port; keep only the segments that open or close a connection.

Every header field is read with a packet load (skb.load_u8/u16): the
protocol, the fragment bits, the header length, both ports, the data
offset and flags, the total length."""
from typing import Final

from pybpfc import (DROP, KEEP_ALL, LruHashMap, SkBuff, atomic_add, socket_filter, u32, u64)

ETH_P_IP: Final = 0x0008     # 0x0800 in network byte order, as skb.protocol holds it
PACKET_HOST: Final = 0
ETH_HLEN: Final = 14
IPPROTO_TCP: Final = 6
FIN: Final = 0x01
SYN: Final = 0x02
RST: Final = 0x04
ACK: Final = 0x10
SERVER_PORTS: Final = 1024   # ports below this are servers' (the other side is a client)

events: list[u64] = [0] * 4            # SYN, SYN-ACK, FIN, RST
payload_by_port: LruHashMap[u32, u64] = LruHashMap(max_entries=512)
segments_with_data: u64 = 0


@socket_filter
def tcp_flags(skb: SkBuff) -> int:
    global segments_with_data
    if skb.protocol != ETH_P_IP or skb.pkt_type != PACKET_HOST:
        return DROP
    if skb.load_u8(ETH_HLEN + 9) != IPPROTO_TCP or skb.load_u16(ETH_HLEN + 6) & 0x3FFF != 0:
        return DROP                   # another protocol, or a fragment
    ip_length = u32(skb.load_u8(ETH_HLEN) & 0x0F) * 4
    tcp = ETH_HLEN + ip_length
    source = skb.load_u16(tcp)
    destination = skb.load_u16(tcp + 2)
    offset_flags = skb.load_u16(tcp + 12)
    flags = offset_flags & 0x3F
    tcp_length = u32(offset_flags >> 12) * 4
    payload = u32(skb.load_u16(ETH_HLEN + 2)) - ip_length - tcp_length
    if payload > 0 and payload < 0x10000:
        segments_with_data += 1
        server = destination if destination < SERVER_PORTS or source >= SERVER_PORTS else source
        seen = payload_by_port.lookup(server)
        if seen is None:
            payload_by_port.update(server, payload)
        else:
            atomic_add(seen.value, payload)
    kept = True
    if flags & SYN != 0:
        events[1 if flags & ACK != 0 else 0] += 1
    elif flags & FIN != 0:
        events[2] += 1
    elif flags & RST != 0:
        events[3] += 1
    else:
        kept = False
    if kept:
        return KEEP_ALL
    return DROP
