"""What each benchmarked hook is made to do.

A scenario names the loop the load generator (loadgen.c) runs to time the
hook, and a behaviour probe: a few syscalls whose outcomes show what the
program decided.  tests/test_bench_twins.py runs the probe against both
compilers' objects and demands the same outcomes and the same globals.

Cgroup probes run in a forked child that has moved into the cgroup the
program is attached to, and return what they saw (picklable).  The socket
filter probe gets an ``attach(sock)`` function instead and runs in place.
"""
from __future__ import annotations

import ctypes
import os
import socket
from dataclasses import dataclass
from typing import Any, Callable, ContextManager

SOL_IP, IP_TOS, IP_TTL, IP_FREEBIND = 0, 1, 2, 15
PAGE_SIZE = 4096


@dataclass(frozen=True)
class Scenario:
    name: str
    op: str                  # loadgen's operation: the syscall timed
    what: str                # the timed loop, in words
    iterations: int          # per timed run (BENCH_QUICK divides it)
    probe: Callable[..., Any]
    attach: str = "cgroup"   # or "socket": the program goes on a socket


def errno_of(call: Callable[..., Any], *args: Any) -> int:
    """0 when ``call(*args)`` succeeds, else the OSError's errno."""
    try:
        call(*args)
    except OSError as err:
        return err.errno or -1
    return 0


def unshare_network() -> None:
    """A private network namespace for the calling process, so the net.*
    sysctls it writes are its own and vanish with it."""
    CLONE_NEWNET = 0x40000000
    if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")


def udp() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


# ------------------------------------------------------------------ probes


def probe_setsockopt() -> tuple[Any, ...]:
    with udp() as s:
        return (errno_of(s.setsockopt, SOL_IP, IP_TTL, 5),
                s.getsockopt(SOL_IP, IP_TTL),
                errno_of(s.setsockopt, SOL_IP, IP_TOS, 0x10),
                errno_of(s.setsockopt, socket.SOL_SOCKET, socket.SO_REUSEADDR, 1),
                # Longer than a page: the program hands the buffer through.
                errno_of(s.setsockopt, SOL_IP, IP_TOS, (0x08).to_bytes(4, "little")
                         + bytes(PAGE_SIZE + 100)),
                s.getsockopt(SOL_IP, IP_TOS))


def probe_getsockopt() -> tuple[Any, ...]:
    with udp() as s:
        s.setsockopt(SOL_IP, IP_FREEBIND, 0)      # the kernel's own value is 0
        return (s.getsockopt(SOL_IP, IP_FREEBIND),
                s.getsockopt(SOL_IP, IP_FREEBIND, 4),
                s.getsockopt(SOL_IP, IP_FREEBIND, 1),  # too short to rewrite
                s.getsockopt(SOL_IP, IP_TOS),
                s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE))


def probe_sock_create() -> tuple[Any, ...]:
    seen: list[Any] = []
    for family, kind in ((socket.AF_INET, socket.SOCK_STREAM),
                         (socket.AF_INET, socket.SOCK_DGRAM),
                         (socket.AF_INET6, socket.SOCK_DGRAM)):
        with socket.socket(family, kind) as s:
            seen.append((s.getsockopt(socket.SOL_SOCKET, socket.SO_MARK),
                         s.getsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY)))
    seen.append(errno_of(socket.socket, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP))
    return tuple(seen)


def probe_sock_release() -> None:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_DGRAM,
                 socket.SOCK_RAW):
        proto = socket.IPPROTO_ICMP if kind == socket.SOCK_RAW else 0
        socket.socket(socket.AF_INET, kind, proto).close()


def _bind_outcomes(family: int, addresses: list[tuple[str, int]]) -> tuple[int, ...]:
    outcomes = []
    for address in addresses:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            outcomes.append(errno_of(s.bind, address))
    return tuple(outcomes)


