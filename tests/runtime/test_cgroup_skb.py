"""cgroup_skb programs attached to a temporary cgroup: a forked child moves
into it, enters a private network namespace, and sends UDP over loopback;
the egress program drops datagrams to the discard port (the sender gets
EPERM) and both count what they saw."""
from __future__ import annotations

import errno
import socket
from pathlib import Path

import pytest

from pybpfc.runtime.cgroup import TemporaryCgroup
from pybpfc.runtime.collection import load
from tests.netns import ip
from tests.support import REPO_ROOT, clang_bpf, run_in_cgroup, unshare_network

pytestmark = pytest.mark.kernel
IP_UDP_HEADERS = 28


def send_and_receive(payloads: list[bytes]) -> list[object]:
    """In the child: each payload sent to 127.0.0.1 port 9 and port 10 (the
    errno of sendto, 0 if it went), then what port 10 received."""
    unshare_network()
    ip("link", "set", "lo", "up")
    outcome: list[object] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        rx.bind(("127.0.0.1", 10))
        rx.settimeout(0.5)
        for payload in payloads:
            for port in (9, 10):
                try:
                    tx.sendto(payload, ("127.0.0.1", port))
                    outcome.append(0)
                except OSError as error:
                    outcome.append(error.errno)
        outcome.append([rx.recv(2000) for _ in payloads])
    return outcome


def test_cgroup_skb_counts_and_drops_a_cgroups_traffic(cgroup: TemporaryCgroup,
                                                       tmp_path: Path) -> None:
    obj = clang_bpf(REPO_ROOT / "tests" / "c" / "packet_cgroup_skb.c",
                    tmp_path / "packet_cgroup_skb.o")
    payloads = [b"a" * 10, b"b" * 100]
    with load(obj) as coll:
        assert coll["count_in"].kind.attach_type == "BPF_CGROUP_INET_INGRESS"
        with coll["count_in"].attach(cgroup.path) as ingress, \
                coll["drop_discard"].attach(cgroup.path) as egress:
            assert ingress.is_bpf_link and egress.is_bpf_link
            outcome = run_in_cgroup(cgroup.path, send_and_receive, payloads)
        # Port 9 refused on the way out, port 10 delivered.
        assert outcome == [errno.EPERM, 0, errno.EPERM, 0, payloads]
        traffic = coll.maps["traffic"]
        sent = sum(len(p) + IP_UDP_HEADERS for p in payloads)
        # Egress saw all four datagrams; ingress only the two let out.
        assert (traffic[2], traffic[3]) == (4, 2 * sent)
        assert (traffic[0], traffic[1]) == (2, sent)
        # Detached: the same child traffic is no longer seen or dropped.
        assert run_in_cgroup(cgroup.path, send_and_receive, payloads[:1]) == \
            [0, 0, payloads[:1]]
        assert traffic[2] == 4
