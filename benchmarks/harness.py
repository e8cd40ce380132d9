"""Building both compilers' objects and measuring them.

Everything the benchmark attaches goes to cgroups it creates below the
cgroup v2 root (TemporaryCgroup) or to sockets it owns; only the load
generator's processes (a child, or the children loadgen -i forks) move into
those cgroups, and they have exited before the cgroups are removed.  bpftool pins only
in a bpffs mounted on a fresh temporary directory, unmounted afterwards.
"""
from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

from pybpfc.abi import TARGET_NETDEV_TC, TARGET_NETDEV_XDP
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime import bpf
from pybpfc.runtime.cgroup import TemporaryCgroup
from pybpfc.runtime.collection import load, load_program

from tests.netns import private_netns
from tests.support import bpftool_sections_unknown, clang_bpf_command, find_tool

from .registry import Twin

HERE = Path(__file__).resolve().parent
COMPILERS = ("clang", "pybpfc")
CLANG_CPU = ("-mcpu=v3",)      # pybpfc's ISA level; the comparisons are at it


def tool(name: str) -> str:
    path = find_tool(name)
    if path is None:
        raise SystemExit(f"benchmark: {name} is not installed (make venv installs it)")
    return path


def clang_command(c_source: Path, out: Path, *extra: str) -> list[str]:
    return clang_bpf_command(tool("clang"), c_source, out, *extra)


def pybpfc_command(source: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "pybpfc", "build", str(source), "-o", str(out)]


# ---------------------------------------------------------------- building


@dataclass(frozen=True)
class Built:
    twin: Twin
    objects: dict[str, Path]       # compiler -> object path


def build_all(twins: Sequence[Twin], out_dir: Path) -> list[Built]:
    out_dir.mkdir(parents=True, exist_ok=True)
    built = []
    for twin in twins:
        py_out = out_dir / f"{twin.name}.pybpfc.o"
        py_out.write_bytes(compile_source(Source(str(twin.source),
                                                 twin.source.read_text())).elf)
        objects = {"pybpfc": py_out}
        # pybpfc emits CPU v3 (32-bit subregisters and jumps): "clang" is
        # clang at the same level; its default CPU, v1, is built for reference.
        for name, extra in (("clang", CLANG_CPU), ("clang-v1", ())):
            objects[name] = out_dir / f"{twin.name}.{name}.o"
            result = subprocess.run(clang_command(twin.c_source, objects[name], *extra),
                                    capture_output=True, text=True)
            if result.returncode:
                raise SystemExit(f"clang failed on {twin.c_source}:\n{result.stderr}")
        built.append(Built(twin, objects))
    return built


def build_loadgen(out_dir: Path) -> Path:
    out = out_dir / "loadgen"
    subprocess.run([tool("gcc"), "-O2", "-Wall", "-o", str(out), str(HERE / "loadgen.c"),
                    str(HERE / "loadgen_ops.c")], check=True)
    return out


# ------------------------------------------------------- instruction counts


@dataclass(frozen=True)
class InsnCount:
    xlated: int        # instructions the kernel holds after its rewrites
    processed: int     # instructions the verifier walked


_PROCESSED = re.compile(r"processed (\d+) insns")


def insn_count(obj: Path, program: str) -> InsnCount:
    """Load ``obj`` with the runtime and ask the kernel: xlated_prog_len / 8
    from BPF_OBJ_GET_INFO_BY_FD, and the verifier's processed count from a
    second load of the same program (as the runtime loads it: BTF, attach
    target) with BPF_LOG_STATS."""
    with load(obj) as coll:
        prog = coll[program]
        xlated = prog.info().xlated_prog_len // bpf.INSN_SIZE
        again = load_program(coll, prog.spec, log_level=bpf.LOG_LEVEL_STATS)
        log = again.verifier_log
        again.close()
    match = _PROCESSED.search(log)
    if match is None:
        raise RuntimeError(f"{obj}: no 'processed N insns' in the verifier log:\n{log}")
    return InsnCount(xlated, int(match.group(1)))