def probe_post_bind4() -> tuple[int, ...]:
    return _bind_outcomes(socket.AF_INET, [
        ("127.0.0.1", 3999), ("127.0.0.1", 4000), ("127.0.0.1", 4005),
        ("127.0.0.1", 4010), ("127.0.0.1", 4011), ("127.0.0.1", 0), ("127.0.0.2", 0)])


def probe_post_bind6() -> tuple[int, ...]:
    return _bind_outcomes(socket.AF_INET6, [
        ("::1", 4998), ("::1", 5000), ("::1", 5001), ("::1", 5004), ("::1", 5100),
        ("::1", 5102), ("::1", 5999), ("::", 5999), ("::1", 0)])


def _read(path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 100)        # one read(2): one run of the hook
    finally:
        os.close(fd)


def _write(path: str, data: bytes, offset: int) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, data, offset)
    finally:
        os.close(fd)


def probe_sysctl_guard() -> tuple[int, ...]:
    unshare_network()          # any write that got through stays in here
    forward = "/proc/sys/net/ipv4/ip_forward"
    return (errno_of(_read, forward),
            errno_of(_read, "/proc/sys/net/ipv4/ip_default_ttl"),
            errno_of(_write, forward, b"0\n", 0),
            errno_of(_write, forward, b"0\n", 1))


def probe_sysctl_by_name() -> tuple[int, ...]:
    return tuple(errno_of(_read, f"/proc/sys/{name}") for name in (
        "net/ipv4/ip_forward", "net/ipv4/ip_default_ttl",
        "net/ipv4/ip_forward_use_pmtu",      # the name continues past the prefix
        "kernel/ostype"))


def probe_socket_filter(attach: Callable[[socket.socket], ContextManager[Any]]
                        ) -> list[int]:
    rx, tx = udp(), udp()
    with rx, tx:
        rx.bind(("127.0.0.1", 0))
        with attach(rx):
            payloads = [b"a" * 10, b"b" * 119, b"c" * 120, b"d" * 500, b"e" * 1491,
                        b"f" * 1492, b"g" * 3000]
            for p in payloads:
                tx.sendto(p, rx.getsockname())
            # The lengths show whether the filter kept each packet whole.
            return [len(rx.recv(4000)) for _ in payloads]


# --------------------------------------------------------------- scenarios

SETSOCKOPT = Scenario("setsockopt", "setsockopt", "setsockopt(SOL_IP, IP_TOS) on a UDP socket",
                      400_000, probe_setsockopt)
GETSOCKOPT = Scenario("getsockopt", "getsockopt",
                      "getsockopt(SOL_IP, IP_FREEBIND) on a UDP socket", 400_000,
                      probe_getsockopt)
SOCK_CREATE = Scenario("sock_create", "socket_close", "socket(AF_INET, SOCK_DGRAM) + close",
                       60_000, probe_sock_create)
SOCK_RELEASE = Scenario("sock_release", "socket_close", "socket(AF_INET, SOCK_DGRAM) + close",
                        60_000, probe_sock_release)
POST_BIND4 = Scenario("post_bind4", "bind4", "socket + bind(127.0.0.1:0) + close, UDP",
                      40_000, probe_post_bind4)
POST_BIND6 = Scenario("post_bind6", "bind6", "socket + bind([::1]:0) + close, UDP",
                      40_000, probe_post_bind6)
SYSCTL_GUARD = Scenario("sysctl_guard", "sysctl_read", "pread of net.ipv4.ip_default_ttl",
                        200_000, probe_sysctl_guard)
SYSCTL_BY_NAME = Scenario("sysctl_by_name", "sysctl_read", "pread of net.ipv4.ip_default_ttl",
                          200_000, probe_sysctl_by_name)
SOCKET_FILTER = Scenario("socket_filter", "send_recv",
                         "send 64 bytes over loopback UDP + recv on the filtered socket",
                         200_000, probe_socket_filter, attach="socket")
