"""Probes for XDP, tc and cgroup_skb rows ("test_run" scenarios): each
program of the row runs, through BPF_PROG_TEST_RUN, on each packet of a
fixed mix; the probe returns, per packet and program, the verdict and the
packet out.  ``prepare`` fills the maps a row needs before the run."""
from __future__ import annotations

from typing import Any, Callable

from pybpfc.runtime.packet_build import icmp4_frame, tcp4_frame, udp4_frame, udp6_frame

Run = Callable[[bytes], list[tuple[str, str, bytes]]]


def mix() -> list[tuple[str, bytes]]:
    frames = [(f"udp4 :{port}", udp4_frame(b"q" * 32, dport=port)) for port in (53, 7777, 80)]
    frames += [("udp4 from 10.9.9.9", udp4_frame(src="10.9.9.9")),
               ("udp4 to 127.0.0.1", udp4_frame(dst="127.0.0.1")),
               ("udp4 tos 0x10", udp4_frame(tos=0x10))]
    frames += [(f"udp4 vip:80 sport {s}", udp4_frame(b"lb", sport=s, dport=80, dst="10.0.0.100"))
               for s in (40000, 40001)]
    frames += [("tcp4 SYN :80", tcp4_frame(dport=80)), ("icmp4 echo", icmp4_frame()),
               ("udp6 :53", udp6_frame(dport=53)), ("ipv4 header only", udp4_frame()[:34])]
    return frames


def probe_test_run(run: Run) -> list[tuple[str, Any]]:
    return [(label, run(frame)) for label, frame in mix()]


def prepare_block_prefixes(maps: Any) -> None:
    # 10.9.9.9/32 blocked: one packet of the mix comes from it.
    maps["blocked"].update({"prefixlen": 32, "addr": int.from_bytes(bytes([10, 9, 9, 9]), "little")}, 0)


def prepare_load_balancer(maps: Any) -> None:
    maps["backends"].update(0, int.from_bytes(bytes([10, 0, 1, 1]), "little"))
    maps["backends"].update(1, int.from_bytes(bytes([10, 0, 1, 2]), "little"))
