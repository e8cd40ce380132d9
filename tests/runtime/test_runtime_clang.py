"""Objects that Debian's clang builds from the small libbpf-style C programs
in tests/c/interop_*.c load, attach and act through pybpfc's runtime: each
test makes the syscall from a forked child in a temporary cgroup, asserts
what the kernel did, and reads the maps and globals back from Python.  The
same objects also load with ``bpftool prog loadall`` (libbpf), into the
very same programs.

Safety: programs attach only to cgroups the tests create (TemporaryCgroup),
only forked children move into them, and the one sysctl write happens in a
child's private network namespace.
"""
from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.support import (REPO_ROOT, Attached, bpftool_loadall, clang_bpf, errno_of, find_bpftool,
                    require_root, run_in_cgroup, unshare_network)
from pybpfc.runtime.cgroup import TemporaryCgroup
from pybpfc.runtime.collection import load
from pybpfc.runtime.elf import read_object
from pybpfc.runtime.errors import BpfError

C_DIR = REPO_ROOT / "tests" / "c"
INTEROP = sorted(p.stem for p in C_DIR.glob("interop_*.c"))

SOL_IP, IP_TOS, IP_TTL, IP_FREEBIND = 0, 1, 2, 15
SO_REUSEADDR = socket.SO_REUSEADDR       # 2, the same number as IP_TTL
UDP_HEADER = 8


# ------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def objects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """tests/c/interop_*.c, each built once per session with
    ``clang -O2 -g -target bpf -c``; stem -> object path."""
    out_dir = tmp_path_factory.mktemp("interop")
    return {stem: clang_bpf(C_DIR / f"{stem}.c", out_dir / f"{stem}.o") for stem in INTEROP}


def read_once(path: str) -> bytes:
    """One read(2) of a file: one run of a sysctl program."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 100)
    finally:
        os.close(fd)


