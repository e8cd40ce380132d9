"""The benchmark's packet section (benchmarks/packet_runs.py) on a pair of
objects that are twins by construction: one C file built at two CPU levels.
Both must agree on every packet, and the section must have a row with a
time for each program and packet."""
from __future__ import annotations

from pathlib import Path

from benchmarks import packet_runs
from benchmarks.report import table
from tests.support import REPO_ROOT, clang_bpf, require_root

C_DIR = REPO_ROOT / "tests" / "c"


def test_packet_section_times_every_xdp_and_tc_program(tmp_path: Path) -> None:
    require_root("loading XDP and tc programs")
    pairs = []
    for stem in ("packet_xdp", "packet_tc"):
        objects = {"pybpfc": clang_bpf(C_DIR / f"{stem}.c", tmp_path / f"{stem}.v3.o",
                                       "-mcpu=v3"),
                   "clang": clang_bpf(C_DIR / f"{stem}.c", tmp_path / f"{stem}.v1.o")}
        pairs.append((stem, objects))
    socket_filter = clang_bpf(C_DIR / "interop_socket_filter.c", tmp_path / "sf.o")
    pairs.append(("interop_socket_filter", {"pybpfc": socket_filter, "clang": socket_filter}))
    lines: list[str] = []
    packet_runs.section(lambda *said: lines.extend(said), table, pairs, rounds=3, repeat=50)
    rows = [line for line in lines if line.startswith("| packet_")]
    mix = packet_runs.packet_mix()
    assert len(rows) == (4 + 3) * len(mix)      # 4 XDP and 3 tc programs; no socket filter
    assert not any("differ" in row for row in rows)
    cells = [row.strip("|").split("|") for row in rows]
    assert all(float(c[2]) > 0 and float(c[3]) > 0 for c in cells)
    verdicts = {(c[0].strip(), c[1].strip()): c[5].strip() for c in cells}
    assert verdicts[("packet_xdp `drop_dns`", "udp4 :53")] == "XDP_DROP"
    assert verdicts[("packet_tc `drop_dns_tc`", "udp4 :53")] == "TC_ACT_SHOT"
    assert verdicts[("packet_xdp `bounce`", "icmp4 echo")] == "XDP_TX"
    assert any(line.startswith(f"Geometric mean pybpfc / clang v3 over {7 * len(mix)} rows")
               for line in lines)


def test_packet_section_without_packet_programs_says_so(tmp_path: Path) -> None:
    require_root("loading programs")
    socket_filter = clang_bpf(C_DIR / "interop_socket_filter.c", tmp_path / "sf.o")
    lines: list[str] = []
    packet_runs.section(lambda *said: lines.extend(said), table,
                        [("sf", {"pybpfc": socket_filter, "clang": socket_filter})], 3, 10)
    assert "No packet program is registered yet." in lines
