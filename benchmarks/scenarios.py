"""What each benchmarked hook is made to do.

A scenario names the loop the load generator (loadgen.c) runs to time the
hook, and a behaviour probe: a few syscalls whose outcomes show what the
program decided.  tests/kernel/test_bench_twins.py runs the probe against both
compilers' objects and demands the same outcomes and the same globals.

How a scenario attaches a row's programs (``attach``):

- "cgroup": every program of the row to one temporary cgroup; the probe
  runs in a forked child that has moved into it and returns what it saw
  (picklable).
- "socket": the socket filter on a UDP socket; the probe gets an
  ``attach(sock)`` function and runs in place.
- "packet": the socket filter on an AF_PACKET socket.  The probe gets
  ``attach(sock)`` too, but runs in a forked child, since it moves into a
  private network namespace (loopback only, no other traffic).  The load
  generator makes the same setup itself and gets the program's fd.
- "chain": the object is loaded once per entry of ``layers`` (the value of
  its ReadOnly global ``layer``), attached to nested cgroups, outermost
  first; the probe runs in each cgroup, innermost first.  The hook cost is
  timed with one attachment in a single cgroup, as for "cgroup".
- "tracing": the programs attached machine-wide (tracepoints, uprobes,
  perf events; see tracing_scenarios.py); the probe runs in a forked child,
  and ``select`` keeps, of the maps, what that child caused, with its pid
  left out.  The hook cost is not timed for these rows: both objects'
  programs would see every process's events at once.
- "test_run": nothing is attached; every program of the row runs through
  BPF_PROG_TEST_RUN on a fixed packet mix (packet_probes.py), after
  ``prepare`` filled its maps.  Timed by packet_runs.py, not loadgen.
"""
from __future__ import annotations

import os
import socket
import stat
import struct
import tempfile
from dataclasses import dataclass
from typing import Any, Callable, ContextManager, Optional

from pybpfc.abi.kernel import PAGE_SIZE

from .netns import (frame_lengths, link_up, packet_socket_on_lo, ping_loopback, udp,
                    unshare_network)
from .packet_traffic import probe_packet_mix
from . import packet_probes

SOL_IP, IP_TOS, IP_TTL, IP_FREEBIND = 0, 1, 2, 15
SOL_PYBPFC, NOTE = 0x7079, 1       # sockopt_custom's own option


@dataclass(frozen=True)
class Scenario:
    name: str
    op: str                  # loadgen's operation: the syscall timed
    what: str                # the timed loop, in words
    iterations: int          # per timed run (BENCH_QUICK divides it)
    probe: Callable[..., Any]
    attach: str = "cgroup"   # "socket", "packet" or "chain": see the module's docstring
    layers: tuple[int, ...] = ()   # "chain": `layer` per cgroup, outermost first
    # "tracing": (maps' state, child's pid) -> the part of the state the child caused
    select: Callable[[dict[str, Any], int], Any] = lambda state, pid: state
    target_global: str = ""        # "tracing": a ReadOnly global set to the child's pid
    frequency: int = 0             # "tracing": perf_event samples per second
    prepare: Optional[Callable[[Any], None]] = None   # "test_run": fills the maps first


def errno_of(call: Callable[..., Any], *args: Any) -> int:
    """0 when ``call(*args)`` succeeds, else the OSError's errno."""
    try:
        call(*args)
    except OSError as err:
        return err.errno or -1
    return 0


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


def _connect_outcomes(kind: int, addresses: list[tuple[str, int]]) -> tuple[int, ...]:
    outcomes = []
    for host, port in addresses:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, kind) as s:
            outcomes.append(errno_of(s.connect, (host, port)))
    return tuple(outcomes)


def probe_refuse_smtp() -> tuple[int, ...]:
    """UDP connects, which send nothing: the mail ports refused, others not."""
    return _connect_outcomes(socket.SOCK_DGRAM, [
        ("127.0.0.1", 25), ("127.0.0.1", 465), ("127.0.0.1", 587), ("127.0.0.1", 9),
        ("::1", 25), ("::1", 9)])


