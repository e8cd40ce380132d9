"""Packet programs written in Python (XDP, tc, cgroup_skb), compiled by
pybpfc and run by the kernel on packets made byte by byte
(BPF_PROG_TEST_RUN): the verdict, and the packet that comes out, are the
kernel's.  Short packets, IP options and other protocols are among them,
so every bounds check the compiler wrote is crossed both ways."""
from __future__ import annotations

import socket
from pathlib import Path
from typing import Iterator

import pytest

from pybpfc.runtime import packet_build as pb
from tests.support import REPO_ROOT, require_root
from pybpfc import abi
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.collection import Collection, load
from pybpfc.runtime.elf import read_object

XDP_DROP, XDP_PASS = abi.kernel.XDP_DROP, abi.kernel.XDP_PASS
TC_ACT_OK = abi.kernel.TC_ACT_OK


def example(name: str, **globals_: int) -> Collection:
    require_root("loading packet programs")
    path = REPO_ROOT / "examples" / f"{name}.py"
    spec = read_object(compile_source(Source(str(path), path.read_text())).elf)
    for global_name, value in globals_.items():
        spec.set_global(global_name, value)
    return load(spec)


@pytest.fixture
def drop_udp() -> Iterator[Collection]:
    with example("xdp_drop_udp_port", port=5353) as coll:
        yield coll


@pytest.mark.parametrize("frame,verdict", [
    (pb.udp4_frame(dport=5353), XDP_DROP),
    (pb.udp4_frame(dport=5354), XDP_PASS),
    # The UDP header found after IP options (IHL 7).
    (pb.udp4_frame(dport=5353, options=b"\x01" * 8), XDP_DROP),
    (pb.tcp4_frame(dport=5353), XDP_PASS),
    (pb.udp6_frame(dport=5353), XDP_PASS),
    # Too short for the UDP header, the IPv4 header.  (The kernel test-runs
    # XDP on 14 bytes at least: a frame too short for Ethernet never comes.)
    (pb.udp4_frame(dport=5353)[:14 + 20 + 7], XDP_PASS),
    (pb.udp4_frame(dport=5353)[:14 + 19], XDP_PASS),
], ids=["to-port", "other-port", "ip-options", "tcp", "ipv6", "short-udp", "short-ip"])
def test_xdp_drop_udp_port(drop_udp: Collection, frame: bytes, verdict: int) -> None:
    result = drop_udp.programs["drop_udp_port"].test_run(frame)
    assert result.retval == verdict
    assert result.data_out == frame


def test_xdp_count_protocols_counts_packets_and_bytes() -> None:
    frames = [pb.udp4_frame(dport=53), pb.udp4_frame(dport=54),
              pb.tcp4_frame(dport=80),
              pb.udp6_frame(dport=53),
              pb.ethernet(bytes(28), pb.ETH_P_ARP), pb.udp4_frame(dport=53)[:20]]
    with example("xdp_count_protocols") as coll:
        prog = coll.programs["count_protocols"]
        for frame in frames:
            assert prog.test_run(frame).retval == XDP_PASS
        counts = coll.maps["by_protocol"]

        def total(protocol: int) -> tuple[int, int]:
            per_cpu = counts[protocol]
            return (sum(v["packets"] for v in per_cpu), sum(v["bytes"] for v in per_cpu))
        assert total(pb.IPPROTO_UDP) == (3, 2 * len(frames[0]) + len(frames[3]))
        assert total(pb.IPPROTO_TCP) == (1, len(frames[2]))
        assert total(0) == (0, 0)       # ARP and the short frame counted nowhere


def test_tc_set_dscp_rewrites_tos_and_checksum() -> None:
    with example("tc_set_dscp", dscp=10) as coll:
        prog = coll.programs["set_dscp"]
        frame = pb.udp4_frame(dport=53, tos=0x01)           # ECN bits set: kept
        result = prog.test_run(frame)
        assert result.retval == TC_ACT_OK
        ip = pb.read_ipv4(result.data_out)
        assert ip.tos == (10 << 2) | 0x01
        assert pb.checksum(ip.header) == 0             # the header's checksum holds
        assert pb.read_ipv4(frame).check != ip.check
        assert result.data_out[:15] == frame[:15] and result.data_out[16:24] == frame[16:24]
        assert result.data_out[26:] == frame[26:]
        # Already marked, or not IPv4: the packet leaves unchanged.
        marked = pb.udp4_frame(dport=53, tos=10 << 2)
        assert prog.test_run(marked).data_out == marked
        arp = pb.ethernet(bytes(28), pb.ETH_P_ARP)
        assert prog.test_run(arp).data_out == arp


