"""Packets made byte by byte for tests: Ethernet frames carrying IPv4 or
IPv6 with UDP, TCP or ICMP, checksums computed as RFC 1071 says, and the
readers that take them apart again."""
from __future__ import annotations

import socket
import struct
from typing import NamedTuple

ETH_P_IP, ETH_P_IPV6, ETH_P_ARP = 0x0800, 0x86DD, 0x0806
IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP = 1, 6, 17
MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def checksum(data: bytes) -> int:
    """The Internet checksum (ones' complement of the ones' complement sum)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ethernet(payload: bytes, ethertype: int = ETH_P_IP, dst: bytes = MAC_B,
             src: bytes = MAC_A) -> bytes:
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(payload: bytes, protocol: int, src: str = "10.0.0.1", dst: str = "10.0.0.2",
         tos: int = 0, ttl: int = 64, options: bytes = b"") -> bytes:
    assert len(options) % 4 == 0
    ihl = 5 + len(options) // 4
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, ihl * 4 + len(payload), 1, 0, ttl,
                         protocol, 0, socket.inet_aton(src), socket.inet_aton(dst)) + options
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def ipv6(payload: bytes, nexthdr: int, src: str = "fd00::1", dst: str = "fd00::2") -> bytes:
    return (struct.pack("!IHBB", 6 << 28, len(payload), nexthdr, 64)
            + socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
            + payload)


def udp(dport: int, payload: bytes = b"hello", sport: int = 40000) -> bytes:
    """A UDP header and payload without a checksum (0: none, for IPv4)."""
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(dport: int, flags: int = 0x02, sport: int = 40000) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags, 65535, 0, 0)


def udp4_frame(dport: int, **ip: object) -> bytes:
    return ethernet(ipv4(udp(dport), IPPROTO_UDP, **ip))  # type: ignore[arg-type]


class Ipv4(NamedTuple):
    tos: int
    ttl: int
    protocol: int
    check: int
    src: str
    dst: str
    header: bytes


def read_ipv4(frame: bytes) -> Ipv4:
    """The IPv4 header of an Ethernet frame."""
    ihl = (frame[14] & 0x0F) * 4
    header = frame[14:14 + ihl]
    _, tos, _, _, _, ttl, protocol, check, src, dst = struct.unpack(
        "!BBHHHBBH4s4s", header[:20])
    return Ipv4(tos, ttl, protocol, check, socket.inet_ntoa(src), socket.inet_ntoa(dst), header)


def udp4_checksummed(src: str, dst: str, dport: int, sport: int,
                     payload: bytes = b"hello") -> bytes:
    """A UDP datagram with its checksum over the IPv4 pseudo-header."""
    datagram = udp(dport, payload, sport)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack(
        "!BBH", 0, IPPROTO_UDP, len(datagram))
    check = checksum(pseudo + datagram) or 0xFFFF
    return datagram[:6] + struct.pack("!H", check) + datagram[8:]


def udp4_checksum_holds(frame: bytes) -> bool:
    """Whether the UDP checksum of an IPv4 frame verifies (as a receiver does)."""
    ip = read_ipv4(frame)
    datagram = frame[14 + len(ip.header):]
    pseudo = socket.inet_aton(ip.src) + socket.inet_aton(ip.dst) + struct.pack(
        "!BBH", 0, IPPROTO_UDP, len(datagram))
    return checksum(pseudo + datagram) == 0