def probe_connect_proxy() -> tuple[Any, ...]:
    """A TCP connection to a listener of the probe's (no port is proxied:
    the probe cannot fill the map), and a UDP connect the hook ignores."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        client.connect(server.getsockname())
        server.accept()[0].close()
        reached = client.getpeername() == server.getsockname()
    return (reached, *_connect_outcomes(socket.SOCK_DGRAM, [("127.0.0.1", 9)]))


def probe_bind_allowlist() -> tuple[int, ...]:
    return (_bind_outcomes(socket.AF_INET, [("127.0.0.1", 80), ("127.0.0.1", 1023),
                                            ("127.0.0.1", 0)])
            + _bind_outcomes(socket.AF_INET6, [("::1", 443), ("::1", 0)]))


def probe_udp_source() -> tuple[Any, ...]:
    """Datagrams over loopback, IPv4 then IPv6: what source the receiver
    sees (the kernel's choice while `source4` is 0)."""
    seen = []
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        with socket.socket(family, socket.SOCK_DGRAM) as rx, \
                socket.socket(family, socket.SOCK_DGRAM) as tx:
            rx.bind((host, 0))
            tx.sendto(b"x", rx.getsockname())
            seen.append(rx.recvfrom(16)[1][0])
    return tuple(seen)


def probe_socket_calls() -> None:
    """Each call the audit counts, INET then Unix (an abstract address:
    nothing on disk); every socket closed before it is collected."""
    probe_udp_source()      # a datagram received with its source, its receiver's name
    name = f"\0pybpfc-bench-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server, \
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as client:
        server.bind(name)
        client.sendto(b"x", name)
        server.recvfrom(16)
        client.connect(name)
        client.getpeername()
        server.getsockname()    # (the hook runs only for a socket with an address)


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


def getsockopt_or_errno(s: socket.socket, level: int, name: int, size: int) -> object:
    try:
        return s.getsockopt(level, name, size)
    except OSError as err:
        return err.errno


def probe_sockopt_custom() -> tuple[Any, ...]:
    with udp() as s, udp() as other:
        seen: list[Any] = [errno_of(s.setsockopt, SOL_PYBPFC, NOTE, b"\x2a"),
                           errno_of(s.setsockopt, SOL_PYBPFC, NOTE, b"\x07"),
                           errno_of(s.setsockopt, SOL_PYBPFC, NOTE, b"\x01\x02"),
                           getsockopt_or_errno(other, SOL_PYBPFC, NOTE, 1),   # no note
                           getsockopt_or_errno(s, SOL_PYBPFC, NOTE, 1)]
        s.setsockopt(SOL_IP, IP_FREEBIND, 0)          # the program makes it 1
        seen.append(s.getsockopt(SOL_IP, IP_FREEBIND))
        seen.append(errno_of(s.setsockopt, SOL_IP, IP_TOS, (0x28).to_bytes(4, "little")
                             + bytes(PAGE_SIZE)))    # more than a page
        seen.append(s.getsockopt(SOL_IP, IP_TOS))
        return tuple(seen)


TCP_RMEM = "/proc/sys/net/ipv4/tcp_rmem"


def _write_once(path: str, value: bytes) -> int:
    """One write(2) of a sysctl: 0 or the errno."""
    return errno_of(_write, path, value, 0)


def probe_sysctl_ascending() -> tuple[Any, ...]:
    unshare_network()          # tcp_rmem is per network namespace: a private one
    before = _read(TCP_RMEM)
    outcomes = (_write_once(TCP_RMEM, b"4096 131072 6291456"),
                _write_once(TCP_RMEM, b"4096 1000 6291456"),     # not ascending
                _write_once(TCP_RMEM, b"4096 131072"),           # too few numbers
                _write_once(TCP_RMEM, b"4096 131072 x"),
                _write_once("/proc/sys/net/ipv4/tcp_wmem", b"4096 1000 6291456"))
    return before, outcomes, _read(TCP_RMEM)


def probe_udp_one_at_a_time() -> tuple[int, ...]:
    results = []
    first = udp()
    results.append(errno_of(socket.socket, socket.AF_INET, socket.SOCK_DGRAM))
    results.append(errno_of(socket.socket, socket.AF_INET6, socket.SOCK_DGRAM))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)      # not limited
    first.close()
    again = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)    # a place is free
    results.append(errno_of(socket.socket, socket.AF_INET, socket.SOCK_DGRAM))
    again.close()
    tcp.close()
    return tuple(results)


