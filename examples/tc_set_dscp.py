"""Mark the IPv4 packets a device sends with a DSCP (the Expedited
Forwarding class by default), fixing the IP header's checksum.

The new type-of-service byte is written into the header directly; then
l3_csum_replace() updates the checksum for the 16-bit word that changed
(the version and header length, then the TOS byte, in network order).
It may move the packet, so the header is not used after it."""
from typing import Final

from pybpfc import (ETH_HLEN, ETH_P_IP, TC_ACT_OK, EthHdr, Ipv4Hdr, ReadOnly, SkBuff, htons,
                    l3_csum_replace, tc, u8, u16)

dscp: ReadOnly[u8] = 46          # EF; set it before loading
IP_CHECK_OFFSET: Final = ETH_HLEN + 10   # where the IPv4 header's checksum is


@tc
def set_dscp(skb: SkBuff) -> int:
    eth = skb.header(EthHdr, 0)
    if eth is None or eth.h_proto != htons(ETH_P_IP):
        return TC_ACT_OK
    ip = skb.header(Ipv4Hdr, ETH_HLEN)
    if ip is None:
        return TC_ACT_OK
    old = ip.tos
    new = (dscp << 2) | (old & 0x03)          # keep the ECN bits
    if new == old:
        return TC_ACT_OK
    ip.tos = new
    first = u16(ip.version_ihl) << 8
    l3_csum_replace(skb, IP_CHECK_OFFSET, htons(first | old), htons(first | new), 2)
    return TC_ACT_OK
