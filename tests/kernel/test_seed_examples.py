"""The seed documents' programs, written in Python (examples/), behaving in
the kernel as the documents say: a child process in a temporary cgroup
makes the syscalls and the tests assert the exact results, errnos and
counters."""
from __future__ import annotations

import ctypes
import errno
import os
import socket
import struct
from pathlib import Path

from benchmarks.scenarios import probe_udp_one_at_a_time
from tests.support import (REPO_ROOT, Attached, errno_of, find_bpftool, pybpfc_cli, run_in_cgroup,
                    unshare_network)
from pybpfc.abi.kernel import ETH_P_ALL
from pybpfc.abi.system import IFF_UP, SIOCGIFFLAGS, SIOCSIFFLAGS, SO_BINDTOIFINDEX
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.cgroup import TemporaryCgroup
from pybpfc.runtime.collection import Collection, load
from pybpfc.runtime.elf import read_object
from pybpfc.runtime.pinning import pin_all

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
SOL_IP, IP_TOS, IP_FREEBIND = 0, 1, 15


def example(name: str) -> bytes:
    path = REPO_ROOT / "examples" / f"{name}.py"
    return compile_source(Source(str(path), path.read_text())).elf


def bpftool_json(*args: str) -> list:
    import json
    import subprocess
    result = subprocess.run([find_bpftool(), "-j", *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# ----------------------------------------------------------------- sockopt


def large_getsockopt(s: socket.socket, level: int, name: int, size: int) -> bytes:
    """getsockopt(2) with a buffer larger than Python's socket module allows."""
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(size)
    length = ctypes.c_uint32(size)
    if libc.getsockopt(s.fileno(), level, name, buf, ctypes.byref(length)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return buf.raw[:length.value]


SOL_PYBPFC, NOTE = 0x7079, 1


def unknown_level_errors() -> tuple[int, int]:
    """What the kernel itself answers for SOL_PYBPFC (set, get)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return (errno_of(s.setsockopt, SOL_PYBPFC, NOTE, b"\x2a"),
            errno_of(s.getsockopt, SOL_PYBPFC, NOTE, 1))


def test_sockopt_custom_option_is_stored_in_socket_storage(cgroup: TemporaryCgroup) -> None:
    kernel_set, kernel_get = run_in_cgroup(cgroup.path, unknown_level_errors)
    assert kernel_set != 0 and kernel_get != 0
    with Attached(example("sockopt_custom"), cgroup) as coll:
        def child() -> tuple[int, int, bytes]:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(SOL_PYBPFC, NOTE, b"\x2a")
            s.setsockopt(SOL_PYBPFC, NOTE, b"\x07")
            wrong_size = errno_of(s.setsockopt, SOL_PYBPFC, NOTE, b"\x01\x02")
            # A socket with no note: the kernel's own error stands.
            none = errno_of(other.getsockopt, SOL_PYBPFC, NOTE, 1)
            return wrong_size, none, s.getsockopt(SOL_PYBPFC, NOTE, 1)
        assert run_in_cgroup(cgroup.path, child) == (errno.EPERM, kernel_get, b"\x07")
        # Both valid writes were consumed by the program, never by the kernel.
        assert coll.globals["consumed"] == 2
    # Detached, the level is unknown again.
    assert run_in_cgroup(cgroup.path, unknown_level_errors) == (kernel_set, kernel_get)


def test_sockopt_freebind_is_overridden_both_ways(cgroup: TemporaryCgroup) -> None:
    with Attached(example("sockopt_custom"), cgroup):
        def child() -> int:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(SOL_IP, IP_FREEBIND, 0)      # the program makes it 1
            return s.getsockopt(SOL_IP, IP_FREEBIND)  # 1, reported with bit 4 set
        assert run_in_cgroup(cgroup.path, child) == 0x11


def test_sockopt_values_larger_than_a_page_pass_through(cgroup: TemporaryCgroup) -> None:
    with Attached(example("sockopt_custom"), cgroup):
        def child() -> tuple[int, int, bytes]:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            big = struct.pack("i", 0x28) + bytes(PAGE_SIZE)     # more than a page
            s.setsockopt(SOL_IP, IP_TOS, big)
            answer = large_getsockopt(s, SOL_IP, IP_TOS, PAGE_SIZE + 8)
            return s.getsockopt(SOL_IP, IP_TOS), len(answer), answer[:4]
        tos, length, first = run_in_cgroup(cgroup.path, child)
        assert (tos, length, first) == (0x28, 4, struct.pack("i", 0x28))


def test_sockopt_other_options_are_untouched(cgroup: TemporaryCgroup) -> None:
    with Attached(example("sockopt_custom"), cgroup):
        def child() -> tuple[int, int]:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(SOL_IP, IP_TOS, 0x10)
            return (s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR),
                    s.getsockopt(SOL_IP, IP_TOS))
        assert run_in_cgroup(cgroup.path, child) == (1, 0x10)


# ------------------------------------------------------------------ sysctl

TCP_RMEM = "/proc/sys/net/ipv4/tcp_rmem"


def write_sysctl(path: str, value: str) -> int:
    """Write a sysctl with exactly one write(2); 0 or the errno."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, value.encode())
        return 0
    except OSError as err:
        return err.errno
    finally:
        os.close(fd)


def test_sysctl_refuses_writes_that_are_not_ascending(cgroup: TemporaryCgroup) -> None:
    with Attached(example("sysctl_ascending"), cgroup) as coll:
        def child() -> tuple[str, int, int, int, str, int]:
            unshare_network()        # tcp_rmem is per network namespace: a private one
            with open(TCP_RMEM) as f:
                before = f.read()
            ok = write_sysctl(TCP_RMEM, "4096 131072 6291456")
            descending = write_sysctl(TCP_RMEM, "4096 1000 6291456")
            too_few = write_sysctl(TCP_RMEM, "4096 131072")
            with open(TCP_RMEM) as f:
                after = f.read()
            other = write_sysctl("/proc/sys/net/ipv4/tcp_wmem", "4096 1000 6291456")
            return before, ok, descending, too_few, after, other
        before, ok, descending, too_few, after, other = run_in_cgroup(cgroup.path, child)
        assert (ok, descending, too_few, other) == (0, errno.EPERM, errno.EPERM, 0)
        assert after.split() == ["4096", "131072", "6291456"]
        assert (coll.globals["checked"], coll.globals["refused"]) == (3, 2)
        # The accepted write replaced the namespace's default value.
        assert coll.globals["replaced_max"] == int(before.split()[2])


# -------------------------------------------------------------------- sock


def test_sock_one_udp_socket_at_a_time(cgroup: TemporaryCgroup, bpffs: Path) -> None:
    with Attached(example("udp_one_at_a_time"), cgroup) as coll:
        # One UDP socket open, then a second IPv4 and an IPv6 one refused;
        # TCP is not limited; after the first is closed, another IPv6 one
        # takes its place, so a third IPv4 one is refused too.  The same
        # steps are the benchmark's load for this example.
        assert run_in_cgroup(cgroup.path, probe_udp_one_at_a_time) == \
            (errno.EPERM, errno.EPERM, errno.EPERM)
        assert coll.globals["in_use"] == 0
        entries = dict(coll.maps["stats"].items())
        assert list(entries) == [cgroup.id]
        stats = entries[cgroup.id]
        assert (stats.created, stats.refused, stats.released) == (2, 3, 2)
        # Pinned, the struct value shows by field in `pybpfc maps` and in bpftool.
        pin_all(bpffs / "udp", [], [(m.name, m.fd) for m in coll.maps.values()], [])
        shown = pybpfc_cli("maps", bpffs / "udp")
        assert shown.returncode == 0, shown.stderr
        assert f"  {cgroup.id}: {{created: 2, refused: 3, released: 2}}" in shown.stdout
        dump = bpftool_json("map", "dump", "pinned", str(bpffs / "udp" / "maps" / "stats"))
        assert [e["formatted"] for e in dump] == [
            {"key": cgroup.id, "value": {"created": 2, "refused": 3, "released": 2}}]


def test_sock_storage_of_a_socket_is_readable_from_python(cgroup: TemporaryCgroup) -> None:
    """The parent holds a UDP socket created in the cgroup: its storage
    says it is counted, until it is closed and the place is given back."""
    with Attached(example("udp_one_at_a_time"), cgroup) as coll:
        read_end, write_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)

        def child() -> None:
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socket.send_fds(write_end, [b"udp"], [udp.fileno()])
        run_in_cgroup(cgroup.path, child)
        _, fds, _, _ = socket.recv_fds(read_end, 16, 1)
        read_end.close()
        write_end.close()
        udp = socket.socket(fileno=fds[0])
        assert coll.maps["counted"][udp] == 1
        assert coll.globals["in_use"] == 1
        udp.close()
        assert coll.globals["in_use"] == 0


# ----------------------------------------------------------- socket filter

ETH_IP_UDP_HEADERS = 14 + 20 + 8


def loopback_traffic(coll: Collection) -> None:
    """In a private network namespace: a packet socket on lo with the
    filter, then UDP datagrams and an ICMP echo over loopback."""
    unshare_network()
    link_up("lo")
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL)) as packets:
        packets.bind(("lo", 0))
        with coll["count_protocols"].attach(packets):
            rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            rx.bind(("127.0.0.1", 9999))
            tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for size in (10, 200, 1000):
                tx.sendto(b"u" * size, ("127.0.0.1", 9999))
            for _ in range(3):
                rx.recv(2000)
            icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
            icmp.settimeout(5)
            echo = icmp_echo_request(b"p" * 56)
            icmp.sendto(echo, ("127.0.0.1", 0))
            # The raw socket sees the request it sent, then the reply.
            while icmp.recv(2000)[20] != 0:
                pass