def test_cgroup_skb_loopback_only_verdicts() -> None:
    """cgroup_skb programs see the packet from its IP header on."""
    with example("cgroup_skb_loopback_only") as coll:
        egress = coll.programs["loopback_only"]
        cases = [(pb.udp4_frame(dport=53, dst="127.0.0.1"), 1), (pb.udp4_frame(dport=53, dst="127.8.9.1"), 1),
                 (pb.udp4_frame(dport=53, dst="10.0.0.2"), 0), (pb.udp4_frame(dport=53, dst="128.0.0.1"), 0),
                 (pb.udp6_frame(dport=53, dst="::1"), 1),
                 (pb.udp6_frame(dport=53, dst="::2"), 0)]
        for frame, verdict in cases:
            assert egress.test_run(frame).retval == verdict, frame.hex()
        assert coll.globals["refused"] == 3
        assert coll.programs["count_received"].test_run(cases[0][0]).retval == 1
        assert coll.globals["received"] == 1


def test_every_packet_hook_loads_with_python_line_info(tmp_path: Path) -> None:
    """What bpftool shows of each packet example is its Python source."""
    from tests.support import bpftool_dump_xlated_linum, bpftool_loadall, mounted_bpffs
    require_root("loading with bpftool")
    names = ["xdp_drop_udp_port", "xdp_count_protocols", "xdp_block_prefixes",
             "xdp_load_balancer", "xdp_redirect_ports", "tc_set_dscp",
             "cgroup_skb_loopback_only"]
    with mounted_bpffs() as bpffs:
        for name in names:
            path = REPO_ROOT / "examples" / f"{name}.py"
            obj = tmp_path / f"{name}.o"
            obj.write_bytes(compile_source(Source(str(path), path.read_text())).elf)
            result = bpftool_loadall(obj, bpffs / name)
            assert result.returncode == 0, result.stderr
            dumps = [bpftool_dump_xlated_linum(p) for p in (bpffs / name).iterdir()]
            assert dumps and all(f"file:{path}" in dump for dump in dumps), dumps
            assert any(".header(" in dump for dump in dumps), dumps


def prefix(cidr: str) -> dict[str, int]:
    """An Ipv4Prefix key: the address in network order, as its field holds it."""
    address, length = cidr.split("/")
    return {"prefixlen": int(length), "addr": int.from_bytes(socket.inet_aton(address), "little")}


def test_xdp_block_prefixes_follows_the_trie_as_user_space_changes_it() -> None:
    with example("xdp_block_prefixes") as coll:
        prog, blocked = coll.programs["block_prefixes"], coll.maps["blocked"]

        def verdict(source: str) -> int:
            return prog.test_run(pb.udp4_frame(dport=53, src=source)).retval
        assert verdict("10.1.2.7") == XDP_PASS
        blocked[prefix("10.1.2.0/24")] = 0
        blocked[prefix("10.1.2.128/25")] = 0        # the longest prefix counts the hit
        assert [verdict(a) for a in ("10.1.2.7", "10.1.2.200", "10.1.3.1", "10.1.2.130")] == [
            XDP_DROP, XDP_DROP, XDP_PASS, XDP_DROP]
        assert blocked[prefix("10.1.2.0/24")] == 1 and blocked[prefix("10.1.2.128/25")] == 2
        del blocked[prefix("10.1.2.0/24")]
        assert [verdict("10.1.2.7"), verdict("10.1.2.129")] == [XDP_PASS, XDP_DROP]
        ipv6 = pb.udp6_frame(dport=53)
        assert prog.test_run(ipv6).retval == XDP_PASS


def test_xdp_load_balancer_rewrites_and_sends_back() -> None:
    vip = "10.0.0.100"
    with example("xdp_load_balancer", vport=8080, backend_count=2) as coll:
        backends = coll.maps["backends"]
        for i, address in enumerate(("10.0.1.10", "10.0.1.11")):
            backends[i] = int.from_bytes(socket.inet_aton(address), "little")
        prog = coll.programs["balance"]
        for sport, backend in ((40000, "10.0.1.10"), (40001, "10.0.1.11")):
            datagram = pb.udp(b"hello", sport, 8080, "192.0.2.7", vip)
            frame = pb.ethernet(pb.ipv4(datagram, pb.IPPROTO_UDP, src="192.0.2.7", dst=vip))
            result = prog.test_run(frame)
            assert result.retval == abi.kernel.XDP_TX
            out = result.data_out
            ip = pb.read_ipv4(out)
            assert (ip.src, ip.dst) == ("192.0.2.7", backend)
            assert pb.checksum(ip.header) == 0 and pb.l4_checksum_ok(out)
            assert out[:6] == frame[6:12] and out[6:12] == frame[:6]     # MACs swapped
        # Without a UDP checksum (0), none is made up.
        bare = pb.udp(b"hello", 40000, 8080, with_checksum=False)
        out = prog.test_run(pb.ethernet(pb.ipv4(bare, pb.IPPROTO_UDP, dst=vip))).data_out
        assert out[14 + 20 + 6:14 + 20 + 8] == b"\0\0"
        assert pb.checksum(pb.read_ipv4(out).header) == 0
        # Another address, another port: passed on untouched.
        for other in (pb.udp4_frame(dport=8080), pb.udp4_frame(sport=40000, dport=8081, dst=vip)):
            result = prog.test_run(other)
            assert (result.retval, result.data_out) == (XDP_PASS, other)


