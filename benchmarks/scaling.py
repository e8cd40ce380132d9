"""Compile time against program size: the same kind of program at 100, 1,000
and 10,000 lines, compiled in process (``check_source``: reading, parsing
and checking; ``compile_source``: the whole build, LLVM included), with
the cycle collector off as ``pybpfc build`` runs.

The target: ten times the lines cost at most twelve times the time.  The
parser once took 45 s for 100,000 lines (a repetition copied its list at
every step); this keeps any stage from growing faster than the program.
"""
from __future__ import annotations

import gc
import time
from typing import Callable

TARGET_FACTOR = 12      # ten times the lines: at most this many times the time

_HEAD = ("from pybpfc import ALLOW, REJECT, SockoptContext, cgroup_setsockopt, u64\n"
         "total: u64 = 0\n")
_HOOK = ("@cgroup_setsockopt\n"
         "def guard(ctx: SockoptContext) -> int:\n"
         "    global total\n")


def _one_hook(lines: int) -> str:
    """One hook of `lines` lines: a branch per option name."""
    branches = "".join(f"    if ctx.optname == {i}:\n        total += {i}\n"
                       for i in range(lines // 2))
    return _HEAD + _HOOK + branches + "    return ALLOW\n"


def _helpers(lines: int) -> str:
    """`lines` lines of small helper functions, and a hook that calls one."""
    helpers = "".join(f"def h{i}(a: u64) -> u64:\n    if a > {i}:\n        return a - {i}\n"
                      f"    return a\n" for i in range(lines // 4))
    return _HEAD + helpers + _HOOK + "    total += h0(total)\n    return ALLOW\n"


def _constants(lines: int) -> str:
    """`lines` module-level constants and globals, and a hook that uses two."""
    declarations = "".join(f"K{i}: Final = {i}\ng{i}: u64 = {i}\n" for i in range(lines // 2))
    return ("from typing import Final\n" + _HEAD + declarations + _HOOK
            + "    total += K0 + g1\n    return ALLOW\n")


FAMILIES: dict[str, Callable[[int], str]] = {
    "one hook of branches": _one_hook,
    "helper functions": _helpers,
    "constants and globals": _constants,
}
SIZES = (100, 1_000, 10_000)


def _best_ms(step: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def measure(quick: bool) -> list[tuple[str, int, int, float, float]]:
    """(family, lines, bytes, check ms, build ms) for every family and size."""
    from pybpfc.compiler.driver import check_source, compile_source
    from pybpfc.compiler.errors import Source
    rounds = 1 if quick else 3
    sizes = SIZES[:2] if quick else SIZES
    compile_source(Source("warm.py", _one_hook(10)))   # imports, tables, LLVM
    rows = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for family, make in FAMILIES.items():
            for lines in sizes:
                source = Source(f"{lines}.py", make(lines))
                rows.append((family, lines, len(source.text.encode()),
                             _best_ms(lambda: check_source(source), rounds),
                             _best_ms(lambda: compile_source(source), rounds)))
    finally:
        if enabled:
            gc.enable()
    return rows


def section(say: Callable[..., None], table: Callable[[list[str], list[list[str]]], list[str]],
            quick: bool) -> bool:
    """Measure, and write the section with the report's `say` and `table`;
    whether the target is met."""
    rows = measure(quick)
    lines: list[list[str]] = []
    worst: dict[str, tuple[float, float]] = {}       # the largest growth, check and build
    previous: dict[str, tuple[float, float]] = {}
    for family, n, size, check_ms, build_ms in rows:
        growth = ["", ""]
        if family in previous:
            check_growth = check_ms / previous[family][0]
            build_growth = build_ms / previous[family][1]
            growth = [f"{check_growth:.1f}x", f"{build_growth:.1f}x"]
            so_far = worst.get(family, (0.0, 0.0))
            worst[family] = (max(so_far[0], check_growth), max(so_far[1], build_growth))
        previous[family] = (check_ms, build_ms)
        lines.append([family, f"{n:,}", f"{size:,}", f"{check_ms:.1f}", growth[0],
                      f"{build_ms:.1f}", growth[1]])
    met = all(max(pair) <= TARGET_FACTOR for pair in worst.values())
    say("## Compile time against program size", "",
        "In-process milliseconds, best of " + ("1" if quick else "3") + ", with the cycle "
        "collector off as `pybpfc build` runs: `check_source` (reading, parsing, checking) "
        "and `compile_source` (the whole build, LLVM included), over programs of one kind "
        "at ten times the lines each step (`benchmarks/scaling.py`).  x: the time against "
        "the size before.", "",
        *table(["program", "lines", "bytes", "check ms", "x", "build ms", "x"], lines), "",
        f"Target: ten times the lines at most {TARGET_FACTOR} times the time, in each "
        "stage: " + "; ".join(f"{family} worst {check:.1f}x (check), {build:.1f}x (build)"
                               for family, (check, build) in worst.items())
        + f": {'met' if met else '**not met**'}.", "")
    return met
