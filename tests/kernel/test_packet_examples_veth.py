"""The packet examples written in Python, attached to a veth pair across
two private network namespaces (tests/netns.py) and to a temporary cgroup,
acting on real traffic a child sends: what arrives, what was dropped and
what was rewritten, with checksums the receiving stack verifies."""
from __future__ import annotations

import errno
import socket
from typing import Iterator

import pytest

from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.cgroup import TemporaryCgroup
from pybpfc.runtime.collection import Collection, load
from pybpfc.runtime.elf import read_object
from tests.netns import VethPair, ip, receive_udp, received, send_udp, udp_receiver, veth_pair
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