def probe_packet_socket(attach: Callable[[socket.socket], ContextManager[Any]]
                        ) -> tuple[Any, ...]:
    """In a private network namespace: a packet socket on lo with the
    filter, UDP datagrams and an ICMP echo over loopback.  What the packet
    socket itself received shows the filter's verdicts."""
    unshare_network()
    link_up("lo")
    with packet_socket_on_lo() as packets, attach(packets), udp() as rx, udp() as tx:
        rx.bind(("127.0.0.1", 9999))
        for size in (10, 200, 1000):
            tx.sendto(b"u" * size, ("127.0.0.1", 9999))
        got = [len(rx.recv(2000)) for _ in range(3)]
        ping_loopback()
        return tuple(got), tuple(frame_lengths(packets))


def probe_getsockopt_tos() -> int:
    with udp() as s:
        s.setsockopt(SOL_IP, IP_TOS, 0x08)
        return s.getsockopt(SOL_IP, IP_TOS)


# ------------------------------------------- benchmarks/programs' probes

SOL_SOCKET, SO_SNDBUF, SO_RCVBUF, SO_PRIORITY, SO_LINGER = 1, 7, 8, 12, 13
SOL_OPTCACHE, OPT_ALL = 0x6F63, 1          # sockopt_option_cache's own option
SOL_TCP, OPT_TCP_INFO, TCP_INFO_SIZE = 6, 11, 232


def tcp() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def probe_option_cache() -> tuple[Any, ...]:
    with udp() as s, udp() as other:
        seen: list[Any] = [getsockopt_or_errno(s, SOL_OPTCACHE, OPT_ALL, 16)]   # all zero
        s.setsockopt(SOL_IP, IP_TOS, 0x2B)            # the program clears the ECN bits
        s.setsockopt(SOL_IP, IP_TTL, 3)               # raised to the minimum
        s.setsockopt(SOL_IP, IP_TTL, 100)
        s.setsockopt(SOL_SOCKET, SO_PRIORITY, 5)
        s.setsockopt(SOL_IP, IP_TOS, b"\x11")         # one byte: not cached
        seen += [s.getsockopt(SOL_IP, IP_TOS), s.getsockopt(SOL_IP, IP_TTL),
                 getsockopt_or_errno(s, SOL_OPTCACHE, OPT_ALL, 16),
                 getsockopt_or_errno(s, SOL_OPTCACHE, OPT_ALL, 8),    # too short
                 getsockopt_or_errno(other, SOL_OPTCACHE, OPT_ALL, 16),
                 errno_of(s.setsockopt, SOL_IP, IP_TOS, bytes(PAGE_SIZE + 8))]
        return tuple(seen)


def probe_linger() -> tuple[Any, ...]:
    def linger(onoff: int, seconds: int) -> bytes:
        return struct.pack("ii", onoff, seconds)

    seen: list[Any] = []
    for sock in (tcp(), udp()):
        with sock:
            for value in (linger(1, 30), linger(1, 0), linger(1, 0), linger(0, 100),
                          linger(1, 2), b"\x01"):
                seen.append(errno_of(sock.setsockopt, SOL_SOCKET, SO_LINGER, value))
                seen.append(struct.unpack("ii", sock.getsockopt(SOL_SOCKET, SO_LINGER, 8)))
    return tuple(seen)