# ------------------------------------------------------------- hook cost


def _move_self_into(cgroup: Optional[Path]) -> Callable[[], None]:
    def move() -> None:
        if cgroup is not None:
            with open(cgroup / "cgroup.procs", "w") as procs:
                procs.write(str(os.getpid()))
    return move


def run_loadgen(loadgen: Path, op: str, iterations: int, cgroup: Optional[Path] = None,
                fd: Optional[int] = None) -> float:
    """One timed run of the load generator: ns per iteration.  With
    ``cgroup``, the child moves itself there before it execs."""
    args = [str(loadgen), op, str(iterations)] + ([str(fd)] if fd is not None else [])
    result = subprocess.run(args, capture_output=True, text=True,
                            preexec_fn=_move_self_into(cgroup),
                            pass_fds=(fd,) if fd is not None else ())
    if result.returncode:
        raise RuntimeError(f"loadgen {op} failed: {result.stderr.strip()}")
    return float(result.stdout)


VARIANTS = ("none",) + COMPILERS


@dataclass(frozen=True)
class HookCost:
    ns: dict[str, float]           # variant -> median ns per iteration over all bursts
    ratio: float                   # median over rounds of the round's pybpfc / clang
    ratio_ci: tuple[float, float]  # 95% confidence interval of that median
    hook_ratio: Optional[float]    # (pybpfc - none) / (clang - none), rounds' median
    rounds: list[float]            # each round's pybpfc / clang, in the order run
    bursts: int                    # bursts per variant in all


@contextlib.contextmanager
def attached_to_cgroup(coll: Any, twin: Twin, cgroup: Path) -> Iterator[None]:
    """Every program of the row attached to ``cgroup``, detached on exit."""
    with contextlib.ExitStack() as stack:
        for program in twin.programs:
            stack.enter_context(coll[program].attach(cgroup))
        yield


@contextlib.contextmanager
def attached_machine_wide(coll: Any, twin: Twin) -> Iterator[None]:
    """Every program of a tracing row attached where its section says
    (perf_event: a CPU clock event per CPU at the scenario's frequency),
    detached on exit."""
    extra = {"frequency": twin.scenario.frequency} if twin.scenario.frequency else {}
    with contextlib.ExitStack() as stack:
        for program in twin.programs:
            stack.enter_context(coll[program].attach(**extra))
        yield


@contextlib.contextmanager
def attached_packet_programs(coll: Any, twin: Twin, cgroup: Path) -> Iterator[None]:
    """Every program of a packet row attached: cgroup_skb ones to
    ``cgroup``, XDP (generic) and tc (ingress) ones to the loopback device
    of the network namespace the caller is in (``private_netns``)."""
    with contextlib.ExitStack() as stack:
        for program in twin.programs:
            prog = coll[program]
            if prog.attach_target == TARGET_NETDEV_XDP:
                stack.enter_context(prog.attach("lo", mode="generic"))
            elif prog.attach_target == TARGET_NETDEV_TC:
                stack.enter_context(prog.attach("lo", direction="ingress"))
            else:
                stack.enter_context(prog.attach(cgroup))
        yield


# What loadgen -i gets for one variant: its VARIANT argument, and the fd it
# must inherit (None: none).
VariantArg = tuple[str, Optional[int]]


def _round_variants(built: Built, stack: contextlib.ExitStack) -> list[VariantArg]:
    """Per variant, the loadgen -i argument that puts its programs in the
    way of one round, all made anew for the round and undone by ``stack``:
    both objects loaded again, a new cgroup with the variant's programs
    attached (none: with nothing attached), a new bound UDP socket carrying
    the filter (none: without), or (packet) the filter's fd for loadgen to
    put on its own packet socket (none: nothing)."""
    twin = built.twin
    args: list[VariantArg] = []
    for variant in VARIANTS:
        coll = None if variant == "none" else stack.enter_context(load(built.objects[variant]))
        if twin.scenario.attach == "socket":
            rx = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
            rx.bind(("127.0.0.1", 0))
            if coll is not None:
                stack.enter_context(coll[twin.program].attach(rx))
            args.append((f"fd={rx.fileno()}", rx.fileno()))
        elif twin.scenario.attach == "packet":
            args.append(("-", None) if coll is None else
                        (f"fd={coll[twin.program].fd}", coll[twin.program].fd))
        else:        # cgroup, and a chain timed with one attachment
            cg = stack.enter_context(TemporaryCgroup(prefix="pybpfc-bench-"))
            if coll is not None:
                stack.enter_context(attached_to_cgroup(coll, twin, cg.path))
            args.append((f"cgroup={cg.path}", None))
    return args


