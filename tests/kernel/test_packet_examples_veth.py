"""The packet examples written in Python, attached to a veth pair across
two private network namespaces (tests/netns.py) and to a temporary cgroup,
acting on real traffic a child sends: what arrives, what was dropped and
what was rewritten, with checksums the receiving stack verifies."""
from __future__ import annotations

import contextlib
import errno
import socket
from typing import Iterator

import pytest

from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.cgroup import TemporaryCgroup
from pybpfc.runtime.collection import Collection, load
from pybpfc.runtime import packet_build as pb
from pybpfc.runtime.elf import read_object
from tests.netns import (VethPair, entered, ip, receive_udp, received, send_raw_ipv4, send_udp,
                         udp_receiver, veth_pair)
from tests.support import REPO_ROOT, run_in_cgroup, unshare_network

pytestmark = pytest.mark.kernel


@pytest.fixture
def veth() -> Iterator[VethPair]:
    with veth_pair() as pair:
        yield pair


def example(name: str, **globals_: int) -> Collection:
    path = REPO_ROOT / "examples" / f"{name}.py"
    spec = read_object(compile_source(Source(str(path), path.read_text())).elf)
    for global_name, value in globals_.items():
        spec.set_global(global_name, value)
    return load(spec)


def arriving(veth: VethPair, port: int, payloads: list[bytes]) -> list[bytes]:
    """What arrives here of the datagrams a child sends from the peer side."""
    with udp_receiver(veth.address, port) as rx:
        veth.in_peer(send_udp, veth.address, port, payloads)
        return received(rx, 0.3)


def test_xdp_drop_udp_port_on_a_device(veth: VethPair) -> None:
    with example("xdp_drop_udp_port", port=5353) as coll:
        with coll.programs["drop_udp_port"].attach(veth.dev, mode="generic"):
            assert arriving(veth, 5353, [b"query"]) == []
            assert arriving(veth, 5354, [b"other"]) == [b"other"]
        assert arriving(veth, 5353, [b"late"]) == [b"late"]


def test_xdp_block_list_updated_while_attached(veth: VethPair) -> None:
    peer_net = veth.peer_address.rsplit(".", 1)[0] + ".0"
    key = {"prefixlen": 24, "addr": int.from_bytes(socket.inet_aton(peer_net), "little")}
    with example("xdp_block_prefixes") as coll:
        blocked = coll.maps["blocked"]
        with coll.programs["block_prefixes"].attach(veth.dev, mode="generic"):
            assert arriving(veth, 6000, [b"before"]) == [b"before"]
            blocked[key] = 0
            assert arriving(veth, 6000, [b"one", b"two"]) == []
            assert blocked[key] == 2
            del blocked[key]
            assert arriving(veth, 6000, [b"after"]) == [b"after"]


def test_xdp_count_protocols_on_a_device(veth: VethPair) -> None:
    with example("xdp_count_protocols") as coll:
        with coll.programs["count_protocols"].attach(veth.dev, mode="generic"):
            assert arriving(veth, 6001, [b"x" * 10, b"y" * 20]) == [b"x" * 10, b"y" * 20]
        udp = coll.maps["by_protocol"][socket.IPPROTO_UDP]
        assert sum(v["packets"] for v in udp) == 2
        # Ethernet 14 + IPv4 20 + UDP 8 + payload, as the IP header says.
        assert sum(v["bytes"] for v in udp) == 2 * 42 + 30


def test_tc_set_dscp_arrives_marked_with_a_valid_checksum(veth: VethPair) -> None:
    with example("tc_set_dscp", dscp=26) as coll:
        with coll.programs["set_dscp"].attach(veth.dev, direction="egress"):
            receiver = veth.start_in_peer(receive_udp, veth.peer_address, 6002)
            send_udp(veth.peer_address, 6002, [b"marked"])
            # The peer's stack dropped nothing: the IP checksum holds.
            assert receiver.result() == [(b"marked", 26 << 2)]


