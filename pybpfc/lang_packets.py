"""The packet headers a pybpfc program reads with ``ctx.header(T, offset)``,
and the byte-order types of their fields; :mod:`pybpfc.lang` exports them.
The layouts come from ``pybpfc.abi.headers`` (a test keeps them equal)."""
from __future__ import annotations

from typing import Final

from .abi import headers as _headers
from .lang_base import _map_only_in_a_hook, struct, u8

__all__ = [
    "be16", "be32", "ETH_HLEN", "ETH_ALEN", "ETH_P_IP", "ETH_P_ARP", "ETH_P_8021Q",
    "ETH_P_IPV6", "IPPROTO_ICMP", "IPPROTO_TCP", "IPPROTO_UDP", "IPPROTO_ICMPV6", "EthHdr",
    "VlanHdr", "Ipv4Hdr", "Ipv6Hdr", "TcpHdr", "UdpHdr", "IcmpHdr", "DevMap", "DevMapHash",
    "ProgArray", "tail_call",
]


# ---------------------------------------------------------------- packets
# Direct packet access (XDP, tc, cgroup_skb): ``ctx.header(EthHdr, 0)`` is
# the header at that offset of the packet, or None when the packet is too
# short for it.  Header fields in network byte order have the types be16 and
# be32: convert them with ntohs/ntohl, compare them with htons(N)/htonl(N).
be16 = int
be32 = int

ETH_HLEN: Final[int] = _headers.PACKET_CONSTANTS["ETH_HLEN"]
ETH_ALEN: Final[int] = _headers.PACKET_CONSTANTS["ETH_ALEN"]
ETH_P_IP: Final[int] = _headers.PACKET_CONSTANTS["ETH_P_IP"]
ETH_P_ARP: Final[int] = _headers.PACKET_CONSTANTS["ETH_P_ARP"]
ETH_P_8021Q: Final[int] = _headers.PACKET_CONSTANTS["ETH_P_8021Q"]
ETH_P_IPV6: Final[int] = _headers.PACKET_CONSTANTS["ETH_P_IPV6"]
IPPROTO_ICMP: Final[int] = _headers.PACKET_CONSTANTS["IPPROTO_ICMP"]
IPPROTO_TCP: Final[int] = _headers.PACKET_CONSTANTS["IPPROTO_TCP"]
IPPROTO_UDP: Final[int] = _headers.PACKET_CONSTANTS["IPPROTO_UDP"]
IPPROTO_ICMPV6: Final[int] = _headers.PACKET_CONSTANTS["IPPROTO_ICMPV6"]


@struct
class EthHdr:
    """An Ethernet header (struct ethhdr)."""
    h_dest: list[u8]
    h_source: list[u8]
    h_proto: be16


@struct
class VlanHdr:
    """An 802.1Q tag (struct vlan_hdr)."""
    h_vlan_TCI: be16
    h_vlan_encapsulated_proto: be16


@struct
class Ipv4Hdr:
    """An IPv4 header (struct iphdr); version_ihl is version << 4 | ihl."""
    version_ihl: u8
    tos: u8
    tot_len: be16
    id: be16
    frag_off: be16
    ttl: u8
    protocol: u8
    check: be16
    saddr: be32
    daddr: be32


@struct
class Ipv6Hdr:
    """An IPv6 header (struct ipv6hdr); addresses are four be32 words."""
    version_tc: u8
    flow_lbl: list[u8]
    payload_len: be16
    nexthdr: u8
    hop_limit: u8
    saddr: list[be32]
    daddr: list[be32]


@struct
class TcpHdr:
    """A TCP header (struct tcphdr); doff_res is the data offset << 4."""
    source: be16
    dest: be16
    seq: be32
    ack_seq: be32
    doff_res: u8
    flags: u8
    window: be16
    check: be16
    urg_ptr: be16


@struct
class UdpHdr:
    """A UDP header (struct udphdr)."""
    source: be16
    dest: be16
    len: be16
    check: be16


@struct
class IcmpHdr:
    """An ICMP header (struct icmphdr), as an echo request or reply."""
    type: u8
    code: u8
    checksum: be16
    id: be16
    sequence: be16


class DevMap:
    """Network devices by slot, for XDP's redirect (issue 15)."""
    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries

    def redirect(self, index: int, flags: int = 0) -> int:
        raise _map_only_in_a_hook(type(self).__name__)


class DevMapHash(DevMap):
    pass


class ProgArray:
    """Programs by slot, for tail_call(); user space stores them."""
    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries


def tail_call(ctx: object, progs: ProgArray, index: int, /) -> int:
    raise RuntimeError("tail_call() is a kernel helper: it runs only inside a compiled hook")
