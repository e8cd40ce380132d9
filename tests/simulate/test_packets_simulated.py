"""Packet hooks in the interpreter, without a kernel: the API's packet in
and out, LPM tries, and a helper the simulator does not know."""
from __future__ import annotations

import socket

import pytest

from pybpfc.runtime.packet_build import ipv4_checksum_ok, l4_checksum_ok, udp4_frame
from pybpfc.simulate import SimulationError, load_program
from pybpfc.simulate import helpers as simulated_helpers


def be32(address: str) -> int:
    """An address as a be32 field holds it."""
    return int.from_bytes(socket.inet_aton(address), "little")


def test_the_load_balancer_sends_to_the_backend_of_the_source_port() -> None:
    prog = load_program("examples/xdp_load_balancer.py")
    prog.maps["backends"][0] = be32("10.0.0.7")
    prog.maps["backends"][1] = be32("10.0.0.8")
    frame = udp4_frame(dst="10.0.0.100", dport=80, sport=40001)
    result = prog.balance(packet=frame)
    assert result.verdict_name == "XDP_TX"
    out = result.packet
    assert out is not None and out[30:34] == socket.inet_aton("10.0.0.8")   # 40001 is odd
    assert out[:6] == frame[6:12] and ipv4_checksum_ok(out) and l4_checksum_ok(out)
    assert prog.balance(packet=udp4_frame(dport=80)).packet == udp4_frame(dport=80)


def test_a_devmap_redirects_to_the_device_in_the_slot() -> None:
    prog = load_program("examples/xdp_redirect_ports.py")
    prog.maps["ports"][2] = 5                   # port 7002 leaves through ifindex 5
    sent = prog.redirect_ports(packet=udp4_frame(dport=7002))
    assert (sent.verdict_name, sent.redirect) == ("XDP_REDIRECT", {"ifindex": 5,
                                                                   "ingress": False})
    empty = prog.redirect_ports(packet=udp4_frame(dport=7003))
    assert (empty.verdict_name, empty.redirect) == ("XDP_PASS", None)
    # Only the slots holding a device exist, as the kernel lists them.
    assert empty.maps["ports"] == {2: 5}
    prog.maps["ports"][2] = 0                   # no device: the slot is empty again
    assert prog.maps["ports"].contents() == {}
    with pytest.raises(KeyError, match="index 8 is past the end of map 'ports'"):
        prog.maps["ports"][8] = 5


def test_the_longest_prefix_wins() -> None:
    prog = load_program("examples/xdp_block_prefixes.py")
    blocked = prog.maps["blocked"]
    blocked[{"prefixlen": 8, "addr": be32("10.0.0.0")}] = 0
    blocked[{"prefixlen": 24, "addr": be32("10.1.2.0")}] = 0
    for source in ("10.1.2.3", "10.1.2.4", "10.9.9.9"):
        assert prog.block_prefixes(packet=udp4_frame(src=source)).verdict_name == "XDP_DROP"
    assert prog.block_prefixes(packet=udp4_frame(src="11.0.0.1")).verdict_name == "XDP_PASS"
    assert blocked.contents() == {(8, be32("10.0.0.0")): 1, (24, be32("10.1.2.0")): 2}
    # The same prefix, other bits after it: it replaces the key.
    blocked[{"prefixlen": 24, "addr": be32("10.1.2.99")}] = 7
    assert blocked.contents() == {(8, be32("10.0.0.0")): 1, (24, be32("10.1.2.99")): 7}


def test_a_header_past_the_packet_is_none() -> None:
    prog = load_program("examples/xdp_drop_udp_port.py")
    frame = udp4_frame(dport=7777)
    assert prog.drop_udp_port(packet=frame[:42]).verdict_name == "XDP_DROP"   # UDP's 8 bytes
    assert prog.drop_udp_port(packet=frame[:41]).verdict_name == "XDP_PASS"


def test_the_packet_is_given_as_bytes_not_as_data_pointers() -> None:
    prog = load_program("examples/xdp_drop_udp_port.py")
    with pytest.raises(SimulationError, match=r"XdpContext.data points into the packet; give "
                                              r"the packet's bytes as packet="):
        prog.drop_udp_port(data=0)


def test_a_helper_not_simulated_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(simulated_helpers.HELPERS, "l3_csum_replace")
    prog = load_program("examples/tc_set_dscp.py")
    with pytest.raises(SimulationError, match=r"line \d+: l3_csum_replace\(\) is not simulated "
                                              "yet; run the program in the kernel"):
        prog.set_dscp(packet=udp4_frame())


def test_a_program_array_lists_no_slot_until_one_is_stored() -> None:
    """As the kernel lists a ProgArray (the differential test found the
    interpreter listing its empty slots as zeros)."""
    text = ("from pybpfc import XDP_PASS, ProgArray, XdpContext, xdp\n\n"
            "progs: ProgArray = ProgArray(max_entries=4)\n\n\n"
            "@xdp\ndef f(ctx: XdpContext) -> int:\n    return XDP_PASS\n")
    assert load_program("t.py", text=text).f(packet=b"").maps == {"progs": {}}
