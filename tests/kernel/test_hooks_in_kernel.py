"""Each seed hook, compiled by pybpfc, loaded by the runtime and attached to
a temporary cgroup: a child process in that cgroup makes the syscall and
the test asserts what the kernel did."""
from __future__ import annotations

import errno
import os
import socket

import pytest

from tests.support import unshare_network, REPO_ROOT, errno_of, require_root, run_in_cgroup
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.cgroup import TemporaryCgroup
from pybpfc.runtime.collection import Collection, load

SOL_IP, IP_TTL, IP_TOS, IP_FREEBIND = 0, 2, 1, 15


def build(text: str, name: str = "prog.py") -> bytes:
    return compile_source(Source(name, text)).elf


def example(name: str) -> bytes:
    path = REPO_ROOT / "examples" / f"{name}.py"
    return compile_source(Source(str(path), path.read_text())).elf


def attached(elf: bytes, cg: TemporaryCgroup) -> tuple[Collection, list]:
    coll = load(elf)
    links = [p.attach(cg.path) for p in coll.programs.values()]
    return coll, links


def detach(coll: Collection, links: list) -> None:
    for link in links:
        link.close()
    coll.close()


def test_setsockopt_ip_ttl_is_refused_with_eperm(cgroup: TemporaryCgroup) -> None:
    coll, links = attached(example("deny_ttl"), cgroup)
    try:
        def child() -> tuple[int, int]:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            return (errno_of(s.setsockopt, SOL_IP, IP_TTL, 5),
                    errno_of(s.setsockopt, SOL_IP, IP_TOS, 0x10))
        assert run_in_cgroup(cgroup.path, child) == (errno.EPERM, 0)
        assert coll.globals["refused"] == 1
    finally:
        detach(coll, links)
    # Detached: the same call succeeds again.
    assert run_in_cgroup(cgroup.path, lambda: errno_of(
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).setsockopt, SOL_IP, IP_TTL, 5)) == 0


def test_getsockopt_value_is_rewritten(cgroup: TemporaryCgroup) -> None:
    coll, links = attached(example("getsockopt_freebind"), cgroup)
    try:
        def child() -> tuple[int, int]:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(SOL_IP, IP_FREEBIND, 0)          # the kernel's value is 0
            return (s.getsockopt(SOL_IP, IP_FREEBIND), s.getsockopt(SOL_IP, IP_TOS))
        assert run_in_cgroup(cgroup.path, child) == (1, 0)
        assert coll.globals["rewritten"] == 1
    finally:
        detach(coll, links)


REFUSE_UDP = """
from typing import Final
from pybpfc import ALLOW, REJECT, SockContext, cgroup_sock_create, u32

SOCK_DGRAM: Final = 2
seen: u32 = 0


@cgroup_sock_create
def no_udp(ctx: SockContext) -> int:
    global seen
    seen += 1
    return REJECT if ctx.type == SOCK_DGRAM else ALLOW
"""


def test_sock_create_refuses_udp_sockets(cgroup: TemporaryCgroup) -> None:
    coll, links = attached(build(REFUSE_UDP), cgroup)
    try:
        def child() -> tuple[int, int]:
            return (errno_of(socket.socket, socket.AF_INET, socket.SOCK_DGRAM),
                    errno_of(socket.socket, socket.AF_INET, socket.SOCK_STREAM))
        assert run_in_cgroup(cgroup.path, child) == (errno.EPERM, 0)
        assert coll.globals["seen"] == 2
    finally:
        detach(coll, links)


def test_sock_create_sets_mark_and_priority(cgroup: TemporaryCgroup) -> None:
    coll, links = attached(example("sock_create_mark"), cgroup)
    try:
        def child() -> tuple[int, int, int]:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            raw = errno_of(socket.socket, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
            return (s.getsockopt(socket.SOL_SOCKET, socket.SO_MARK),
                    s.getsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY), raw)
        assert run_in_cgroup(cgroup.path, child) == (0x2A, 6, errno.EPERM)
        counts = coll.globals["counts"]
        assert (counts.created, counts.refused) == (1, 1)
        assert coll.globals["per_type"][socket.SOCK_STREAM] == 1
    finally:
        detach(coll, links)


