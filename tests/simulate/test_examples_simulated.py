"""The examples run in the interpreter, as a user's pytest would run them:
no kernel, no root.  Each test states what the kernel does for the same
event (tests/kernel/test_examples.py and test_seed_examples.py check that
in the kernel)."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

from pybpfc.simulate import Fakes, SimulationError, load_program

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SOL_IP, IP_TTL, IP_TOS, IP_FREEBIND = 0, 2, 1, 15


def example(name: str, fakes: Fakes | None = None):  # type: ignore[no-untyped-def]
    return load_program(EXAMPLES / name, fakes=fakes)


def test_deny_ttl_refuses_ttl_and_counts_it() -> None:
    prog = example("deny_ttl.py")
    assert prog.deny_ttl(level=SOL_IP, optname=IP_TTL, optval=b"\x40\0\0\0").verdict_name \
        == "REJECT"
    result = prog.deny_ttl(level=SOL_IP, optname=IP_TOS, optval=b"\x10\0\0\0")
    assert result.verdict_name == "ALLOW"
    assert result.globals["refused"] == 1
    assert result.written == {}


def test_sockopt_custom_keeps_a_note_per_socket() -> None:
    prog = example("sockopt_custom.py")
    stored = prog.set_option(level=0x7079, optname=1, optval=b"\x07", socket=3)
    assert stored.verdict_name == "ALLOW" and stored.written == {"optlen": -1}
    assert stored.maps["notes"] == {3: {"value": 7, "writes": 1}}
    # Another socket has no note: the kernel's own error stands.
    other = prog.get_option(level=0x7079, optname=1, optval=bytes(4), retval=-92, socket=4)
    assert other.written == {} and other.retval == -92
    back = prog.get_option(level=0x7079, optname=1, optval=bytes(4), retval=-92, socket=3)
    assert back.written == {"optlen": 1, "retval": 0}
    assert back.optval == b"\x07\0\0\0"
    # IP_FREEBIND: the kernel is told 1, whatever was set.
    freebind = prog.set_option(level=SOL_IP, optname=IP_FREEBIND, optval=bytes(4))
    assert freebind.optval == b"\x01\0\0\0"
    prog.close_socket(3)
    assert prog.maps["notes"].contents() == {}


def test_udp_one_at_a_time() -> None:
    prog = example("udp_one_at_a_time.py")
    assert prog.one_udp_socket(type=2, socket=5).verdict_name == "ALLOW"
    assert prog.one_udp_socket(type=2, socket=6).verdict_name == "REJECT"
    assert prog.one_udp_socket(type=1, socket=7).verdict_name == "ALLOW"   # TCP: not counted
    prog.udp_socket_closed(type=2, socket=5)
    result = prog.one_udp_socket(type=2, socket=8)
    assert result.verdict_name == "ALLOW"
    assert result.maps["stats"] == {1: {"created": 2, "refused": 1, "released": 1}}
    assert result.globals["in_use"] == 1


def test_sysctl_ascending_parses_the_numbers() -> None:
    prog = example("sysctl_ascending.py")
    name, current = "net/ipv4/tcp_rmem", "4096 131072 6291456\n"
    refused = prog.ascending_tcp_rmem(sysctl_name=name, current_value=current,
                                      new_value="4096 131072 100\n")
    assert refused.verdict_name == "REJECT"
    assert prog.maps["refusals"].drain() == [struct.pack("<3Q", 4096, 131072, 100)]
    fine = prog.ascending_tcp_rmem(sysctl_name=name, current_value=current,
                                   new_value="1 2 3")
    assert fine.verdict_name == "ALLOW" and fine.globals["replaced_max"] == 6291456
    short = prog.ascending_tcp_rmem(sysctl_name=name, current_value=current, new_value="1 2")
    assert short.verdict_name == "REJECT"
    read = prog.ascending_tcp_rmem(sysctl_name=name, current_value=current)
    assert read.verdict_name == "ALLOW"
    assert read.globals == {"checked": 3, "refused": 2, "replaced_max": 6291456}
    other = prog.ascending_tcp_rmem(sysctl_name="net/ipv4/tcp_wmem", new_value="3 2 1")
    assert other.verdict_name == "ALLOW" and other.globals["checked"] == 3


def udp_frame(dport: int, payload: bytes = b"") -> bytes:
    ip = bytes([0x45, 0, 0, 28 + len(payload), 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1,
                10, 0, 0, 2])
    return bytes(12) + b"\x08\x00" + ip + struct.pack(">HHHH", 12345, dport, 8, 0) + payload


def test_count_protocols_reads_the_packet() -> None:
    prog = example("count_protocols.py", Fakes(cpu=1, cpus=4))
    frame = udp_frame(53, b"question")
    result = prog.count_protocols(packet=frame, protocol=0x0008)
    assert result.verdict_name == "DROP"
    assert result.maps["bytes_by_protocol"][17] == [0, len(frame), 0, 0]
    assert result.maps["packets_by_flow"] == {(17, 53): 1}
    prog.count_protocols(packet=frame, protocol=0x0008)
    assert prog.maps["packets_by_flow"][{"protocol": 17, "port": 53}] == 2


def test_count_bytes_sorts_packets_by_size() -> None:
    prog = example("count_bytes.py")
    for size in (60, 600, 9000):
        assert prog.count_bytes(packet=bytes(size)).verdict_name == "KEEP_ALL"
    assert prog.globals["by_size"] == [1, 0, 1, 1]
    assert prog.globals["total_bytes"] == 9660


def test_post_bind6_reads_the_address_words() -> None:
    prog = example("post_bind6_ports.py")
    loopback = [0, 0, 0, 0x01000000]        # ::1, each word in network order
    assert prog.odd_ports(src_port=5999, src_ip6=loopback).verdict_name == "REJECT"
    assert prog.odd_ports(src_port=5999, src_ip6=[0, 0, 0, 1]).verdict_name == "ALLOW"
    assert prog.odd_ports(src_port=5002).verdict_name == "REJECT"
    assert prog.odd_ports(src_port=5003).verdict_name == "ALLOW"


def test_getsockopt_chain_layers_its_answer() -> None:
    prog = example("getsockopt_chain.py")
    prog.globals["layer"] = 2
    result = prog.stack_layers(level=SOL_IP, optname=IP_TOS, optval=b"\x01\0\0\0")
    assert result.optval == b"\x12\0\0\0"
    assert result.globals == {"layer": 2, "calls": 1}


def test_a_context_argument_the_hook_does_not_take_is_named() -> None:
    prog = example("sock_create_mark.py")
    with pytest.raises(SimulationError, match=r"hook 'mark_sockets' \(@cgroup_sock_create\) "
                                              r"cannot read or write SockContext.src_port"):
        prog.mark_sockets(src_port=80)
    with pytest.raises(SimulationError, match="has no context argument 'optval'"):
        prog.mark_sockets(optval=b"")
    with pytest.raises(SimulationError, match=r"mark_sockets.*: type is a u32 \(0 .. 4294967295\)"):
        prog.mark_sockets(type=-1)
    with pytest.raises(SimulationError, match="type is an integer"):
        prog.mark_sockets(type="tcp")
    with pytest.raises(AttributeError, match="no hook 'nosuch'; it has mark_sockets"):
        prog.nosuch()