def probe_buffer_budget() -> tuple[Any, ...]:
    seen: list[Any] = []
    with udp() as s, udp() as other:
        for name, size in ((SO_RCVBUF, 100_000), (SO_SNDBUF, 1_000_000), (SO_SNDBUF, 50_000),
                           (SO_RCVBUF, 1_040_000), (SO_RCVBUF, 10)):
            s.setsockopt(SOL_SOCKET, name, size)
            seen.append((s.getsockopt(SOL_SOCKET, SO_RCVBUF),
                         s.getsockopt(SOL_SOCKET, SO_SNDBUF)))
        other.setsockopt(SOL_SOCKET, SO_RCVBUF, struct.pack("ih", 70_000, 0))  # 6 bytes
        seen.append(other.getsockopt(SOL_SOCKET, SO_RCVBUF))
        seen.append(getsockopt_or_errno(s, SOL_SOCKET, SO_RCVBUF, 2))
    return tuple(seen)


def exchange(client: socket.socket, server: socket.socket, rounds: int, size: int) -> None:
    """``rounds`` round trips over a TCP connection: ``size`` bytes each way."""
    for _ in range(rounds):
        client.sendall(b"q" * size)
        server.recv(size, socket.MSG_WAITALL)
        server.sendall(b"a" * size)
        client.recv(size, socket.MSG_WAITALL)


def probe_tcp_info() -> tuple[Any, ...]:
    """Whether the round-trip times come in whole milliseconds (the kernel's
    own values vary from run to run)."""
    def timings(sock: socket.socket, size: int = TCP_INFO_SIZE) -> tuple[int, ...]:
        info = sock.getsockopt(SOL_TCP, OPT_TCP_INFO, size)
        state, = struct.unpack_from("B", info, 0)
        rtt, rttvar = struct.unpack_from("II", info, 68)
        rcv_rtt, = struct.unpack_from("I", info, 92)
        min_rtt, = struct.unpack_from("I", info, 148)
        return state, rtt % 1000, rttvar % 1000, rcv_rtt % 1000, min_rtt % 1000

    with tcp() as listener, tcp() as client, tcp() as unconnected:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        seen: list[Any] = [timings(unconnected), timings(listener)]
        client.connect(listener.getsockname())
        server, _ = listener.accept()
        with server:
            exchange(client, server, 3, 1000)
            seen += [timings(client), timings(server), timings(client),
                     len(client.getsockopt(SOL_TCP, OPT_TCP_INFO, 100))]    # asks for less
        return tuple(seen)


PORT_RANGE_PATH = "/proc/sys/net/ipv4/ip_local_port_range"
TCP_WMEM_PATH = "/proc/sys/net/ipv4/tcp_wmem"
RESERVED_PORTS_PATH = "/proc/sys/net/ipv4/ip_local_reserved_ports"


def sysctl_writes(path: str, values: tuple[bytes, ...]) -> tuple[Any, ...]:
    """In a private network namespace: the sysctl before, each write's
    outcome, the sysctl after."""
    unshare_network()
    before = _read(path)
    return before, tuple(_write_once(path, value) for value in values), _read(path)


def probe_port_range() -> tuple[Any, ...]:
    return sysctl_writes(PORT_RANGE_PATH, (
        b"20000 40000", b"500 40000", b"30000 30500", b"40000 30000", b"20000 40000 5",
        b"20000", b"x", b"32768 60999\n"))


def probe_tcp_wmem() -> tuple[Any, ...]:
    return sysctl_writes(TCP_WMEM_PATH, (
        b"4096 16384 4194304", b"4096 1024 4194304", b"4096 2048 8192", b"4096 16384",
        b"4096 16384 x", b"4096 16384 67108864", b"8192 65536 16777216"))


def probe_rmem_ceiling() -> tuple[Any, ...]:
    return sysctl_writes(TCP_RMEM, (
        b"4096 131072 6291456", b"4096 4096 6291456", b"4096 131072 67108864",
        b"4096 131072", b"8192 87380 33554432", b"8192 87380 33554433"))


