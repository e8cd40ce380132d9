"""Packet programs run on crafted packets without a network
(BPF_PROG_TEST_RUN): clang-built XDP, tc and cgroup_skb programs from
tests/c/packet_*.c, through ``Program.run_packet`` and ``pybpfc test-run``.
Each test asserts what the kernel returned and what it did to the packet,
the context and the maps."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from pybpfc.abi import kernel
from pybpfc.cli_errors import UserError
from pybpfc.cli_packets import parse_hex
from pybpfc.runtime.collection import load
from pybpfc.runtime.errors import BpfError
from pybpfc.runtime.packet_build import (icmp4_frame, ipv4_checksum_ok, l4_checksum_ok,
                                         tcp4_frame, udp4_frame, udp6_frame)
from pybpfc.runtime.packet_run import verdict_name
from tests.support import REPO_ROOT, clang_bpf, pybpfc_cli, require_root

C_DIR = REPO_ROOT / "tests" / "c"
PACKET_C = ("packet_xdp", "packet_tc", "packet_cgroup_skb")


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out_dir = tmp_path_factory.mktemp("packet")
    return {stem: clang_bpf(C_DIR / f"{stem}.c", out_dir / f"{stem}.o") for stem in PACKET_C}


# ------------------------------------------------------ without the kernel


def test_verdicts_are_named_by_program_type() -> None:
    assert verdict_name(kernel.BPF_PROG_TYPE_XDP, 1) == "XDP_DROP"
    assert verdict_name(kernel.BPF_PROG_TYPE_SCHED_CLS, 2) == "TC_ACT_SHOT"
    assert verdict_name(kernel.BPF_PROG_TYPE_SCHED_CLS, 0xFFFFFFFF) == "TC_ACT_UNSPEC"
    assert verdict_name(kernel.BPF_PROG_TYPE_CGROUP_SKB, 0) == "drop"
    assert verdict_name(kernel.BPF_PROG_TYPE_XDP, 99) == "99"


def test_crafted_packets_carry_right_checksums() -> None:
    for frame in (udp4_frame(b"abc"), tcp4_frame(b"data"), udp4_frame(b"x" * 101)):
        assert ipv4_checksum_ok(frame) and l4_checksum_ok(frame)
    broken = bytearray(udp4_frame(b"abc"))
    broken[-1] ^= 0xFF
    assert ipv4_checksum_ok(bytes(broken)) and not l4_checksum_ok(bytes(broken))
    assert icmp4_frame()[23] == 1 and udp6_frame()[12:14] == b"\x86\xdd"


def test_hex_packets_allow_separators_and_say_what_is_wrong() -> None:
    assert parse_hex("ff:ff 08-00", "--packet-hex") == b"\xff\xff\x08\x00"
    assert parse_hex("0x0a0b", "--packet-hex") == b"\x0a\x0b"
    with pytest.raises(UserError, match="'g' is not a hex digit"):
        parse_hex("0g", "--packet-hex")
    with pytest.raises(UserError, match="odd number"):
        parse_hex("abc", "--packet-hex")


# ------------------------------------------------------------ in the kernel


@pytest.mark.kernel
def test_xdp_verdicts_counts_and_rewrites(objects: dict[str, Path]) -> None:
    require_root("loading XDP programs")
    with load(objects["packet_xdp"]) as coll:
        dns, other = udp4_frame(dport=53), udp4_frame(dport=5353)
        run = coll["drop_dns"].run_packet(dns, repeat=100)
        assert (run.verdict, run.retval, run.repeat) == ("XDP_DROP", kernel.XDP_DROP, 100)
        assert run.packet == dns and run.duration_ns > 0
        assert coll["drop_dns"].run_packet(other).verdict == "XDP_PASS"
        assert coll["drop_dns"].run_packet(tcp4_frame(dport=53)).verdict == "XDP_PASS"
        # Every run counted, per verdict.
        counts = dict(coll.maps["verdicts"].items())
        assert (counts[kernel.XDP_DROP], counts[kernel.XDP_PASS]) == (100, 2)

        bounced = coll["bounce"].run_packet(dns)
        assert bounced.verdict == "XDP_TX"
        assert bounced.packet == dns[6:12] + dns[:6] + dns[12:]

        cut = coll["cut_to_60"].run_packet(udp4_frame(b"x" * 200))
        assert (cut.verdict, len(cut.packet)) == ("XDP_PASS", 60)


@pytest.mark.kernel
def test_tc_rewrites_the_packet_and_the_skb(objects: dict[str, Path]) -> None:
    require_root("loading tc programs")
    with load(objects["packet_tc"]) as coll:
        frame = udp4_frame(tos=0x01)
        skb = bytearray(kernel.SK_BUFF_SIZE)
        struct.pack_into("<I", skb, 8, 7)             # __sk_buff.mark in: 7
        run = coll["set_dscp"].run_packet(frame, ctx=bytes(skb))
        assert run.verdict == "TC_ACT_OK"
        assert run.packet[15] == (46 << 2) | 0x01     # DSCP set, ECN bits kept
        assert ipv4_checksum_ok(run.packet) and run.packet[16:] == frame[16:24] + \
            run.packet[24:26] + frame[26:]
        assert struct.unpack_from("<I", run.ctx, 8)[0] == 0x2A   # the mark it set
        assert len(run.ctx) == kernel.SK_BUFF_SIZE
        assert coll["drop_dns_tc"].run_packet(udp4_frame(dport=53)).verdict == "TC_ACT_SHOT"
        assert coll["drop_dns_tc"].run_packet(udp4_frame(dport=54)).verdict == "TC_ACT_OK"


@pytest.mark.kernel
def test_cgroup_skb_sees_the_packet_from_the_ip_header(objects: dict[str, Path]) -> None:
    require_root("loading cgroup_skb programs")
    with load(objects["packet_cgroup_skb"]) as coll:
        assert coll["drop_discard"].run_packet(udp4_frame(dport=9)).verdict == "drop"
        assert coll["drop_discard"].run_packet(udp4_frame(dport=10)).verdict == "pass"
        frame = udp4_frame(b"z" * 30)
        assert coll["count_in"].run_packet(frame, repeat=4).verdict == "pass"
        traffic = coll.maps["traffic"]
        assert (traffic[0], traffic[1]) == (4, 4 * (len(frame) - 14))


@pytest.mark.kernel
def test_bad_input_is_refused_naming_the_program(objects: dict[str, Path]) -> None:
    require_root("loading XDP and tc programs")
    with load(objects["packet_xdp"]) as coll:
        with pytest.raises(BpfError, match="program 'drop_dns': the packet is 10 bytes"):
            coll["drop_dns"].run_packet(bytes(10))
        with pytest.raises(BpfError, match="struct xdp_md is 24 bytes"):
            coll["drop_dns"].run_packet(udp4_frame(), ctx=bytes(100))
        with pytest.raises(BpfError, match="repeat must be from 1"):
            coll["drop_dns"].run_packet(udp4_frame(), repeat=0)
        # XDP takes a frame cut inside its IP header; an skb program does not.
        assert coll["drop_dns"].run_packet(udp4_frame()[:20]).verdict == "XDP_PASS"
    with load(objects["packet_tc"]) as coll:
        with pytest.raises(BpfError, match="program 'set_dscp': the packet is 20 bytes and its "
                                           "EtherType says IPv4; a test run of this program "
                                           "needs the whole IPv4 header, 34 bytes"):
            coll["set_dscp"].run_packet(udp4_frame()[:20])
        with pytest.raises(BpfError, match="IPv6 header, 54 bytes"):
            coll["set_dscp"].run_packet(udp6_frame()[:53])
        assert coll["set_dscp"].run_packet(udp6_frame()[:54]).verdict == "TC_ACT_OK"


@pytest.mark.kernel
def test_cli_test_run(objects: dict[str, Path], tmp_path: Path) -> None:
    require_root("loading XDP programs")
    dns = udp4_frame(dport=53)
    result = pybpfc_cli("test-run", objects["packet_xdp"], "--program", "drop_dns",
                        "--packet-hex", dns.hex(":"), "--repeat", "10")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("drop_dns: XDP_DROP (returned 1); packet out: "
                                    f"{len(dns)} bytes, unchanged;")
    packet_file = tmp_path / "frame.bin"
    packet_file.write_bytes(dns)
    result = pybpfc_cli("test-run", objects["packet_xdp"], "--program", "bounce",
                        "--packet-file", packet_file, "--json")
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout)
    assert (run["verdict"], bytes.fromhex(run["packet_out"])[:12]) == \
        ("XDP_TX", dns[6:12] + dns[:6])
    # --packet builds the same frame from its description.
    result = pybpfc_cli("test-run", objects["packet_xdp"], "--program", "bounce",
                        "--packet", "udp4(dport=53)", "--json")
    assert result.returncode == 0, result.stderr
    assert bytes.fromhex(json.loads(result.stdout)["packet_out"])[12:] == dns[12:]
    result = pybpfc_cli("test-run", objects["packet_tc"], "--packet-hex", dns.hex())
    assert result.returncode == 1
    assert "3 packet programs (set_dscp, drop_dns_tc, set_dscp_badsum); name one with" in \
        result.stderr
    result = pybpfc_cli("test-run", objects["packet_xdp"], "--program", "drop_dns",
                        "--packet-hex", "08 00")
    assert result.returncode == 1
    assert "the packet is 2 bytes; a test run's packet starts with a 14-byte" in result.stderr
