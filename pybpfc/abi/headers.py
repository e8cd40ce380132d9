"""The packet headers packet programs read and write, as they are on the
wire: one row per header, its fields in order.

A field's type is a pybpfc integer type name; multi-byte fields are in
network byte order and say so (``be16``, ``be32``): a program converts
them with ``ntohs``/``ntohl`` and compares them with ``htons(...)`` /
``htonl(...)``, never silently with host-order numbers.  Fields are laid
out at their natural alignment, which is where the wire formats put them
(a test compares each header's offsets with the kernel's structs).  Bit
fields share a byte: ``version_ihl`` is IPv4's version (high four bits)
and header length in 32-bit words (low four bits).
"""
from typing import NamedTuple


class HeaderField(NamedTuple):
    name: str
    type: str            # a pybpfc integer type name
    doc: str
    count: int = 1       # type: ignore[assignment]  # > 1: an array (addresses)


class Header(NamedTuple):
    python_name: str     # what a program imports from pybpfc
    c_name: str          # the kernel's struct, for the tests
    size: int
    fields: tuple[HeaderField, ...]
    doc: str


def _f(name: str, type_: str, doc: str, count: int = 1) -> HeaderField:
    return HeaderField(name, type_, doc, count)


HEADERS: tuple[Header, ...] = (
    Header("EthHdr", "ethhdr", 14, (
        _f("h_dest", "u8", "destination MAC address", 6),
        _f("h_source", "u8", "source MAC address", 6),
        _f("h_proto", "be16", "EtherType of what follows (ETH_P_IP, ETH_P_IPV6, ...)"),
    ), "an Ethernet header"),
    Header("VlanHdr", "vlan_hdr", 4, (
        _f("h_vlan_TCI", "be16", "priority, drop eligibility and VLAN id"),
        _f("h_vlan_encapsulated_proto", "be16", "EtherType of what follows the tag"),
    ), "an 802.1Q VLAN tag, after the Ethernet header whose h_proto is ETH_P_8021Q"),
    Header("Ipv4Hdr", "iphdr", 20, (
        _f("version_ihl", "u8", "version (high 4 bits, 4) and header length in 32-bit "
                                "words (low 4 bits)"),
        _f("tos", "u8", "type of service: DSCP (high 6 bits) and ECN (low 2 bits)"),
        _f("tot_len", "be16", "length of the datagram, header included"),
        _f("id", "be16", "identification, for fragments"),
        _f("frag_off", "be16", "flags and fragment offset"),
        _f("ttl", "u8", "time to live"),
        _f("protocol", "u8", "protocol of what follows (IPPROTO_TCP, IPPROTO_UDP, ...)"),
        _f("check", "be16", "header checksum"),
        _f("saddr", "be32", "source address"),
        _f("daddr", "be32", "destination address"),
    ), "an IPv4 header without options"),
    Header("Ipv6Hdr", "ipv6hdr", 40, (
        _f("version_tc", "u8", "version (high 4 bits, 6) and the traffic class's high bits"),
        _f("flow_lbl", "u8", "the traffic class's low bits and the flow label", 3),
        _f("payload_len", "be16", "length of what follows the header"),
        _f("nexthdr", "u8", "protocol of the next header"),
        _f("hop_limit", "u8", "hop limit"),
        _f("saddr", "be32", "source address, four network-order words", 4),
        _f("daddr", "be32", "destination address, four network-order words", 4),
    ), "an IPv6 header"),
    Header("TcpHdr", "tcphdr", 20, (
        _f("source", "be16", "source port"),
        _f("dest", "be16", "destination port"),
        _f("seq", "be32", "sequence number"),
        _f("ack_seq", "be32", "acknowledgement number"),
        _f("doff_res", "u8", "data offset in 32-bit words (high 4 bits)"),
        _f("flags", "u8", "FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ..."),
        _f("window", "be16", "receive window"),
        _f("check", "be16", "checksum"),
        _f("urg_ptr", "be16", "urgent pointer"),
    ), "a TCP header without options"),
    Header("UdpHdr", "udphdr", 8, (
        _f("source", "be16", "source port"),
        _f("dest", "be16", "destination port"),
        _f("len", "be16", "length, header included"),
        _f("check", "be16", "checksum (0: none, IPv4 only)"),
    ), "a UDP header"),
    Header("IcmpHdr", "icmphdr", 8, (
        _f("type", "u8", "message type (8 echo request, 0 echo reply, ...)"),
        _f("code", "u8", "message code"),
        _f("checksum", "be16", "checksum"),
        _f("id", "be16", "echo identifier"),
        _f("sequence", "be16", "echo sequence number"),
    ), "an ICMP header"),
)
HEADERS_BY_PYTHON_NAME = {h.python_name: h for h in HEADERS}

# Numbers programs compare header fields with (linux/if_ether.h, netinet/in.h),
# in host order.
PACKET_CONSTANTS = {
    "ETH_HLEN": 14, "ETH_ALEN": 6,
    "ETH_P_IP": 0x0800, "ETH_P_ARP": 0x0806, "ETH_P_8021Q": 0x8100, "ETH_P_IPV6": 0x86DD,
    "IPPROTO_ICMP": 1, "IPPROTO_TCP": 6, "IPPROTO_UDP": 17, "IPPROTO_ICMPV6": 58,
}
