"""Per-port UDP statistics on a packet socket, keeping only the datagrams
to a watched port range.

For each IPv4 frame addressed to this host the program copies the IP
header and then the UDP header with skb_load_bytes(), checks them (version,
header length, total length against the frame, no fragment, UDP length
within the IP payload) and counts the datagram under its destination port:
packets, payload bytes, and datagrams sent without a checksum.  Frames it
cannot parse are counted as malformed, fragments apart."""
from typing import Final

from pybpfc import (DROP, KEEP_ALL, HashMap, ReadOnly, SkBuff, atomic_add, skb_load_bytes,
                    socket_filter, struct, u32, u64)

ETH_P_IP: Final = 0x0008     # 0x0800 in network byte order, as skb.protocol holds it
PACKET_HOST: Final = 0
ETH_HLEN: Final = 14
IPPROTO_UDP: Final = 17
UDP_HLEN: Final[u32] = 8


@struct
class PortStats:
    packets: u64
    payload: u64
    no_checksum: u64


by_port: HashMap[u32, PortStats] = HashMap(max_entries=256)
watch_low: ReadOnly[u32] = 5300
watch_high: ReadOnly[u32] = 5399
fragments: u64 = 0
malformed: u64 = 0


@socket_filter
def udp_ports(skb: SkBuff) -> int:
    global fragments, malformed
    if skb.protocol != ETH_P_IP or skb.pkt_type != PACKET_HOST:
        return DROP
    ip = bytearray(20)
    if skb_load_bytes(skb, ETH_HLEN, ip) < 0 or ip[9] != IPPROTO_UDP:
        return DROP
    header_length = u32(ip[0] & 0x0F) * 4
    total = u32(ip[2]) << 8 | ip[3]
    if ip[0] >> 4 != 4 or header_length < 20 or total < header_length + UDP_HLEN \
            or total + ETH_HLEN > skb.len:
        malformed += 1
        return DROP
    if ip[6] & 0x3F != 0 or ip[7] != 0:      # more fragments, or an offset
        fragments += 1
        return DROP
    udp = bytearray(8)
    if skb_load_bytes(skb, ETH_HLEN + header_length, udp) < 0:
        malformed += 1
        return DROP
    port = u32(udp[2]) << 8 | udp[3]
    length = u32(udp[4]) << 8 | udp[5]
    if length < UDP_HLEN or length > total - header_length:
        malformed += 1
        return DROP
    no_checksum = udp[6] == 0 and udp[7] == 0
    stats = by_port.lookup(port)
    if stats is None:
        fresh = PortStats()
        fresh.packets = 1
        fresh.payload = length - UDP_HLEN
        fresh.no_checksum = u64(no_checksum)
        by_port.update(port, fresh)
    else:
        atomic_add(stats.value.packets, 1)
        atomic_add(stats.value.payload, length - UDP_HLEN)
        if no_checksum:
            atomic_add(stats.value.no_checksum, 1)
    if watch_low <= port <= watch_high:
        return KEEP_ALL
    return DROP
