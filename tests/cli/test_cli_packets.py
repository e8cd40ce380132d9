"""Packet programs attached to an interface of a private network namespace
(tests/netns.py) from the command line: ``pybpfc run --dev IFACE`` for the
command's duration, detached after it, also when pybpfc is stopped by a
signal; ``pybpfc load --dev IFACE --pin DIR`` until ``pybpfc detach DIR``."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.netns import VethPair, received, send_udp, udp_receiver, xdp_state
from tests.netns import veth  # noqa: F401 - the fixture
from tests.support import REPO_ROOT, clang_bpf, pybpfc_cli

pytestmark = pytest.mark.kernel
C_DIR = REPO_ROOT / "tests" / "c"

# Sent by the command pybpfc runs: it enters the peer namespace through the
# test process's fd of it, then sends one datagram to each port given.
SEND_FROM_PEER = """
import ctypes, os, socket, sys
netns = os.open(sys.argv[1], os.O_RDONLY)
assert ctypes.CDLL(None, use_errno=True).setns(netns, 0x40000000) == 0
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
    for port in sys.argv[3:]:
        tx.sendto(b"from the command", (sys.argv[2], int(port)))
"""


@pytest.fixture(scope="module")
def xdp_object(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clang_bpf(C_DIR / "packet_xdp.c", tmp_path_factory.mktemp("xdp") / "packet_xdp.o")


def test_run_dev_attaches_for_the_commands_duration(veth: VethPair, xdp_object: Path) -> None:
    peer_netns = f"/proc/{os.getpid()}/fd/{veth.peer_fd}"
    with udp_receiver(veth.address, 53) as dns, udp_receiver(veth.address, 54) as other:
        result = pybpfc_cli("run", "--dev", veth.dev, "--xdp-mode", "generic", "--program",
                            "drop_dns", xdp_object, "--", sys.executable, "-c",
                            SEND_FROM_PEER, peer_netns, veth.address, "53", "54", "53")
        assert result.returncode == 0, result.stderr
        assert "pybpfc run: attached drop_dns to pyb0 (xdp)" in result.stderr
        assert "bounce: not attached: --program names others" in result.stderr
        assert received(dns, 0.3) == [] and received(other, 0.3) == [b"from the command"]
    assert "  1: 2" in result.stderr                    # XDP_DROP counted twice
    assert xdp_state(veth.dev) is None                  # detached after the command


def test_run_dev_detaches_when_pybpfc_is_terminated(veth: VethPair, xdp_object: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    run = subprocess.Popen([sys.executable, "-m", "pybpfc", "run", "--dev", veth.dev,
                            "--program", "pass_all", str(xdp_object), "--", "sleep", "30"],
                           env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while xdp_state(veth.dev) is None:
            assert run.poll() is None and time.monotonic() < deadline, run.stderr
            time.sleep(0.05)
        assert xdp_state(veth.dev)["prog"]["name"] == "pass_all"
        run.send_signal(signal.SIGTERM)
        status = run.wait(20)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert status == 128 + signal.SIGTERM
    assert xdp_state(veth.dev) is None


def test_run_dev_refusals(veth: VethPair, xdp_object: Path) -> None:
    result = pybpfc_cli("run", "--xdp-mode", "native", xdp_object, "--", "true")
    assert (result.returncode, result.stderr) == \
        (1, "pybpfc run: error: --xdp-mode goes with --dev IFACE\n")
    result = pybpfc_cli("run", "--dev", "nope0", "--program", "pass_all", xdp_object, "--",
                        "true")
    assert result.returncode == 1
    assert "no network interface 'nope0' in this network namespace (it has: lo, pyb0)" in \
        result.stderr
    result = pybpfc_cli("run", "--dev", veth.dev, xdp_object, "--", "true")
    assert result.returncode == 1
    assert "pyb0 takes one XDP program and the object has 4 (drop_dns, bounce, cut_to_60, " \
        "pass_all): choose one with --program NAME" in result.stderr
    result = pybpfc_cli("run", "--dev", veth.dev, "--program", "nope", xdp_object, "--", "true")
    assert "--program nope: no such program in the object" in result.stderr
    assert xdp_state(veth.dev) is None


def test_load_dev_pins_the_link_until_detach(veth: VethPair, xdp_object: Path,
                                             bpffs: Path) -> None:
    result = pybpfc_cli("load", "--dev", veth.dev, "--xdp-mode", "generic", "--program",
                        "drop_dns", "--pin", bpffs / "fw", xdp_object)
    assert result.returncode == 0, result.stderr
    assert "drop_dns: xdp, id " in result.stdout and "attached to pyb0" in result.stdout
    # pybpfc has exited; the pinned link keeps the program on the interface.
    assert xdp_state(veth.dev)["prog"]["name"] == "drop_dns"
    with udp_receiver(veth.address, 53) as dns:
        veth.in_peer(send_udp, veth.address, 53, [b"dropped"])
        assert received(dns, 0.3) == []
    result = pybpfc_cli("detach", bpffs / "fw")
    assert result.returncode == 0, result.stderr
    assert "removed links/drop_dns" in result.stdout
    deadline = time.monotonic() + 5            # the kernel frees the link after RCU
    while xdp_state(veth.dev) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert xdp_state(veth.dev) is None
    result = pybpfc_cli("load", "--dev", veth.dev, "--program", "drop_dns", xdp_object)
    assert (result.returncode, "give --pin DIR" in result.stderr) == (1, True)
    result = pybpfc_cli("load", "--dev", veth.dev, "--tc-via", "netlink", "--pin",
                        bpffs / "tc", xdp_object)
    assert result.returncode == 1 and "cannot be pinned" in result.stderr
