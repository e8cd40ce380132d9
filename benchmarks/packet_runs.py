"""Nanoseconds per packet through BPF_PROG_TEST_RUN, pybpfc against clang.

Every registered twin whose programs are XDP, tc or cgroup_skb is picked
up: both objects are loaded, their maps filled as the row's scenario
prepares them, and each program runs on each packet of the twins' mix
(``packet_probes.mix()``: IPv4 UDP to watched ports, from a blocked address
and to the load balancer's virtual address, a TCP SYN, an ICMP echo, IPv6
UDP, a frame cut after its IPv4 header) with ``repeat`` runs per test run,
the kernel timing them.  The two compilers' objects take turns, round after round, so
a slow moment of the machine falls on both; the report gives the median
per compiler and the ratio.  The two must also agree on each packet:
verdict and packet out; a disagreement is reported instead of a time.

``python -m benchmarks.packet_runs PYBPFC.o CLANG.o PROGRAM...`` measures
one pair of objects outside the whole benchmark.
"""
from __future__ import annotations

import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

from pybpfc.abi import kernel
from pybpfc.runtime.collection import load
from pybpfc.runtime.elf import read_object
from .packet_probes import mix as packet_mix

PACKET_PROG_TYPES = (kernel.BPF_PROG_TYPE_XDP, kernel.BPF_PROG_TYPE_SCHED_CLS,
                     kernel.BPF_PROG_TYPE_CGROUP_SKB)
# What a row's scenario fills its maps with before the runs (its ``prepare``).
Prepare = Callable[[Any], None]


def packet_programs(obj: Path) -> list[str]:
    """The XDP, tc and cgroup_skb programs of an object."""
    spec = read_object(obj.read_bytes())
    return [name for name, prog in spec.programs.items() if prog.prog_type in PACKET_PROG_TYPES]


@dataclass(frozen=True)
class PacketTime:
    program: str
    packet: str
    ns: dict[str, float]       # compiler -> median ns per run
    verdicts: dict[str, str]
    agree: bool                # same verdict and same packet out

    @property
    def ratio(self) -> float:
        return self.ns["pybpfc"] / self.ns["clang"]


def measure_pair(objects: dict[str, Path], programs: Sequence[str], rounds: int,
                 repeat: int, packets: Sequence[tuple[str, bytes]],
                 prepare: Optional[Prepare] = None) -> list[PacketTime]:
    """Time ``programs`` of both objects (compiler -> path: "pybpfc" and
    "clang") on each packet, alternating between them every round; each
    object's maps filled by ``prepare`` first."""
    results = []
    with load(objects["pybpfc"]) as py, load(objects["clang"]) as c:
        colls = {"pybpfc": py, "clang": c}
        if prepare is not None:
            for coll in colls.values():
                prepare(coll.maps)
        for program in programs:
            for label, packet in packets:
                first = {name: coll[program].run_packet(packet) for name, coll in colls.items()}
                agree = len({(r.verdict, r.packet) for r in first.values()}) == 1
                samples: dict[str, list[int]] = {name: [] for name in colls}
                for round_ in range(rounds):
                    # Take turns starting first, so neither always runs on a warm cache.
                    order = list(colls) if round_ % 2 == 0 else list(reversed(colls))
                    for name in order:
                        run = colls[name][program].run_packet(packet, repeat=repeat)
                        samples[name].append(run.duration_ns)
                results.append(PacketTime(
                    program, label, {n: float(statistics.median(s)) for n, s in samples.items()},
                    {n: r.verdict for n, r in first.items()}, agree))
    return results


def rows_of(times: Sequence[PacketTime], name: str) -> list[list[str]]:
    rows = []
    for t in times:
        program = name if t.program == name else f"{name} `{t.program}`"
        if not t.agree:
            rows.append([program, t.packet, "", "", f"**differ**: {t.verdicts}", ""])
            continue
        rows.append([program, t.packet, f"{t.ns['clang']:.1f}", f"{t.ns['pybpfc']:.1f}",
                     f"{t.ratio:.2f}", t.verdicts["pybpfc"]])
    return rows


def section(say: Callable[..., None], table: Callable[..., list[str]],
            pairs: Sequence[tuple[str, dict[str, Path]]], rounds: int, repeat: int,
            prepares: Mapping[str, Prepare] = {}) -> None:
    """The report's section: one row per program and packet, for every
    (name, objects) pair whose objects hold packet programs (their maps
    filled by ``prepares[name]`` when there is one)."""
    rows: list[list[str]] = []
    ratios: list[float] = []
    for name, objects in pairs:
        programs = packet_programs(objects["pybpfc"])
        if not programs:
            continue
        times = measure_pair(objects, programs, rounds, repeat, packet_mix(),
                             prepares.get(name))
        rows += rows_of(times, name)
        ratios += [t.ratio for t in times if t.agree]
    say("## Packets through test-run", "",
        f"ns per packet: the kernel's own timing of `BPF_PROG_TEST_RUN` with repeat={repeat}, "
        f"median of {rounds} rounds, the two objects taking turns; every XDP, tc and "
        "cgroup_skb twin, its maps filled as for its behaviour check, on each packet of a "
        "fixed mix (for cgroup_skb, from the IP header on).  A row whose two objects gave "
        "different verdicts or packets out says so instead.", "")
    if not rows:
        say("No packet program is registered yet.", "")
        return
    say(*table(["program", "packet", "clang v3 ns", "pybpfc ns", "pybpfc / clang v3",
                "verdict"], rows), "")
    if ratios:
        say(f"Geometric mean pybpfc / clang v3 over {len(ratios)} rows: "
            f"{statistics.geometric_mean(ratios):.2f}.", "")


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m benchmarks.packet_runs PYBPFC.o CLANG.o [PROGRAM...]",
              file=sys.stderr)
        return 2
    objects = {"pybpfc": Path(argv[0]), "clang": Path(argv[1])}
    programs = argv[2:] or packet_programs(objects["pybpfc"])
    from .report import table
    times = measure_pair(objects, programs, rounds=21, repeat=10000, packets=packet_mix())
    print("\n".join(table(["program", "packet", "clang v3 ns", "pybpfc ns",
                           "pybpfc / clang v3", "verdict"], rows_of(times, objects["pybpfc"].stem))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
