"""Packets made byte by byte for the packet examples' tests, on top of the
runtime's packet_build: IPv4 with options, IPv6 carrying anything, UDP
sent without a checksum, and a reader of the IPv4 header."""
from __future__ import annotations

import socket
import struct
from typing import NamedTuple

from pybpfc.runtime import packet_build as pb

ETH_P_IP, ETH_P_IPV6, ETH_P_ARP = pb.ETH_P_IP, pb.ETH_P_IPV6, 0x0806
IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP = 1, 6, 17
checksum, ethernet = pb.checksum, pb.ethernet


def ipv4(payload: bytes, protocol: int, src: str = "10.0.0.1", dst: str = "10.0.0.2",
         tos: int = 0, options: bytes = b"") -> bytes:
    """packet_build's IPv4 header, with ``options`` after it when given."""
    packet = pb.ipv4(payload, protocol, src, dst, tos=tos)
    if not options:
        return packet
    assert len(options) % 4 == 0
    header = bytearray(packet[:20] + options)
    header[0] = 0x40 | len(header) // 4
    header[2:4] = (len(header) + len(payload)).to_bytes(2, "big")
    header[10:12] = b"\0\0"
    header[10:12] = checksum(bytes(header)).to_bytes(2, "big")
    return bytes(header) + payload


def ipv6(payload: bytes, nexthdr: int, src: str = "fd00::1", dst: str = "fd00::2") -> bytes:
    return (struct.pack("!IHBB", 6 << 28, len(payload), nexthdr, 64)
            + socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
            + payload)


def udp(dport: int, payload: bytes = b"hello", sport: int = 40000) -> bytes:
    """A UDP header and payload without a checksum (0: none, for IPv4)."""
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(dport: int) -> bytes:
    return pb.tcp(b"", 40000, dport, "10.0.0.1", "10.0.0.2")


def udp4_frame(dport: int, **ip: object) -> bytes:
    return ethernet(ipv4(udp(dport), IPPROTO_UDP, **ip))  # type: ignore[arg-type]


class Ipv4(NamedTuple):
    tos: int
    check: int
    src: str
    dst: str
    header: bytes


def read_ipv4(frame: bytes) -> Ipv4:
    """The IPv4 header of an Ethernet frame."""
    ihl = (frame[14] & 0x0F) * 4
    header = frame[14:14 + ihl]
    tos, check = header[1], int.from_bytes(header[10:12], "big")
    return Ipv4(tos, check, socket.inet_ntoa(header[12:16]), socket.inet_ntoa(header[16:20]),
                header)