IP_ONLY = """\
from pybpfc import ETH_P_IP, ETH_P_IPV6, XDP_DROP, XDP_PASS, EthHdr, XdpContext, htons, xdp


@xdp
def ip_only(ctx: XdpContext) -> int:
    eth = ctx.header(EthHdr, 0)
    if eth is None:
        return XDP_PASS
    if eth.h_proto in (htons(ETH_P_IP), htons(ETH_P_IPV6)):
        return XDP_DROP
    return XDP_PASS
"""


def test_a_be16_is_in_a_tuple_of_its_byte_orders_constants() -> None:
    require_root("loading packet programs")
    spec = read_object(compile_source(Source("ip_only.py", IP_ONLY)).elf)
    with load(spec) as coll:
        prog = coll.programs["ip_only"]
        assert prog.test_run(pb.udp4_frame(dport=53)).retval == XDP_DROP
        ipv6 = pb.udp6_frame(dport=53)
        assert prog.test_run(ipv6).retval == XDP_DROP
        assert prog.test_run(pb.ethernet(bytes(28), pb.ETH_P_ARP)).retval == XDP_PASS
        # The type with ETH_P_IP's two bytes the other way round passes.
        assert prog.test_run(pb.ethernet(bytes(28), 0x0008)).retval == XDP_PASS


TAIL_CALLS = """\
from pybpfc import (ETH_HLEN, ETH_P_IP, IPPROTO_UDP, XDP_DROP, XDP_PASS, EthHdr, Ipv4Hdr,
                    ProgArray, XdpContext, htons, tail_call, u32, xdp)

progs: ProgArray = ProgArray(max_entries=4)
fell_through: u32 = 0


@xdp
def by_protocol(ctx: XdpContext) -> int:
    global fell_through
    eth = ctx.header(EthHdr, 0)
    if eth is None or eth.h_proto != htons(ETH_P_IP):
        return XDP_PASS
    ip = ctx.header(Ipv4Hdr, ETH_HLEN)
    if ip is None:
        return XDP_PASS
    tail_call(ctx, progs, u32(ip.protocol) & 3)     # does not come back when the slot is set
    fell_through += 1
    return XDP_PASS


@xdp
def drop_udp(ctx: XdpContext) -> int:
    return XDP_DROP
"""


def test_tail_call_jumps_to_the_program_user_space_put_in_the_slot() -> None:
    """UDP (17, slot 1) goes to drop_udp once user space stores it there;
    an empty slot, and TCP's (6, slot 2), fall through to the caller."""
    require_root("loading packet programs")
    with load(read_object(compile_source(Source("tail_calls.py", TAIL_CALLS)).elf)) as coll:
        entry, progs = coll.programs["by_protocol"], coll.maps["progs"]
        udp, tcp = pb.udp4_frame(dport=53), pb.tcp4_frame(dport=80)
        assert [entry.test_run(f).retval for f in (udp, tcp)] == [XDP_PASS, XDP_PASS]
        assert coll.globals["fell_through"] == 2
        progs[1] = coll.programs["drop_udp"]
        assert progs[1] == coll.programs["drop_udp"].info().id
        assert [entry.test_run(f).retval for f in (udp, tcp)] == [XDP_DROP, XDP_PASS]
        assert coll.globals["fell_through"] == 3          # TCP's only
        del progs[1]
        assert entry.test_run(udp).retval == XDP_PASS and coll.globals["fell_through"] == 4


BY_PORT = """\
from pybpfc import (ETH_HLEN, XDP_PASS, DevMapHash, Ipv4Hdr, UdpHdr, XdpContext, ntohs, u32,
                    xdp)

out: DevMapHash = DevMapHash(max_entries=4)


@xdp
def by_port(ctx: XdpContext) -> int:
    ip = ctx.header(Ipv4Hdr, ETH_HLEN)
    if ip is None:
        return XDP_PASS
    udp = ctx.header(UdpHdr, ETH_HLEN + 20)
    if udp is None:
        return XDP_PASS
    return out.redirect(u32(ntohs(udp.dest)), XDP_PASS)
"""


def test_devmap_hash_redirects_by_any_key_it_holds() -> None:
    """A DevMapHash keyed by port: a key user space stored (with the
    loopback device) gives XDP_REDIRECT, another the fallback action."""
    require_root("loading packet programs")
    with load(read_object(compile_source(Source("by_port.py", BY_PORT)).elf)) as coll:
        prog, out = coll.programs["by_port"], coll.maps["out"]
        out[5000] = socket.if_nametoindex("lo")
        assert [prog.test_run(pb.udp4_frame(dport=p)).retval for p in (5000, 5001)] == [
            abi.kernel.XDP_REDIRECT, XDP_PASS]
        del out[5000]
        assert prog.test_run(pb.udp4_frame(dport=5000)).retval == XDP_PASS