def icmp_echo_request(payload: bytes) -> bytes:
    header = struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1)
    data = header + payload
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    checksum = ~(total + (total >> 16)) & 0xFFFF
    return header[:2] + struct.pack("!H", checksum) + header[4:] + payload


def link_up(name: str) -> None:
    """Bring an interface up with SIOCSIFFLAGS (no `ip` binary needed)."""
    import fcntl
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sh", name.encode(), 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh", name.encode(), flags | IFF_UP))


def test_socket_filter_counts_bytes_per_ip_protocol_on_loopback(
        cgroup: TemporaryCgroup, bpffs: Path) -> None:
    with load(example("count_protocols")) as coll:
        run_in_cgroup(cgroup.path, loopback_traffic, coll)
        by_protocol = coll.maps["bytes_by_protocol"]
        udp = sum(by_protocol[socket.IPPROTO_UDP])
        icmp = sum(by_protocol[socket.IPPROTO_ICMP])
        assert udp == sum(ETH_IP_UDP_HEADERS + n for n in (10, 200, 1000))
        assert icmp == 2 * (14 + 20 + 8 + 56)        # the echo request and its reply
        assert sum(by_protocol[socket.IPPROTO_TCP]) == 0
        flows = {(k.protocol, k.port): v for k, v in coll.maps["packets_by_flow"].items()}
        assert flows == {(socket.IPPROTO_UDP, 9999): 3, (socket.IPPROTO_ICMP, 0): 2}
        # `pybpfc maps` on a pin of the maps shows the struct keys by field.
        pin_all(bpffs / "count", [], [(m.name, m.fd) for m in coll.maps.values()], [])
        shown = pybpfc_cli("maps", bpffs / "count")
        assert shown.returncode == 0, shown.stderr
        assert "{protocol: 17, port: 9999}: 3" in shown.stdout
        assert "{protocol: 1, port: 0}: 2" in shown.stdout
        assert "map bytes_by_protocol (per-CPU map, 256 entries, " in shown.stdout


