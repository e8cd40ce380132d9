"""The traffic the packet parsers of benchmarks/programs/ are probed with.

In a private network namespace whose loopback has an Ethernet-sized MTU
(so a large datagram is sent in fragments), a packet socket on lo carries
the filter while the probe makes traffic every parser has something to
say about: IPv4 UDP to a watched port, to another and to the DNS port
(queries of several kinds, good and bad, and a datagram sent without a
checksum), a TCP connection that exchanges data and closes, a connection
refused with a reset, IPv6 UDP and an ICMPv6 echo.  An ICMP echo goes last:
once its reply is back, every frame before it has passed the packet socket.

Only what the kernel does the same way every time counts in the result:
the datagrams each receiver got, and the frames the filter let through to
the packet socket (the filters keep no bare ACKs, whose number depends on
timing).
"""
from __future__ import annotations

import contextlib
import errno
import socket
import struct
from typing import Any, Callable, ContextManager

from pybpfc.abi.system import SO_NO_CHECK

from .netns import frame_lengths, link_up, packet_socket_on_lo, ping_loopback, udp, unshare_network

MTU = 1500
WATCHED_PORT, OTHER_PORT, DNS_PORT = 5300, 9999, 53
TCP_PORT, CLOSED_PORT = 80, 81
ICMPV6_ECHO_REQUEST, ICMPV6_ECHO_REPLY = 128, 129


def dns_message(name: bytes, qtype: int, flags: int = 0x0100, questions: int = 1) -> bytes:
    """A DNS message with one question for ``name`` (dotted; b"" is the root)."""
    labels = b"".join(bytes([len(label)]) + label for label in name.split(b".") if label)
    return struct.pack("!HHHHHH", 0x1234, flags, questions, 0, 0, 0) + labels + b"\0" + \
        struct.pack("!HH", qtype, 1)


DNS_QUERIES = (
    dns_message(b"example.com", 1),                                  # A
    dns_message(b"a.b.c", 255),                                      # ANY: kept
    dns_message(b"x" * 40 + b".example.org", 28),                    # AAAA, a long name
    dns_message(b"", 2),                                             # NS of the root
    dns_message(b"example.com", 1, flags=0x8180),                    # a response
    dns_message(b"example.com", 1, questions=2),                     # two questions
    dns_message(b"a.b.c.d.e.f.g.h.i", 16),                           # nine labels
    struct.pack("!HHHHHH", 1, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c" + struct.pack("!HH", 1, 1),
    b"\x12\x34\x01",                                                 # cut short
)


def udp4_traffic(stack: contextlib.ExitStack) -> list[Any]:
    """IPv4 datagrams; the sizes each receiver got, in order."""
    receivers = {}
    for port in (WATCHED_PORT, OTHER_PORT, DNS_PORT):
        receivers[port] = stack.enter_context(udp())
        receivers[port].bind(("127.0.0.1", port))
    tx, unchecked = stack.enter_context(udp()), stack.enter_context(udp())
    unchecked.setsockopt(socket.SOL_SOCKET, SO_NO_CHECK, 1)
    sent = {port: 0 for port in receivers}
    for sock, payload, port in ((tx, b"x" * 10, WATCHED_PORT), (tx, b"y" * 200, OTHER_PORT),
                                (unchecked, b"z" * 50, WATCHED_PORT),
                                (tx, b"w" * 3000, OTHER_PORT),      # in two fragments
                                (tx, b"v" * 64, WATCHED_PORT + 99),
                                *((tx, query, DNS_PORT) for query in DNS_QUERIES)):
        sock.sendto(payload, ("127.0.0.1", port))
        sent[port] = sent.get(port, 0) + 1
    return [(port, [len(receivers[port].recv(4000)) for _ in range(sent[port])])
            for port in receivers]


def tcp4_traffic(stack: contextlib.ExitStack) -> list[Any]:
    """A connection that exchanges data and closes, client first, and one
    refused with a reset."""
    listener = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    listener.bind(("127.0.0.1", TCP_PORT))
    listener.listen(1)
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.connect(("127.0.0.1", TCP_PORT))
    server, _ = listener.accept()
    client.sendall(b"q" * 100)
    asked = server.recv(100, socket.MSG_WAITALL)
    server.sendall(b"a" * 50)
    answer = client.recv(50, socket.MSG_WAITALL)
    client.close()
    end = server.recv(1)                  # the client's FIN has arrived
    server.close()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as refused:
        outcome = refused.connect_ex(("127.0.0.1", CLOSED_PORT))
    return [len(asked), len(answer), end, errno.errorcode.get(outcome, outcome)]


def ipv6_traffic(stack: contextlib.ExitStack) -> list[Any]:
    """UDP over ::1 and an ICMPv6 echo, waited for."""
    rx = stack.enter_context(socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
    rx.bind(("::1", WATCHED_PORT))
    tx = stack.enter_context(socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
    for size in (30, 300):
        tx.sendto(b"s" * size, ("::1", WATCHED_PORT))
    got = [len(rx.recv(2000)) for _ in range(2)]
    icmp6 = stack.enter_context(socket.socket(socket.AF_INET6, socket.SOCK_RAW,
                                              socket.IPPROTO_ICMPV6))
    icmp6.settimeout(5)
    # The kernel fills in an ICMPv6 checksum itself.
    icmp6.sendto(struct.pack("!BBHHH", ICMPV6_ECHO_REQUEST, 0, 0, 0x4321, 1) + b"e" * 24,
                 ("::1", 0))
    while icmp6.recv(2000)[0] != ICMPV6_ECHO_REPLY:    # its own request comes first
        pass
    return got


def probe_packet_mix(attach: Callable[[socket.socket], ContextManager[Any]]) -> tuple[Any, ...]:
    """The filter on a packet socket on lo, in a network namespace of the
    probe's own; what the receivers got and the lengths of the frames the
    filter let through, in order."""
    unshare_network()
    link_up("lo", mtu=MTU)
    with packet_socket_on_lo() as packets, attach(packets), contextlib.ExitStack() as stack:
        seen = [udp4_traffic(stack), tcp4_traffic(stack), ipv6_traffic(stack)]
        ping_loopback()
        return tuple(seen), tuple(frame_lengths(packets))
