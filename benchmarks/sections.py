"""The sections of docs/performance.md, each measured and written by one
function: instructions, hook cost, compile latency, load and attach, and
the targets that sum them up."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional
from pathlib import Path

from tests.support import mounted_bpffs

from . import harness
from .registry import PROGRAMS_DIR
from .report import Report, geomean, progress, table, verdict


def group(b: harness.Built) -> str:
    return "benchmarks/programs" if b.twin.folder == PROGRAMS_DIR else "examples"


# ------------------------------------------------------------ instructions


@dataclass(frozen=True)
class InsnRow:
    name: str            # the row's name, with the program's when it has several
    group: str
    v3: harness.InsnCount        # clang -mcpu=v3, the headline's reference
    pybpfc: harness.InsnCount
    v1: harness.InsnCount        # clang's default CPU, for reference
    packet: bool = False         # an XDP, tc or cgroup_skb program (a test-run row)

    @property
    def ratio(self) -> float:
        return self.pybpfc.xlated / self.v3.xlated


def instructions(report: Report, built: list[harness.Built]) -> list[InsnRow]:
    rows: list[InsnRow] = []
    for b in built:
        for program in b.twin.programs:
            v3, py, v1 = (harness.insn_count(b.objects[c], program)
                          for c in ("clang", "pybpfc", "clang-v1"))
            # A row of several programs gets a line per program.
            name = b.twin.name if len(b.twin.programs) == 1 else f"{b.twin.name} `{program}`"
            rows.append(InsnRow(name, group(b), v3, py, v1, b.twin.scenario.attach == "test_run"))

    def means(label: str, of: list[InsnRow]) -> list[str]:
        return [f"**geometric mean, {label}**", "", "", f"{geomean([r.ratio for r in of]):.2f}",
                "", "", f"{geomean([r.pybpfc.processed / r.v3.processed for r in of]):.2f}",
                "", f"{geomean([r.pybpfc.xlated / r.v1.xlated for r in of]):.2f}"]

    lines: list[list[str]] = []
    for label in ("examples", "benchmarks/programs"):
        of = [r for r in rows if r.group == label]
        if not of:          # BENCH_ROWS may leave a group out
            continue
        lines += [[r.name, str(r.v3.xlated), str(r.pybpfc.xlated), f"{r.ratio:.2f}",
                   str(r.v3.processed), str(r.pybpfc.processed),
                   f"{r.pybpfc.processed / r.v3.processed:.2f}", str(r.v1.xlated),
                   f"{r.pybpfc.xlated / r.v1.xlated:.2f}"] for r in of]
        lines.append(means(label, of))
    lines.append(means("all", rows))
    report.say(
        "## Instructions", "",
        "pybpfc emits BPF CPU v3 (32-bit subregisters and jumps), so its output is compared "
        "with clang's at the same ISA level, `-mcpu=v3`.  Translated: `xlated_prog_len / 8` "
        "from BPF_OBJ_GET_INFO_BY_FD after loading.  Processed: the verifier's `processed N "
        "insns` (log level BPF_LOG_STATS).  The last two columns, for reference only, are "
        "clang at its default CPU, v1, which lacks the 32-bit jumps and so needs more "
        "instructions for the same code.  The examples are `examples/`; "
        "`benchmarks/programs/` are benchmark-only programs in the patterns where pybpfc's "
        "code was furthest behind (socket storage then several option-value accesses, "
        "several `strtoul()` calls over one sysctl value, packet parsers); "
        "benchmarks/FINDINGS.md says where the differences come from.", "",
        *table(["program", "clang v3 xlated", "pybpfc xlated", "pybpfc / clang v3",
                "clang v3 processed", "pybpfc processed", "pybpfc / clang v3",
                "clang v1 xlated", "pybpfc / clang v1"], lines), "")
    return rows


# --------------------------------------------------------------- hook cost

# Hook cost: rounds of new load generator processes, each running cycles of
# one short burst per variant (a scenario's iterations / BURST_DIVISOR
# iterations: 0.1-0.4 ms).
BURST_DIVISOR = 2000


def _hook_cost_text(rounds: int, cycles: int) -> str:
    return (
        "ns per iteration of a tight loop in a C load generator (`benchmarks/loadgen.c`) "
        "running in a temporary cgroup with no program, with clang's (`-mcpu=v3`) and with "
        "pybpfc's (for the socket filters: on a socket without and with each filter).  The "
        "three variants run in three processes pinned to one CPU, each in its own cgroup (or "
        "with its own socket), which take turns in short bursts (a scenario's iterations "
        f"/ {BURST_DIVISOR}: 0.1-0.4 ms, timed inside the process with CLOCK_MONOTONIC) "
        "while the measuring Python process stays on the other CPUs.  A cycle is one "
        "burst of each variant, in an order that changes every cycle so each comes "
        "first, last and after each other equally often; slow changes of the machine's "
        "speed (other load, frequency, the host) then hit all three alike and cancel "
        "in the ratio of a cycle's bursts.  A round makes everything anew (both objects "
        "loaded and attached again, new cgroups or sockets, new processes) and runs "
        f"{cycles} cycles; its ratio is the median of its cycles' pybpfc / clang.  "
        "Many rounds matter more than many cycles: the same loop in two processes with "
        "no program at all differs by up to 1-2% for as long as the processes live "
        "(memory layout), which more cycles cannot average out but more "
        f"rounds do.  pybpfc/clang is the median of the {rounds} rounds' ratios; "
        "95% CI is its distribution-free confidence interval (order statistics of the "
        "rounds' ratios, which are independent): a CI that spans 1.0 means no "
        "difference is measurable.  The CI covers the rounds' noise, not every bias: "
        "timing clang's object as both variants (A/A) gave ratios within 0.4% of 1.0, "
        "two of fourteen CIs just missing it, so read differences below about 0.5% "
        "as noise.  The ns columns are medians over all bursts of a "
        "variant (so bursts that other processes or interrupts cut into weigh little).  "
        "hook ratio = (pybpfc - none) / (clang - none) from each round's medians, "
        "median over the rounds: the hooks' own cost, noisy when the hook is a small "
        "part of the syscall (n/a when clang's hook did not measure above the baseline "
        "in most rounds).  Packet programs (XDP, tc, cgroup_skb) are timed per packet in "
        "their own section below.")


def hook_cost(report: Report, built: list[harness.Built], loadgen: Path, rounds: int,
              cycles: int) -> list[harness.HookCost]:
    rows, costs = [], []
    for b in built:
        sc = b.twin.scenario
        if sc.attach == "tracing":      # machine-wide: both objects would see every burst
            continue
        if sc.attach == "test_run":     # no syscall runs them: timed per packet instead
            continue
        progress(f"hook cost: {b.twin.name}")
        cost = harness.hook_cost(b, loadgen, rounds, cycles,
                                 max(1, sc.iterations // BURST_DIVISOR))
        costs.append(cost)
        rows.append([b.twin.name, sc.what, f"{cost.ns['none']:.1f}", f"{cost.ns['clang']:.1f}",
                     f"{cost.ns['pybpfc']:.1f}", f"{cost.ratio:.3f}",
                     f"{cost.ratio_ci[0]:.3f}–{cost.ratio_ci[1]:.3f}",
                     "n/a" if cost.hook_ratio is None else f"{cost.hook_ratio:.2f}"])
    report.say("## Hook cost per syscall", "", _hook_cost_text(rounds, cycles), "",
               *table(["program", "loop", "none ns", "clang ns", "pybpfc ns", "pybpfc/clang",
                       "95% CI", "hook ratio"], rows), "")
    return costs


# ---------------------------------------------------------- compile latency


def compile_latency(report: Report, built: list[harness.Built], out_dir: Path,
                    rounds: int) -> list[harness.CompileTime]:
    rows, times = [], []
    for b in built:
        progress(f"compile time: {b.twin.name}")
        ct = harness.compile_time(b.twin, out_dir, rounds)
        times.append(ct)
        rows.append([b.twin.name, f"{ct.clang * 1000:.0f}", f"{ct.pybpfc_build * 1000:.0f}",
                     f"{ct.pybpfc_build / ct.clang:.2f}", f"{ct.in_process * 1000:.1f}"])
    report.say(
        "## Compile latency", "",
        "Wall time in ms: `clang -O2 -g -target bpf -mcpu=v3 -c` and `python -m pybpfc build` "
        "as whole processes (pybpfc's bytecode and parser tables already cached, as after "
        "the first build of a pip installation), and "
        "`pybpfc.compiler.driver.compile_source` in process after imports and one warm-up "
        "compile.", "",
        *table(["program", "clang ms", "pybpfc build ms", "ratio", "in-process ms"], rows), "")
    return times


# --------------------------------------------------------- load and attach


def _bpftool_ms(seconds: Optional[float]) -> str:
    return "\u2013" if seconds is None else f"{seconds * 1000:.1f}"


def load_and_attach(report: Report, built: list[harness.Built], rounds: int) -> None:
    rows = []
    with mounted_bpffs(prefix="pybpfc-bench-bpffs-") as bpffs:
        for b in built:
            progress(f"load time: {b.twin.name}")
            times = {c: harness.load_time(b.objects[c], b.twin, bpffs, rounds)
                     for c in harness.COMPILERS}
            rows.append([b.twin.name] + [f"{times[c].runtime_load * 1000:.2f}"
                                         for c in harness.COMPILERS]
                        + [f"{times[c].runtime_attach * 1000:.2f}" for c in harness.COMPILERS]
                        + [_bpftool_ms(times[c].bpftool) for c in harness.COMPILERS])
    report.say(
        "## Load and attach", "",
        "ms: the runtime loading the object in process (`pybpfc.runtime.collection.load`), "
        "the same plus attaching the program, and `bpftool prog loadall` (libbpf) loading "
        "and pinning the same object as a whole process; clang's objects are `-mcpu=v3`.  "
        "bpftool is \u2013 where the installed one (libbpf 1.1) knows not every section of "
        "the object (the Unix-socket sock_addr hooks).",
        "",
        *table(["program", "runtime load (clang .o)", "runtime load (pybpfc .o)",
                "load+attach (clang .o)", "load+attach (pybpfc .o)",
                "bpftool loadall (clang .o)", "bpftool loadall (pybpfc .o)"], rows), "")


# ----------------------------------------------------------------- targets


def instruction_targets(insns: list[InsnRow]) -> list[list[str]]:
    """The rows of the targets table about instruction counts."""
    gm = geomean([r.ratio for r in insns])
    worst = max(insns, key=lambda r: r.ratio)
    by_group = "; ".join(f"{label} {geomean([r.ratio for r in insns if r.group == label]):.2f}"
                         for label in ("examples", "benchmarks/programs")
                         if any(r.group == label for r in insns))
    packets = [r for r in insns if r.packet]
    rows = [
        ["translated instructions, geometric mean pybpfc / clang v3 <= 1.00",
         f"{gm:.2f} ({by_group})", verdict(gm <= 1.00)],
        ["translated instructions, every program <= 1.10 of clang v3",
         f"worst {worst.ratio:.2f} ({worst.name}); "
         f"{sum(r.ratio > 1.10 for r in insns)} of {len(insns)} above",
         verdict(worst.ratio <= 1.10)],
    ]
    if packets:
        packet_gm, packet_worst = geomean([r.ratio for r in packets]), max(r.ratio for r in packets)
        rows.append(["packet programs' instructions: geometric mean <= 1.00, each <= 1.10",
                     f"{packet_gm:.2f}, worst {packet_worst:.2f} over {len(packets)}",
                     verdict(packet_gm <= 1.00 and packet_worst <= 1.10)])
    return rows


def targets(report: Report, insns: list[InsnRow], hooks: list[harness.HookCost],
            compiles: list[harness.CompileTime]) -> None:
    build_ratios = [c.pybpfc_build / c.clang for c in compiles]
    inproc_ok = [c.in_process < c.clang for c in compiles]
    rows = instruction_targets(insns)
    ratios = [h.ratio for h in hooks]
    above = sum(h.ratio_ci[0] > 1.0 for h in hooks)
    if hooks:
        rows.append(["hook cost pybpfc/clang <= 1.02 on every hook",
                     f"worst {max(ratios):.3f}; {above} of {len(ratios)} with the whole 95% CI "
                     "above 1.0", verdict(max(ratios) <= 1.02)])
    rows += [
        ["`pybpfc build` <= 3x clang wall time", f"worst {max(build_ratios):.2f}x",
         verdict(max(build_ratios) <= 3)],
        ["in-process compile below clang's whole process",
         f"{sum(inproc_ok)} of {len(inproc_ok)} programs", verdict(all(inproc_ok))],
    ]
    report.say("## Targets", "", *table(["target", "measured", ""], rows), "")