# ------------------------------------------------------------------ chains


def test_getsockopt_chain_child_runs_first_and_parent_sees_its_change(
        cgroup: TemporaryCgroup) -> None:
    parent_layer, child_layer = 0x1, 0x2
    elf = example("getsockopt_chain")
    with TemporaryCgroup(parent=cgroup.path) as child_cgroup:
        specs = []
        for layer in (parent_layer, child_layer):
            spec = read_object(elf)
            spec.set_global("layer", layer)
            specs.append(spec)
        with load(specs[0]) as parent_coll, load(specs[1]) as child_coll:
            links = [parent_coll["stack_layers"].attach(cgroup.path),
                     child_coll["stack_layers"].attach(child_cgroup.path)]
            try:
                def tos() -> int:
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.setsockopt(SOL_IP, IP_TOS, 0x08)
                    return s.getsockopt(SOL_IP, IP_TOS)
                # kernel 0x08 -> child: 0x82 -> parent: 0x821
                assert run_in_cgroup(child_cgroup.path, tos) == 0x821
                # In the parent only its own program runs.
                assert run_in_cgroup(cgroup.path, tos) == 0x81
                assert (parent_coll.globals["calls"], child_coll.globals["calls"]) == (2, 1)
            finally:
                for link in links:
                    link.close()


BIND_TO_LOOPBACK = """
from typing import Final
from pybpfc import ALLOW, SockContext, cgroup_sock_create, u32

LOOPBACK_INDEX: Final[u32] = 1


@cgroup_sock_create
def bind_to_loopback(ctx: SockContext) -> int:
    ctx.bound_dev_if = LOOPBACK_INDEX
    ctx.mark = ctx.protocol + 100
    ctx.priority = 3
    return ALLOW
"""


def test_sock_create_sets_bound_dev_if_mark_and_priority(cgroup: TemporaryCgroup) -> None:
    elf = compile_source(Source("bind.py", BIND_TO_LOOPBACK)).elf
    with Attached(elf, cgroup):
        def child() -> tuple[int, int, int]:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            return (s.getsockopt(socket.SOL_SOCKET, SO_BINDTOIFINDEX),
                    s.getsockopt(socket.SOL_SOCKET, socket.SO_MARK),
                    s.getsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY))
        assert run_in_cgroup(cgroup.path, child) == (socket.if_nametoindex("lo"),
                                                     socket.IPPROTO_UDP + 100, 3)
