"""Packet programs attached to a veth interface in private network
namespaces (tests/netns.py), acting on real traffic a child sends from the
peer namespace (or that arrives there): XDP through BPF links in generic
and native mode and link update; tc through tcx links and through
netlink's cls_bpf; and the refusals.  Nothing touches the machine's own namespace."""
from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from pybpfc.runtime.collection import Collection, load
from pybpfc.runtime.errors import BpfError
from tests.netns import (VethPair, icmp_echo, receive_udp, received, send_udp,
                         tcp_echo_server, tcp_exchange, udp_receiver, veth_pair, xdp_state)
from tests.netns import veth  # noqa: F401 - the fixture
from tests.support import REPO_ROOT, clang_bpf

pytestmark = pytest.mark.kernel
C_DIR = REPO_ROOT / "tests" / "c"


@pytest.fixture(scope="module")
def xdp_object(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clang_bpf(C_DIR / "packet_xdp.c", tmp_path_factory.mktemp("xdp") / "packet_xdp.o")


@pytest.fixture
def xdp(xdp_object: Path) -> Iterator[Collection]:
    with load(xdp_object) as coll:
        yield coll


def udp_outcome(veth: VethPair, port: int, payloads: list[bytes]) -> list[bytes]:
    """What arrives here of the datagrams a child sends from the peer side."""
    with udp_receiver(veth.address, port) as rx:
        veth.in_peer(send_udp, veth.address, port, payloads)
        return received(rx, 0.3)


# ------------------------------------------------------------- the harness


def test_the_harness_leaves_the_namespace_it_entered() -> None:
    before = os.readlink("/proc/self/ns/net")
    with pytest.raises(RuntimeError, match="inside"):
        with veth_pair() as pair:
            assert os.readlink("/proc/self/ns/net") != before
            assert pair.in_peer(icmp_echo, pair.address) and icmp_echo(pair.peer_address)
            raise RuntimeError("a failure inside")
    assert os.readlink("/proc/self/ns/net") == before
    with pytest.raises(OSError):           # its interfaces never were here
        socket.if_nametoindex("pyb0")


def test_traffic_flows_between_the_namespaces(veth: VethPair) -> None:
    assert udp_outcome(veth, 5000, [b"one", b"two"]) == [b"one", b"two"]
    with tcp_echo_server(veth.address, 6000):
        assert veth.in_peer(tcp_exchange, veth.address, 6000, b"x" * 5000) == b"x" * 5000


# ------------------------------------------------------------------- XDP


@pytest.mark.parametrize("mode, reported", [("generic", 2), ("native", 1)])
def test_xdp_drops_dns_and_passes_the_rest(veth: VethPair, xdp: Collection, mode: str,
                                           reported: int) -> None:
    with xdp["drop_dns"].attach(veth.dev, mode=mode) as link:
        assert xdp_state(veth.dev)["mode"] == reported
        assert xdp_state(veth.dev)["prog"]["id"] == xdp["drop_dns"].info().id
        assert link.info().type == 6                     # BPF_LINK_TYPE_XDP
        assert udp_outcome(veth, 53, [b"query", b"again"]) == []
        assert udp_outcome(veth, 54, [b"other"]) == [b"other"]
        assert veth.in_peer(icmp_echo, veth.address)
        with tcp_echo_server(veth.address, 53):         # TCP to port 53 passes
            assert veth.in_peer(tcp_exchange, veth.address, 53, b"tcp") == b"tcp"
    assert xdp_state(veth.dev) is None                   # closing the link detached it
    assert udp_outcome(veth, 53, [b"late"]) == [b"late"]
    assert xdp.maps["verdicts"][1] == 2                  # XDP_DROP: the two queries


def test_xdp_link_update_swaps_the_program(veth: VethPair, xdp: Collection) -> None:
    with xdp["drop_dns"].attach(veth.ifindex, mode="generic") as link:
        assert udp_outcome(veth, 53, [b"dropped"]) == []
        link.update(xdp["pass_all"].fd, "pass_all")
        assert xdp_state(veth.dev)["prog"]["name"] == "pass_all"
        assert udp_outcome(veth, 53, [b"passed"]) == [b"passed"]
        assert link.program_name == "pass_all"


def test_xdp_refusals_name_the_interface(veth: VethPair, xdp: Collection) -> None:
    with pytest.raises(BpfError, match=r"no network interface 'nope0' in this network "
                                       r"namespace \(it has: lo, pyb0\)"):
        xdp["pass_all"].attach("nope0")
    with pytest.raises(BpfError, match="XDP mode 'fast' is not one of generic, native"):
        xdp["pass_all"].attach(veth.dev, mode="fast")
    with pytest.raises(BpfError, match="takes the options mode, not direction"):
        xdp["pass_all"].attach(veth.dev, direction="ingress")
    with xdp["drop_dns"].attach(veth.dev, mode="generic"):
        with pytest.raises(BpfError, match="pyb0 already has an XDP program attached"):
            xdp["pass_all"].attach(veth.dev, mode="generic")


# -------------------------------------------------------------------- tc


@pytest.fixture(scope="module")
def tc_object(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clang_bpf(C_DIR / "packet_tc.c", tmp_path_factory.mktemp("tc") / "packet_tc.o")


@pytest.fixture
def tc(tc_object: Path) -> Iterator[Collection]:
    with load(tc_object) as coll:
        yield coll


def tc_show(*args: str) -> str:
    return subprocess.run(["tc", *args], capture_output=True, text=True, check=True).stdout


def tos_received_here(veth: VethPair, port: int) -> list[tuple[bytes, int]]:
    """The datagrams (with their TOS) a child's UDP to this side delivers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
        rx.bind((veth.address, port))
        veth.in_peer(send_udp, veth.address, port, [b"in"])
        rx.settimeout(0.5)
        try:
            data, ancillary, _, _ = rx.recvmsg(100, socket.CMSG_SPACE(1))
        except socket.timeout:
            return []
        return [(data, ancillary[0][2][0])]


@pytest.mark.parametrize("via", ["tcx", "netlink"])
def test_tc_sets_dscp_both_ways_with_the_checksum_fixed(veth: VethPair, tc: Collection,
                                                        via: str) -> None:
    dscp_46 = 46 << 2
    with tc["set_dscp"].attach(veth.dev, direction="egress", via=via) as egress:
        receiver = veth.start_in_peer(receive_udp, veth.peer_address, 7000, 0.5)
        send_udp(veth.peer_address, 7000, [b"x", b"y"])
        # The peer's stack checks the IPv4 checksum the program fixed.
        assert receiver.result() == [(b"x", dscp_46), (b"y", dscp_46)]
        if via == "tcx":
            assert egress.info().type == 11                  # BPF_LINK_TYPE_TCX
            assert "clsact" not in tc_show("qdisc", "show", "dev", veth.dev)
        else:
            assert "set_dscp direct-action" in tc_show("filter", "show", "dev", veth.dev,
                                                       "egress")
    with tc["set_dscp"].attach(veth.dev, direction="ingress", via=via):
        assert tos_received_here(veth, 7001) == [(b"in", dscp_46)]
    # Detached: nothing left, no qdisc made for the netlink path either.
    assert "clsact" not in tc_show("qdisc", "show", "dev", veth.dev)
    assert tos_received_here(veth, 7002) == [(b"in", 0)]


@pytest.mark.parametrize("via", ["tcx", "netlink"])
def test_tc_drops_and_a_broken_checksum_is_dropped_by_the_stack(
        veth: VethPair, tc: Collection, via: str) -> None:
    with tc["drop_dns_tc"].attach(veth.dev, direction="ingress", via=via):
        assert udp_outcome(veth, 53, [b"query"]) == []
        assert udp_outcome(veth, 54, [b"other"]) == [b"other"]
    with tc["set_dscp_badsum"].attach(veth.dev, via=via):      # tcx/ingress: its section's
        assert tos_received_here(veth, 7003) == []
    assert udp_outcome(veth, 53, [b"late"]) == [b"late"]


def test_netlink_keeps_a_clsact_qdisc_it_did_not_make(veth: VethPair, tc: Collection) -> None:
    subprocess.run(["tc", "qdisc", "add", "dev", veth.dev, "clsact"], check=True)
    with tc["drop_dns_tc"].attach(veth.dev, direction="ingress", via="netlink") as first, \
            tc["set_dscp"].attach(veth.dev, direction="ingress", via="netlink") as second:
        assert first.priority != second.priority
        assert udp_outcome(veth, 53, [b"query"]) == []
    assert "clsact" in tc_show("qdisc", "show", "dev", veth.dev)
    assert "bpf" not in tc_show("filter", "show", "dev", veth.dev, "ingress")


def test_tc_refusals(veth: VethPair, tc: Collection) -> None:
    with pytest.raises(BpfError, match="a 'tc' program attaches on ingress or egress: give "
                                       "direction="):
        tc["set_dscp"].attach(veth.dev)
    with pytest.raises(BpfError, match="its section attaches it on ingress, not egress"):
        tc["set_dscp_badsum"].attach(veth.dev, direction="egress")
    with pytest.raises(BpfError, match="attach via 'tcx' or 'netlink', not 'ioctl'"):
        tc["set_dscp"].attach(veth.dev, direction="ingress", via="ioctl")
    with pytest.raises(BpfError, match="no network interface 'nope0'"):
        tc["set_dscp"].attach("nope0", direction="ingress", via="netlink")