def write_once(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def udp() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


# ------------------------------------------------ (1) cgroup/setsockopt


@pytest.mark.kernel
def test_setsockopt_refuses_ip_ttl_at_the_level_set_on_the_spec(
        objects: dict[str, Path], cgroup: TemporaryCgroup) -> None:
    spec = read_object(objects["interop_setsockopt"])
    assert spec.data[".rodata"].readonly
    assert spec.get_global("refused_level") == -1
    spec.set_global("refused_level", SOL_IP)
    with udp() as s:
        default_ttl = s.getsockopt(SOL_IP, IP_TTL)

    with Attached(spec, cgroup) as coll:
        def child() -> tuple[int, int, int, int]:
            s = udp()
            return (errno_of(s.setsockopt, SOL_IP, IP_TTL, 5),
                    s.getsockopt(SOL_IP, IP_TTL),
                    errno_of(s.setsockopt, SOL_IP, IP_TOS, 0x10),
                    # Optname 2 again, at another level: not refused.
                    errno_of(s.setsockopt, socket.SOL_SOCKET, SO_REUSEADDR, 1))
        assert run_in_cgroup(cgroup.path, child) == (errno.EPERM, default_ttl, 0, 0)

        # The .rodata the kernel holds is the value set on the spec ...
        assert coll.globals["refused_level"] == SOL_IP
        # ... and it is frozen: user space cannot change it after loading.
        with pytest.raises(BpfError, match="read-only"):
            coll.globals["refused_level"] = 1

        stats = coll.maps["by_optname"]
        assert sorted(stats.keys()) == [IP_TOS, IP_TTL]
        ttl, tos = stats[IP_TTL], stats[IP_TOS]
        assert (ttl.calls, ttl.refused) == (2, 1)       # IP_TTL, then SO_REUSEADDR
        assert (tos.calls, tos.refused) == (1, 0)
        assert stats.get(IP_FREEBIND) is None
        assert len(stats) == 2

    # Detached: the same call succeeds again.
    assert run_in_cgroup(cgroup.path, lambda: errno_of(udp().setsockopt,
                                                       SOL_IP, IP_TTL, 5)) == 0


@pytest.mark.kernel
def test_setsockopt_default_rodata_refuses_nothing(
        objects: dict[str, Path], cgroup: TemporaryCgroup) -> None:
    with Attached(objects["interop_setsockopt"], cgroup) as coll:
        def child() -> tuple[int, int]:
            s = udp()
            return errno_of(s.setsockopt, SOL_IP, IP_TTL, 5), s.getsockopt(SOL_IP, IP_TTL)
        assert run_in_cgroup(cgroup.path, child) == (0, 5)
        assert coll.globals["refused_level"] == -1
        assert dict(coll.maps["by_optname"].items()) == {IP_TTL: {"calls": 1, "refused": 0}}


@pytest.mark.kernel
def test_setsockopt_map_written_from_python_is_what_the_program_updates(
        objects: dict[str, Path], cgroup: TemporaryCgroup) -> None:
    with Attached(objects["interop_setsockopt"], cgroup) as coll:
        stats = coll.maps["by_optname"]
        stats[IP_TOS] = {"calls": 100, "refused": 7}
        run_in_cgroup(cgroup.path, lambda: udp().setsockopt(SOL_IP, IP_TOS, 0x10))
        assert stats[IP_TOS] == {"calls": 101, "refused": 7}
        del stats[IP_TOS]
        assert len(stats) == 0


# ------------------------------------------------ (2) cgroup/getsockopt


@pytest.mark.kernel
def test_getsockopt_rewrites_ip_freebind(objects: dict[str, Path],
                                         cgroup: TemporaryCgroup) -> None:
    with Attached(objects["interop_getsockopt"], cgroup) as coll:
        assert coll.globals["rewritten"] == 40       # .data's initial contents
        assert coll.globals["rewrite_to"] == 1

        def child() -> tuple[int, bytes, bytes, int]:
            s = udp()
            s.setsockopt(SOL_IP, IP_FREEBIND, 0)          # the kernel's value is 0
            return (s.getsockopt(SOL_IP, IP_FREEBIND),
                    # A 1-byte buffer fails the program's bounds check: the
                    # kernel's own 1-byte answer comes through.
                    s.getsockopt(SOL_IP, IP_FREEBIND, 1),
                    # A bigger buffer: the program keeps the kernel's optlen (4).
                    s.getsockopt(SOL_IP, IP_FREEBIND, 16),
                    s.getsockopt(SOL_IP, IP_TOS))
        assert run_in_cgroup(cgroup.path, child) == (1, b"\x00", (1).to_bytes(4, "little"), 0)
        assert coll.globals["rewritten"] == 42

        # .data is writable after loading, and the program reads the new value.
        coll.globals["rewrite_to"] = 7
        assert coll.globals["rewrite_to"] == 7
        assert run_in_cgroup(cgroup.path, lambda: udp().getsockopt(SOL_IP, IP_FREEBIND)) == 7
        assert coll.globals["rewritten"] == 43

    # Detached: the kernel's value again.
    assert run_in_cgroup(cgroup.path, lambda: udp().getsockopt(SOL_IP, IP_FREEBIND)) == 0


# ----------------------------------------------- (3) cgroup/sock_create


@pytest.mark.kernel
def test_sock_create_refuses_datagram_sockets(objects: dict[str, Path],
                                              cgroup: TemporaryCgroup) -> None:
    with Attached(objects["interop_sock_create"], cgroup) as coll:
        def child() -> tuple[int, int, int, int]:
            return (errno_of(socket.socket, socket.AF_INET, socket.SOCK_DGRAM),
                    errno_of(socket.socket, socket.AF_INET, socket.SOCK_STREAM),
                    errno_of(socket.socket, socket.AF_INET, socket.SOCK_DGRAM),
                    # The hook runs for inet sockets only.
                    errno_of(socket.socket, socket.AF_UNIX, socket.SOCK_DGRAM))
        assert run_in_cgroup(cgroup.path, child) == (errno.EPERM, 0, errno.EPERM, 0)

        by_type = coll.maps["by_type"]
        assert len(by_type) == 8
        dgram, stream = by_type[socket.SOCK_DGRAM], by_type[socket.SOCK_STREAM]
        assert (dgram.allowed, dgram.refused) == (0, 2)
        assert (stream.allowed, stream.refused) == (1, 0)
        assert [k for k, v in by_type.items() if v != {"allowed": 0, "refused": 0}] == \
            [socket.SOCK_STREAM, socket.SOCK_DGRAM]

    # Detached: datagram sockets again.
    assert run_in_cgroup(cgroup.path, lambda: errno_of(
        socket.socket, socket.AF_INET, socket.SOCK_DGRAM)) == 0


# ---------------------------------------------------- (4) cgroup/sysctl


IP_FORWARD = "/proc/sys/net/ipv4/ip_forward"
DEFAULT_TTL = "/proc/sys/net/ipv4/ip_default_ttl"


@pytest.mark.kernel
def test_sysctl_refuses_reads_of_ip_forward_by_name(objects: dict[str, Path],
                                                    cgroup: TemporaryCgroup) -> None:
    with Attached(objects["interop_sysctl"], cgroup) as coll:
        assert coll.globals["forbidden"] == b"net/ipv4/ip_forward".ljust(32, b"\0")

        def child() -> tuple[int, int, int]:
            unshare_network()             # the write below stays in this namespace
            return (errno_of(read_once, IP_FORWARD),
                    errno_of(read_once, DEFAULT_TTL),
                    errno_of(write_once, IP_FORWARD, b"0\n"))
        assert run_in_cgroup(cgroup.path, child) == (errno.EPERM, 0, 0)
        assert (coll.globals["reads_refused"], coll.globals["reads_allowed"],
                coll.globals["writes_seen"]) == (1, 1, 1)


@pytest.mark.kernel
def test_sysctl_forbidden_name_set_on_the_spec(objects: dict[str, Path],
                                               cgroup: TemporaryCgroup) -> None:
    spec = read_object(objects["interop_sysctl"])
    spec.set_global("forbidden", b"net/ipv4/ip_default_ttl".ljust(32, b"\0"))
    with Attached(spec, cgroup) as coll:
        def child() -> tuple[int, int]:
            return errno_of(read_once, IP_FORWARD), errno_of(read_once, DEFAULT_TTL)
        assert run_in_cgroup(cgroup.path, child) == (0, errno.EPERM)
        assert (coll.globals["reads_refused"], coll.globals["reads_allowed"]) == (1, 1)


# ------------------------------------------------- (5) a socket filter


@pytest.mark.kernel
def test_socket_filter_counts_loopback_packets_and_bytes(objects: dict[str, Path]) -> None:
    require_root("loading a socket filter")
    with load(objects["interop_socket_filter"]) as coll:
        traffic = coll.maps["traffic"]
        assert dict(traffic.items()) == {0: 0, 1: 0}
        payloads = [b"a" * 10, b"b" * 300, b"c" * 1400]
        with udp() as rx, udp() as tx:
            rx.bind(("127.0.0.1", 0))
            with coll["count_traffic"].attach(rx):
                for payload in payloads:
                    tx.sendto(payload, rx.getsockname())
                received = [rx.recv(2000) for _ in payloads]
            # Detached: later packets are not counted.
            tx.sendto(b"late", rx.getsockname())
            assert rx.recv(100) == b"late"
        assert received == payloads          # the filter keeps each packet whole
        # On a UDP socket the filter sees the UDP header and the payload.
        assert dict(traffic.items()) == {0: len(payloads),
                                         1: sum(len(p) + UDP_HEADER for p in payloads)}


@pytest.mark.kernel
def test_socket_filter_test_run(objects: dict[str, Path]) -> None:
    require_root("loading a socket filter")
    with load(objects["interop_socket_filter"]) as coll:
        frame = bytes(14) + b"p" * 50           # test runs start at an Ethernet header
        result = coll["count_traffic"].test_run(frame, repeat=3)
        assert result.retval == 50              # skb->len: the header is pulled
        assert [coll.maps["traffic"][0], coll.maps["traffic"][1]] == [3, 150]


# -------------------------------------------------------- with libbpf


@pytest.mark.kernel
@pytest.mark.parametrize("stem", INTEROP)
def test_bpftool_loads_the_same_object_into_the_same_programs(
        stem: str, objects: dict[str, Path], bpffs: Path) -> None:
    """libbpf (through bpftool) loads every object too, and the kernel's
    tag of each program — a hash of its instructions with map references
    blanked — is the one it gives the runtime's: both loaders hand the
    kernel the same code."""
    pin_dir = bpffs / stem
    result = bpftool_loadall(objects[stem], pin_dir)
    assert result.returncode == 0, result.stderr
    with load(objects[stem]) as coll:
        assert sorted(p.name for p in pin_dir.iterdir()) == sorted(coll.programs)
        for name, program in coll.programs.items():
            shown = subprocess.run([find_bpftool(), "-j", "prog", "show", "pinned",
                                    str(pin_dir / name)],
                                   capture_output=True, text=True, check=True)
            theirs = json.loads(shown.stdout)
            ours = program.info()
            assert (ours.name, ours.tag, ours.xlated_prog_len) == \
                (theirs["name"], theirs["tag"], theirs["bytes_xlated"])
