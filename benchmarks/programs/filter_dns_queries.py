"""DNS queries on a packet socket: for each IPv4 UDP datagram to port 53
addressed to this host, parse the DNS header (copied with skb_load_bytes),
walk the question's name label by label with packet loads, and count the
queries by question type and by name length.  Keeps the ANY queries (the
ones worth a look: amplification), drops everything else.

Responses, other opcodes, questions counts other than one and names longer
than MAX_LABELS labels are counted as skipped."""
from typing import Final

from pybpfc import (DROP, KEEP_ALL, HashMap, SkBuff, atomic_add, skb_load_bytes, socket_filter,
                    u32, u64)

ETH_P_IP: Final = 0x0008     # 0x0800 in network byte order, as skb.protocol holds it
PACKET_HOST: Final = 0
ETH_HLEN: Final = 14
IPPROTO_UDP: Final = 17
DNS_PORT: Final = 53
UDP_HLEN: Final = 8
DNS_HLEN: Final = 12
MAX_LABELS: Final = 8
QTYPE_ANY: Final = 255

by_type: HashMap[u32, u64] = HashMap(max_entries=64)
by_name_length: list[u64] = [0] * 4     # < 16, < 32, < 64, longer
skipped: u64 = 0


@socket_filter
def dns_queries(skb: SkBuff) -> int:
    global skipped
    if skb.protocol != ETH_P_IP or skb.pkt_type != PACKET_HOST:
        return DROP
    if skb.load_u8(ETH_HLEN + 9) != IPPROTO_UDP or skb.load_u16(ETH_HLEN + 6) & 0x3FFF != 0:
        return DROP
    udp = ETH_HLEN + u32(skb.load_u8(ETH_HLEN) & 0x0F) * 4
    if skb.load_u16(udp + 2) != DNS_PORT:
        return DROP
    header = bytearray(12)
    if skb_load_bytes(skb, udp + UDP_HLEN, header) < 0 \
            or header[2] & 0xF8 != 0 \
            or header[4] != 0 or header[5] != 1:      # a response, an opcode, not one question
        skipped += 1
        return DROP
    pos = udp + UDP_HLEN + DNS_HLEN
    name_length: u32 = 0
    ended = False
    for label in range(MAX_LABELS):
        length = skb.load_u8(pos)
        if length == 0:
            ended = True
            break
        if length > 63:
            break                # a compression pointer has no place in a question
        pos += u32(length) + 1
        name_length += u32(length) + 1
    if not ended:
        skipped += 1
        return DROP
    qtype = u32(skb.load_u16(pos + 1))
    seen = by_type.lookup(qtype)
    if seen is None:
        by_type.update(qtype, 1)
    else:
        atomic_add(seen.value, 1)
    by_name_length[min(name_length // 16, 3)] += 1
    if qtype == QTYPE_ANY:
        return KEEP_ALL
    return DROP
