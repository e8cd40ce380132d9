"""Packets made by hand, for test runs: Ethernet frames holding IPv4 (with
options if asked) or IPv6 with UDP, TCP or ICMP, every checksum filled in
(or, for UDP, none when asked), and the checks and readers that read them
back.  Addresses are written as text (``"10.0.0.1"``)."""
from __future__ import annotations

import ipaddress
import socket
import struct
from typing import NamedTuple

ETH_P_IP, ETH_P_IPV6, ETH_P_ARP = 0x0800, 0x86DD, 0x0806
IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP = 1, 6, 17
ETH_HLEN = 14
SRC_MAC, DST_MAC = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ethernet(payload: bytes, ethertype: int = ETH_P_IP, src: bytes = SRC_MAC,
             dst: bytes = DST_MAC) -> bytes:
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(payload: bytes, protocol: int, src: str = "10.0.0.1", dst: str = "10.0.0.2",
         ttl: int = 64, tos: int = 0, options: bytes = b"") -> bytes:
    """An IPv4 header (with ``options``, a multiple of 4 bytes, after its
    first 20; checksum filled in) and ``payload``."""
    if len(options) % 4:
        raise ValueError(f"IPv4 options are whole 4-byte words, not {len(options)} bytes")
    length = 20 + len(options)
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | length // 4, tos, length + len(payload), 0,
                         0x4000, ttl, protocol, 0, socket.inet_aton(src),
                         socket.inet_aton(dst)) + options
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload


def ipv6(payload: bytes, nexthdr: int, src: str = "fd00::1", dst: str = "fd00::2") -> bytes:
    """An IPv6 header (hop limit 64) and ``payload``, whatever it holds."""
    return (struct.pack("!IHBB", 6 << 28, len(payload), nexthdr, 64)
            + socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
            + payload)


def _pseudo_header(src: str, dst: str, protocol: int, length: int) -> bytes:
    source, destination = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if source.version == 4:
        return source.packed + destination.packed + struct.pack("!BBH", 0, protocol, length)
    return source.packed + destination.packed + struct.pack("!I3xB", length, protocol)


def _with_checksum(segment: bytes, at: int, src: str, dst: str, protocol: int) -> bytes:
    value = checksum(_pseudo_header(src, dst, protocol, len(segment)) + segment)
    if protocol == socket.IPPROTO_UDP and value == 0:
        value = 0xFFFF       # 0 means "no checksum" in UDP
    return segment[:at] + struct.pack("!H", value) + segment[at + 2:]


def udp(payload: bytes, sport: int, dport: int, src: str = "", dst: str = "",
        with_checksum: bool = True) -> bytes:
    """A UDP header and ``payload``; its checksum over the addresses' pseudo
    header, or without ``with_checksum`` 0 (none: allowed over IPv4 only)."""
    segment = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    if not with_checksum:
        return segment
    return _with_checksum(segment, 6, src, dst, socket.IPPROTO_UDP)


def tcp(payload: bytes, sport: int, dport: int, src: str, dst: str, flags: int = 0x02,
        seq: int = 1) -> bytes:
    segment = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0,
                          0) + payload
    return _with_checksum(segment, 16, src, dst, socket.IPPROTO_TCP)


def icmp_echo(payload: bytes = b"ping", ident: int = 1, seq: int = 1) -> bytes:
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    value = checksum(header + payload)
    return header[:2] + struct.pack("!H", value) + header[4:] + payload


def udp4_frame(payload: bytes = b"hello", sport: int = 40000, dport: int = 53,
               src: str = "10.0.0.1", dst: str = "10.0.0.2", tos: int = 0,
               options: bytes = b"") -> bytes:
    """An Ethernet frame holding an IPv4 UDP datagram."""
    return ethernet(ipv4(udp(payload, sport, dport, src, dst), socket.IPPROTO_UDP, src, dst,
                         tos=tos, options=options))


def tcp4_frame(payload: bytes = b"", sport: int = 40000, dport: int = 80,
               src: str = "10.0.0.1", dst: str = "10.0.0.2", flags: int = 0x02) -> bytes:
    """An Ethernet frame holding an IPv4 TCP segment (a SYN by default)."""
    return ethernet(ipv4(tcp(payload, sport, dport, src, dst, flags), socket.IPPROTO_TCP,
                         src, dst))


def icmp4_frame(payload: bytes = b"ping", src: str = "10.0.0.1",
                dst: str = "10.0.0.2") -> bytes:
    """An Ethernet frame holding an IPv4 ICMP echo request."""
    return ethernet(ipv4(icmp_echo(payload), socket.IPPROTO_ICMP, src, dst))


def udp6_frame(payload: bytes = b"hello", sport: int = 40000, dport: int = 53,
               src: str = "fd00::1", dst: str = "fd00::2") -> bytes:
    """An Ethernet frame holding an IPv6 UDP datagram."""
    return ethernet(ipv6(udp(payload, sport, dport, src, dst), IPPROTO_UDP, src, dst),
                    ETH_P_IPV6)


def ipv4_checksum_ok(frame: bytes) -> bool:
    """Whether the IPv4 header of an Ethernet frame sums right."""
    header_length = (frame[ETH_HLEN] & 0x0F) * 4
    return checksum(frame[ETH_HLEN:ETH_HLEN + header_length]) == 0


def l4_checksum_ok(frame: bytes) -> bool:
    """Whether the UDP or TCP checksum of an Ethernet frame's IPv4 packet
    sums right (a UDP checksum of 0, "none", counts as right)."""
    ip = frame[ETH_HLEN:]
    header_length = (ip[0] & 0x0F) * 4
    total_length, protocol = struct.unpack("!H", ip[2:4])[0], ip[9]
    segment = ip[header_length:total_length]
    if protocol == socket.IPPROTO_UDP and segment[6:8] == b"\0\0":
        return True
    src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    return checksum(_pseudo_header(src, dst, protocol, len(segment)) + segment) == 0



class Ipv4(NamedTuple):
    tos: int
    check: int
    src: str
    dst: str
    header: bytes


def read_ipv4(frame: bytes) -> Ipv4:
    """The IPv4 header of an Ethernet frame."""
    header = frame[ETH_HLEN:ETH_HLEN + (frame[ETH_HLEN] & 0x0F) * 4]
    return Ipv4(header[1], int.from_bytes(header[10:12], "big"),
                socket.inet_ntoa(header[12:16]), socket.inet_ntoa(header[16:20]), header)