def probe_reserved_ports() -> tuple[Any, ...]:
    return sysctl_writes(RESERVED_PORTS_PATH, (
        b"8080,9000-9010", b"80", b"9010-9000", b"8080-", b"5000-9999",
        b"2000,2001,2002,2003,2004,2005,2006", b"2000,3000-3001x", b"",
        b"3000-3010,4000\n"))


# ---- device and TCP-event cgroup hooks (issue 14 part B)


def _open_close(path: str) -> None:
    os.close(os.open(path, os.O_RDONLY))


def probe_device() -> tuple[int, ...]:
    """Read-only opens of harmless devices, and mknod(2) of device nodes
    in a directory of the probe's own (a refused mknod creates nothing)."""
    opened = tuple(errno_of(_open_close, path)
                   for path in ("/dev/null", "/dev/zero", "/dev/urandom"))
    with tempfile.TemporaryDirectory(prefix="pybpfc-devices-") as directory:
        made = tuple(errno_of(os.mknod, os.path.join(directory, f"node{minor}"),
                              0o600 | stat.S_IFCHR, os.makedev(1, minor))
                     for minor in (3, 1))
    return opened + made


TCP_CONGESTION, TCP_CA_NAME_MAX = 13, 16


def congestion_control(s: socket.socket) -> str:
    raw = s.getsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, TCP_CA_NAME_MAX)
    return raw.split(b"\0")[0].decode()


def probe_tcp_tuning() -> tuple[str, str, str]:
    """In a network namespace of its own, loopback up: a TCP connection to
    its own listener and 20 exchanges of 100 bytes each way.  The
    namespace's default congestion control, then the client's and the
    accepted socket's."""
    unshare_network()
    link_up("lo")
    with open("/proc/sys/net/ipv4/tcp_congestion_control") as f:
        default = f.read().strip()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        with socket.create_connection(listener.getsockname()) as client:
            server, _ = listener.accept()
            with server:
                exchange(client, server, 20, 100)
                return default, congestion_control(client), congestion_control(server)


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
REFUSE_SMTP = Scenario("refuse_smtp", "connect4", "socket + connect(127.0.0.1:9) + close, UDP",
                       40_000, probe_refuse_smtp)
CONNECT_PROXY = Scenario("connect_proxy", "connect4",
                         "socket + connect(127.0.0.1:9) + close, UDP", 40_000,
                         probe_connect_proxy)
BIND_ALLOWLIST = Scenario("bind_allowlist", "bind4", "socket + bind(127.0.0.1:0) + close, UDP",
                          40_000, probe_bind_allowlist)
UDP_SOURCE = Scenario("udp_source", "sendto4",
                      "sendto 1 byte over loopback UDP + recv", 200_000, probe_udp_source)
SOCKET_CALLS = Scenario("socket_calls", "getsockname4", "getsockname() of a bound UDP socket",
                        400_000, probe_socket_calls)
SYSCTL_GUARD = Scenario("sysctl_guard", "sysctl_read", "pread of net.ipv4.ip_default_ttl",
                        200_000, probe_sysctl_guard)
SYSCTL_BY_NAME = Scenario("sysctl_by_name", "sysctl_read", "pread of net.ipv4.ip_default_ttl",
                          200_000, probe_sysctl_by_name)
SOCKET_FILTER = Scenario("socket_filter", "send_recv",
                         "send 64 bytes over loopback UDP + recv on the filtered socket",
                         200_000, probe_socket_filter, attach="socket")
SOCKOPT_CUSTOM = Scenario("sockopt_custom", "custom_sockopt",
                          "setsockopt + getsockopt of a 1-byte option at an unknown level",
                          200_000, probe_sockopt_custom)
SYSCTL_ASCENDING = Scenario("sysctl_ascending", "sysctl_write",
                            "pwrite of net.ipv4.tcp_rmem in a private netns", 100_000,
                            probe_sysctl_ascending)
UDP_ONE_AT_A_TIME = Scenario("udp_one_at_a_time", "socket_close",
                             "socket(AF_INET, SOCK_DGRAM) + close", 60_000,
                             probe_udp_one_at_a_time)