def load_cpu() -> int:
    """The CPU the load generator runs on: BENCH_CPU, else the lowest this
    process may use."""
    return int(os.environ.get("BENCH_CPU", min(os.sched_getaffinity(0))))


@contextlib.contextmanager
def off_cpu(cpu: int) -> Iterator[None]:
    """This (measuring) process kept off ``cpu`` while the block runs, when
    there is another CPU to go to."""
    before = os.sched_getaffinity(0)
    if before - {cpu}:
        os.sched_setaffinity(0, before - {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def interleaved_bursts(loadgen: Path, op: str, cpu: int, burst: int, cycles: int,
                       variants: Sequence[VariantArg]) -> list[list[float]]:
    """One round: ``loadgen -i`` starts a process per variant, pinned to
    ``cpu``, and runs ``cycles`` cycles of one burst of ``burst``
    iterations per variant, in an order that changes every cycle.  Per
    cycle, the variants' ns per iteration."""
    fds = tuple(fd for _, fd in variants if fd is not None)
    result = subprocess.run([str(loadgen), "-i", op, str(cpu), str(burst), str(cycles),
                             str(burst * 10), *(arg for arg, _ in variants)],
                            capture_output=True, text=True, pass_fds=fds, timeout=600)
    if result.returncode:
        raise RuntimeError(f"loadgen -i {op} failed: {result.stderr.strip()}")
    return [[float(x) for x in line.split()] for line in result.stdout.splitlines()]


def median_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """A distribution-free confidence interval of the median of independent
    values: the order statistics x(k) and x(n+1-k) with the largest k whose
    binomial coverage P(k <= B(n, 1/2) <= n-k) is at least ``level``."""
    xs, n = sorted(values), len(values)
    k = 0
    while True:
        nxt = k + 1
        if 2 * nxt > n:
            break
        coverage = sum(math.comb(n, i) for i in range(nxt, n - nxt + 1)) / 2 ** n
        if coverage < level:
            break
        k = nxt
    if k == 0:
        return xs[0], xs[-1]     # too few values for the level: the whole range
    return xs[k - 1], xs[n - k]


def hook_cost(built: Built, loadgen: Path, rounds: int, cycles: int, burst: int,
              cpu: Optional[int] = None) -> HookCost:
    """``rounds`` rounds of interleaved bursts, each with everything new:
    the programs loaded and attached again, new cgroups or sockets, new load
    generator processes.  A round's ratio is
    the median over its cycles of pybpfc's burst / clang's burst; the
    result is the median of the rounds' ratios, with its 95% confidence
    interval over the rounds."""
    cpu = load_cpu() if cpu is None else cpu
    bursts: dict[str, list[float]] = {v: [] for v in VARIANTS}
    ratios, hook_ratios = [], []
    with off_cpu(cpu):
        for _ in range(rounds):
            with contextlib.ExitStack() as stack:
                rows = interleaved_bursts(loadgen, built.twin.scenario.op, cpu, burst, cycles,
                                          _round_variants(built, stack))
            by = {v: [row[i] for row in rows] for i, v in enumerate(VARIANTS)}
            for v in VARIANTS:
                bursts[v] += by[v]
            ratios.append(statistics.median(p / c for p, c in zip(by["pybpfc"], by["clang"])))
            med = {v: statistics.median(by[v]) for v in VARIANTS}
            if med["clang"] > med["none"]:
                hook_ratios.append((med["pybpfc"] - med["none"]) / (med["clang"] - med["none"]))
    hook_ratio = statistics.median(hook_ratios) if len(hook_ratios) > rounds // 2 else None
    return HookCost({v: statistics.median(b) for v, b in bursts.items()},
                    statistics.median(ratios), median_ci(ratios), hook_ratio, ratios,
                    len(bursts["none"]))


# ----------------------------------------------------------- compile time


def wall(command: list[str], env: Optional[dict[str, str]] = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")
    return elapsed


@dataclass(frozen=True)
class CompileTime:
    pybpfc_build: float       # s, `python -m pybpfc build` wall time, median
    clang: float              # s, clang -O2 -g -target bpf -mcpu=v3 -c wall time, median
    in_process: float         # s, compile_source after imports and a warm-up, median


def compile_time(twin: Twin, out_dir: Path, rounds: int) -> CompileTime:
    py_out, c_out = out_dir / f"{twin.name}.ct.pybpfc.o", out_dir / f"{twin.name}.ct.clang.o"
    builds: list[float] = []
    clangs: list[float] = []
    inproc: list[float] = []
    source = Source(str(twin.source), twin.source.read_text())
    compile_source(source)
    # As installed by pip: bytecode compiled and kept, which
    # PYTHONDONTWRITEBYTECODE would forbid for this working tree.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    wall(pybpfc_command(twin.source, py_out), env)    # writes bytecode, parser tables
    for r in range(rounds):
        # Alternate which compiler goes first.
        pair = [("p", pybpfc_command(twin.source, py_out)),
                ("c", clang_command(twin.c_source, c_out, *CLANG_CPU))]
        for kind, command in (pair if r % 2 == 0 else pair[::-1]):
            (builds if kind == "p" else clangs).append(wall(command, env))
        start = time.perf_counter()
        compile_source(source)
        inproc.append(time.perf_counter() - start)
    return CompileTime(statistics.median(builds), statistics.median(clangs),
                       statistics.median(inproc))


# ------------------------------------------------------- load and attach


@dataclass(frozen=True)
class LoadTime:
    runtime_load: float          # s, in-process load, median
    runtime_attach: float        # s, in-process load + attach to a cgroup, median
    bpftool: Optional[float]     # s, `bpftool prog loadall` wall time, median;
                                 # None: this bpftool knows not all its sections


def load_time(obj: Path, twin: Twin, bpffs: Path, rounds: int) -> LoadTime:
    loads, attaches, bpftools = [], [], []
    bpftool = tool("bpftool")
    # Packet rows attach to the loopback device of a namespace of their own.
    netns = private_netns() if twin.scenario.attach == "test_run" else contextlib.nullcontext()
    with TemporaryCgroup(prefix="pybpfc-bench-") as cg, netns:
        for r in range(rounds):
            start = time.perf_counter()
            with load(obj):
                loads.append(time.perf_counter() - start)
            start = time.perf_counter()
            with load(obj) as coll:
                if twin.scenario.attach in ("socket", "packet"):
                    # A packet socket filter attaches to any socket alike.
                    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, \
                            coll[twin.program].attach(s):
                        attaches.append(time.perf_counter() - start)
                elif twin.scenario.attach == "tracing":
                    with attached_machine_wide(coll, twin):
                        attaches.append(time.perf_counter() - start)
                elif twin.scenario.attach == "test_run":
                    with attached_packet_programs(coll, twin, cg.path):
                        attaches.append(time.perf_counter() - start)
                else:
                    with attached_to_cgroup(coll, twin, cg.path):
                        attaches.append(time.perf_counter() - start)
            if bpftool_sections_unknown(obj):
                continue
            pins = bpffs / f"{twin.name}-{r}"
            bpftools.append(wall([bpftool, "prog", "loadall", str(obj), str(pins)]))
            shutil.rmtree(pins)        # unpinning unloads
    return LoadTime(statistics.median(loads), statistics.median(attaches),
                    statistics.median(bpftools) if bpftools else None)
