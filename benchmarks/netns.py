"""The network plumbing of the benchmark's probes: private network
namespaces, loopback set up inside them, packets made by hand.  Nothing
here touches the machine's own namespace."""
from __future__ import annotations

import ctypes
import fcntl
import socket
import struct
from typing import Optional

from pybpfc.abi.kernel import ETH_P_ALL
from pybpfc.abi.system import CLONE_NEWNET, IFF_UP, SIOCGIFFLAGS, SIOCSIFFLAGS, SIOCSIFMTU


def unshare_network() -> None:
    """A private network namespace for the calling process, so the net.*
    sysctls it writes are its own and vanish with it."""
    if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")


def udp() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def link_up(name: str, mtu: Optional[int] = None) -> None:
    """Bring an interface up with SIOCSIFFLAGS (no `ip` binary needed),
    after setting its MTU when one is given."""
    with udp() as s:
        if mtu is not None:
            fcntl.ioctl(s, SIOCSIFMTU, struct.pack("16si", name.encode(), mtu))
        request = struct.pack("16sh", name.encode(), 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh", name.encode(), flags | IFF_UP))


def icmp_echo_request(payload: bytes) -> bytes:
    header = struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1)
    data = header + payload
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    checksum = ~(total + (total >> 16)) & 0xFFFF
    return header[:2] + struct.pack("!H", checksum) + header[4:] + payload


def packet_socket_on_lo() -> socket.socket:
    """An AF_PACKET socket that sees every frame on lo, both ways."""
    packets = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    packets.bind(("lo", 0))
    return packets


def ping_loopback() -> None:
    """An ICMP echo to 127.0.0.1, waited for: once its reply is back, every
    frame sent before it has passed the packet sockets on lo."""
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as icmp:
        icmp.settimeout(5)
        icmp.sendto(icmp_echo_request(b"p" * 56), ("127.0.0.1", 0))
        while icmp.recv(2000)[20] != 0:    # the request it sent, then the reply
            pass


def frame_lengths(packets: socket.socket) -> list[int]:
    """The lengths of the frames queued on a packet socket, in order."""
    packets.setblocking(False)
    lengths = []
    while True:
        try:
            lengths.append(len(packets.recv(65536)))
        except BlockingIOError:
            return lengths