PACKET_SOCKET = Scenario("packet_socket", "packet_lo",
                         "send 64 bytes over loopback UDP + recv, a packet socket on lo "
                         "(private netns)", 100_000, probe_packet_socket, attach="packet")
GETSOCKOPT_CHAIN = Scenario("getsockopt_chain", "getsockopt_tos",
                            "getsockopt(SOL_IP, IP_TOS) on a UDP socket, one attachment",
                            400_000, probe_getsockopt_tos, attach="chain", layers=(0x1, 0x2))

OPTION_CACHE = Scenario("option_cache", "option_cache",
                        "setsockopt(IP_TOS) + getsockopt of the cache's own option, UDP",
                        200_000, probe_option_cache)
LINGER = Scenario("linger", "linger", "setsockopt(SO_LINGER, 30 s) on a UDP socket", 400_000,
                  probe_linger)
BUFFER_BUDGET = Scenario("buffer_budget", "buffer_budget",
                         "setsockopt + getsockopt of SO_RCVBUF on a UDP socket", 200_000,
                         probe_buffer_budget)
TCP_INFO = Scenario("tcp_info", "tcp_info", "getsockopt(TCP_INFO) on a connection over loopback",
                    400_000, probe_tcp_info)
PORT_RANGE = Scenario("port_range", "write_port_range",
                      "pwrite of net.ipv4.ip_local_port_range in a private netns", 100_000,
                      probe_port_range)
TCP_WMEM = Scenario("tcp_wmem", "write_tcp_wmem", "pwrite of net.ipv4.tcp_wmem in a private netns",
                    100_000, probe_tcp_wmem)
RMEM_CEILING = Scenario("rmem_ceiling", "sysctl_write",
                        "pwrite of net.ipv4.tcp_rmem in a private netns", 100_000,
                        probe_rmem_ceiling)
PACKET_UDP = Scenario("packet_udp", "packet_lo",
                      "send 64 bytes over loopback UDP + recv, a packet socket on lo "
                      "(private netns)", 100_000, probe_packet_mix, attach="packet")
PACKET_DNS = Scenario("packet_dns", "packet_lo_dns",
                      "send a DNS query to 127.0.0.1:53 + recv, a packet socket on lo "
                      "(private netns)", 100_000, probe_packet_mix, attach="packet")
PACKET_UDP6 = Scenario("packet_udp6", "packet_lo6",
                       "send 64 bytes over UDP to [::1] + recv, a packet socket on lo "
                       "(private netns)", 100_000, probe_packet_mix, attach="packet")
PACKET_TCP = Scenario("packet_tcp", "packet_lo_tcp",
                      "send 64 bytes over a loopback TCP connection + recv, a packet socket "
                      "on lo (private netns)", 100_000, probe_packet_mix, attach="packet")
RESERVED_PORTS = Scenario("reserved_ports", "write_reserved_ports",
                          "pwrite of net.ipv4.ip_local_reserved_ports in a private netns",
                          100_000, probe_reserved_ports)
# device and TCP-event cgroup hooks (issue 14 part B)
DEVICE = Scenario("device", "open_null", "open(\"/dev/null\", O_RDONLY) + close", 200_000,
                  probe_device)
TCP_TUNING = Scenario("tcp_tuning", "tcp_send_recv",
                      "send 64 bytes over a loopback TCP connection + recv", 200_000,
                      probe_tcp_tuning)


# XDP, tc and cgroup_skb rows: BPF_PROG_TEST_RUN on packet_probes.mix().
def test_run_scenario(name: str, prepare: Optional[Callable[[Any], None]] = None) -> Scenario:
    return Scenario(name, "test_run", "BPF_PROG_TEST_RUN on a fixed packet mix", 0,
                    packet_probes.probe_test_run, attach="test_run", prepare=prepare)


TEST_RUN = test_run_scenario("test_run")
TEST_RUN_BLOCKED = test_run_scenario("test_run_blocked", packet_probes.prepare_block_prefixes)
TEST_RUN_BACKENDS = test_run_scenario("test_run_backends", packet_probes.prepare_load_balancer)