def loopback_and_elsewhere() -> list[object]:
    """In the child, in a namespace of its own: the errno of a UDP send to
    loopback, then to 10.9.0.1 (an address of its own outside 127/8), 0
    when it went; then what the loopback receiver got."""
    unshare_network()
    ip("link", "set", "lo", "up")
    ip("addr", "add", "10.9.0.1/24", "dev", "lo")
    outcome: list[object] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        rx.bind(("0.0.0.0", 9))
        for address in ("127.0.0.1", "10.9.0.1"):
            try:
                tx.sendto(address.encode(), (address, 9))
                outcome.append(0)
            except OSError as error:
                outcome.append(error.errno)
        outcome.append(received(rx, 0.3))
    return outcome


def test_cgroup_skb_reaches_loopback_only(cgroup: TemporaryCgroup) -> None:
    with example("cgroup_skb_loopback_only") as coll:
        with coll.programs["loopback_only"].attach(cgroup.path), \
                coll.programs["count_received"].attach(cgroup.path):
            assert run_in_cgroup(cgroup.path, loopback_and_elsewhere) == [
                0, errno.EPERM, [b"127.0.0.1"]]
        assert (coll.globals["refused"], coll.globals["received"]) == (1, 1)
        assert run_in_cgroup(cgroup.path, loopback_and_elsewhere) == [
            0, 0, [b"127.0.0.1", b"10.9.0.1"]]


# ------------------------------------------------- the XDP load balancer

VIP, CLIENT, LB_PORT = "10.0.0.100", "192.0.2.7", 8080
BACKENDS = ("10.213.0.3", "10.213.0.4")      # both on the peer's end, after the pair's own

PASS_ALL = """\
from pybpfc import XDP_PASS, XdpContext, xdp


@xdp
def pass_all(ctx: XdpContext) -> int:
    return XDP_PASS
"""


def to_the_vip(sport: int, payload: bytes, with_checksum: bool = True) -> bytes:
    """An IPv4 UDP datagram from the client to the virtual address."""
    datagram = pb.udp(payload, sport, LB_PORT, CLIENT, VIP, with_checksum=with_checksum)
    return pb.ipv4(datagram, pb.IPPROTO_UDP, CLIENT, VIP)


def through_the_balancer(packets: list[bytes]) -> list[tuple[str, str, int, bytes]]:
    """In the peer namespace: receivers on each backend's address, the
    packets sent raw toward the balancer; what each backend's stack
    delivered: (backend, source address, source port, payload)."""
    with contextlib.ExitStack() as stack:
        receivers = {b: stack.enter_context(udp_receiver(b, LB_PORT)) for b in BACKENDS}
        send_raw_ipv4(packets)
        got = []
        for backend, rx in receivers.items():
            rx.settimeout(0.3)
            while True:
                try:
                    payload, (source, sport) = rx.recvfrom(65536)
                except socket.timeout:
                    break
                got.append((backend, source, sport, payload))
    return sorted(got)


def broken_checksum(packet: bytes) -> bytes:
    """``packet`` with its UDP checksum off by one."""
    at = 20 + 6
    wrong = (int.from_bytes(packet[at:at + 2], "big") ^ 1).to_bytes(2, "big")
    return packet[:at] + wrong + packet[at + 2:]


