"""Packet programs attached to a veth interface in private network
namespaces (tests/netns.py), acting on real traffic a child sends from the
peer namespace: XDP through BPF links in generic and native mode, link
update, and the refusals.  Nothing touches the machine's own namespace."""
from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from pybpfc.runtime.collection import Collection, load
from pybpfc.runtime.errors import BpfError
from tests.netns import (VethPair, icmp_echo, received, send_udp, tcp_echo_server,
                         tcp_exchange, udp_receiver, veth_pair)
from tests.support import REPO_ROOT, clang_bpf

pytestmark = pytest.mark.kernel
C_DIR = REPO_ROOT / "tests" / "c"


@pytest.fixture(scope="module")
def xdp_object(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clang_bpf(C_DIR / "packet_xdp.c", tmp_path_factory.mktemp("xdp") / "packet_xdp.o")


@pytest.fixture
def veth() -> Iterator[VethPair]:
    with veth_pair() as pair:
        yield pair


@pytest.fixture
def xdp(xdp_object: Path) -> Iterator[Collection]:
    with load(xdp_object) as coll:
        yield coll


def xdp_state(dev: str) -> Any:
    """What iproute2 reports of the interface's XDP attachment."""
    shown = subprocess.run(["ip", "-j", "-d", "link", "show", dev], capture_output=True,
                           text=True, check=True)
    return json.loads(shown.stdout)[0].get("xdp")


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