def test_sock_release_counts_closed_sockets(cgroup: TemporaryCgroup) -> None:
    coll, links = attached(example("sock_release_count"), cgroup)
    try:
        def child() -> None:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_DGRAM):
                socket.socket(socket.AF_INET, kind).close()
        run_in_cgroup(cgroup.path, child)
        assert (coll.globals["tcp_released"], coll.globals["udp_released"]) == (1, 2)
    finally:
        detach(coll, links)


def test_post_bind4_refuses_a_port_and_a_retry_elsewhere_succeeds(
        cgroup: TemporaryCgroup) -> None:
    coll, links = attached(example("post_bind4_ports"), cgroup)
    try:
        def child() -> tuple[int, int, int]:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            refused = errno_of(s.bind, ("127.0.0.1", 4005))
            retried = errno_of(s.bind, ("127.0.0.1", 0))
            return refused, retried, s.getsockname()[1]
        refused, retried, port = run_in_cgroup(cgroup.path, child)
        assert (refused, retried) == (errno.EPERM, 0)
        assert not 4000 <= port <= 4010
    finally:
        detach(coll, links)


def test_post_bind6_refuses_even_ports_in_range(cgroup: TemporaryCgroup) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    coll, links = attached(example("post_bind6_ports"), cgroup)
    try:
        def child() -> tuple[int, int, int]:
            even = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            odd = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            lo = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            return (errno_of(even.bind, ("::1", 5004)), errno_of(odd.bind, ("::1", 5005)),
                    errno_of(lo.bind, ("::1", 5999)))
        assert run_in_cgroup(cgroup.path, child) == (errno.EPERM, 0, errno.EPERM)
    finally:
        detach(coll, links)




def test_sysctl_writes_refused_reads_allowed(cgroup: TemporaryCgroup) -> None:
    coll, links = attached(example("sysctl_guard"), cgroup)
    try:
        def child() -> tuple[int, int]:
            unshare_network()
            path = "/proc/sys/net/ipv4/ip_forward"

            def read() -> bytes:
                fd = os.open(path, os.O_RDONLY)
                try:
                    return os.read(fd, 100)     # one read(2): one run of the hook
                finally:
                    os.close(fd)

            def write() -> None:
                fd = os.open(path, os.O_WRONLY)
                try:
                    os.write(fd, b"1\n")
                finally:
                    os.close(fd)
            return errno_of(read), errno_of(write)
        assert run_in_cgroup(cgroup.path, child) == (0, errno.EPERM)
        assert coll.globals["reads"] == 1
        assert coll.globals["writes_refused"] == 1
    finally:
        detach(coll, links)


def test_socket_filter_counts_loopback_bytes() -> None:
    require_root("a socket filter on a raw packet socket")
    with load(example("count_bytes")) as coll:
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(("127.0.0.1", 0))
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with rx, tx, coll["count_bytes"].attach(rx):
            payloads = [b"x" * 10, b"y" * 200, b"z" * 1000]
            for p in payloads:
                tx.sendto(p, rx.getsockname())
            received = [rx.recv(2000) for _ in payloads]
        assert received == payloads
        assert coll.globals["packets"] == 3
        # On a UDP socket the filter runs after the IP header is pulled: it sees
        # the 8-byte UDP header and the payload.
        assert coll.globals["total_bytes"] == sum(len(p) + 8 for p in payloads)
        assert coll.globals["by_size"] == [1, 1, 1, 0]


def test_sysctl_read_refused_by_name(cgroup: TemporaryCgroup) -> None:
    coll, links = attached(example("sysctl_by_name"), cgroup)
    try:
        def child() -> tuple[int, int]:
            def read(path: str) -> bytes:
                fd = os.open(path, os.O_RDONLY)
                try:
                    return os.read(fd, 100)
                finally:
                    os.close(fd)
            return (errno_of(read, "/proc/sys/net/ipv4/ip_forward"),
                    errno_of(read, "/proc/sys/net/ipv4/ip_default_ttl"))
        assert run_in_cgroup(cgroup.path, child) == (errno.EPERM, 0)
        assert (coll.globals["refused"], coll.globals["allowed"]) == (1, 1)
    finally:
        detach(coll, links)