@pytest.mark.parametrize("mode", ["generic", "native"])
def test_xdp_load_balancer_sends_datagrams_back_to_the_backends(veth: VethPair,
                                                                 mode: str) -> None:
    """The peer sends to the virtual address through the balancer's end;
    XDP_TX returns each datagram to the peer, whose stack delivers it to
    the backend the source port chose, from the client's own address: the
    destination was rewritten and both checksums still hold (a datagram
    whose UDP checksum was wrong before is dropped by that stack)."""
    for backend in BACKENDS:
        ip("addr", "add", f"{backend}/32", "dev", veth.peer_dev, netns_fd=veth.peer_fd)
    for destination in (f"{VIP}/32", "192.0.2.0/24"):    # the client's replies go back too
        ip("route", "add", destination, "via", veth.address, netns_fd=veth.peer_fd)
    with example("xdp_load_balancer", vport=LB_PORT,
                 backend_count=2) as coll, contextlib.ExitStack() as attached:
        for i, backend in enumerate(BACKENDS):
            coll.maps["backends"][i] = int.from_bytes(socket.inet_aton(backend), "little")
        attached.enter_context(coll.programs["balance"].attach(veth.dev, mode=mode))
        if mode == "native":
            # A veth drops what XDP_TX sends unless its peer runs XDP too.
            peer_side = attached.enter_context(load(read_object(
                compile_source(Source("pass_all.py", PASS_ALL)).elf)))
            with entered(veth.peer_fd):
                attached.enter_context(peer_side.programs["pass_all"].attach(
                    veth.peer_dev, mode="native"))
        packets = [to_the_vip(40000, b"even"), to_the_vip(40001, b"odd"),
                   to_the_vip(40002, b"no checksum", with_checksum=False),
                   broken_checksum(to_the_vip(40004, b"corrupt"))]
        assert veth.in_peer(through_the_balancer, packets) == [
            (BACKENDS[0], CLIENT, 40000, b"even"),
            (BACKENDS[0], CLIENT, 40002, b"no checksum"),
            (BACKENDS[1], CLIENT, 40001, b"odd")]
    # Detached: the virtual address is nobody's, nothing arrives.
    assert veth.in_peer(through_the_balancer, packets[:2]) == []


# ------------------------------------------- redirect through a DevMap

SECOND_DEV, SECOND_PEER_DEV = "pyb2", "pyb3"


def captured_after_sending(device: str, address: str, port: int,
                           payloads: list[bytes]) -> list[bytes]:
    """In the peer namespace: send the datagrams to ``address``, and return
    the payloads of the UDP datagrams to ``port`` that ``device`` received
    meanwhile (a packet socket sees frames for any MAC address)."""
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003)) as capture:
        capture.bind((device, 0))
        capture.settimeout(0.3)
        send_udp(address, port, payloads)
        got = []
        while True:
            try:
                frame = capture.recv(65536)
            except socket.timeout:
                return got
            if frame[12:14] == b"\x08\x00" and frame[23] == socket.IPPROTO_UDP:
                udp = frame[14 + (frame[14] & 0x0F) * 4:]
                if int.from_bytes(udp[2:4], "big") == port:
                    got.append(udp[8:])


def test_xdp_redirect_ports_sends_datagrams_out_of_the_slots_device(veth: VethPair) -> None:
    """A second veth pair joins the two namespaces; datagrams to the port
    whose DevMap slot holds its inner end leave through it (seen on its
    peer end), not reaching this side's socket; an empty slot passes."""
    ip("link", "add", SECOND_DEV, "type", "veth", "peer", "name", SECOND_PEER_DEV,
       "netns", f"/proc/self/fd/{veth.peer_fd}", pass_fds=(veth.peer_fd,))
    ip("link", "set", SECOND_DEV, "up")
    ip("link", "set", SECOND_PEER_DEV, "up", netns_fd=veth.peer_fd)
    with example("xdp_redirect_ports", base_port=7000) as coll, \
            coll.programs["redirect_ports"].attach(veth.dev, mode="generic"):
        coll.maps["ports"][1] = socket.if_nametoindex(SECOND_DEV)

        def sent(port: int, payloads: list[bytes]) -> tuple[list[bytes], list[bytes]]:
            """(what left through the second pair, what arrived here)."""
            with udp_receiver(veth.address, port) as rx:
                out = veth.in_peer(captured_after_sending, SECOND_PEER_DEV, veth.address,
                                   port, payloads)
                return out, received(rx, 0.3)
        assert sent(7001, [b"one", b"two"]) == ([b"one", b"two"], [])
        assert sent(7002, [b"empty slot"]) == ([], [b"empty slot"])
        assert sent(6999, [b"below"]) == ([], [b"below"])
        del coll.maps["ports"][1]
        assert sent(7001, [b"removed"]) == ([], [b"removed"])
