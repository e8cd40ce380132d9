"""Programs that grow: each family makes a program of about N bytes, in the
shapes that made the parser quadratic or its memory unbounded before
(long repetitions, long tokens, deep nesting, long lines), and in the
shapes a hostile file would try next.

:func:`measure` reads, parses and checks one of them (what ``pybpfc check``
does) in a forked child, with its address space limited, and reports the
time and the memory it took.  :func:`scaling_problems` holds a family to
its bounds: ten times the bytes may cost at most ``TIME_FACTOR`` times the
time, memory grows in proportion to the input, and nothing ends otherwise
than with the program checked or refused with a located error.

The time judged is the child's CPU time: on a busy machine the wall-clock
time of the large sizes is mostly other processes' (three to four times the
CPU time with a load of seven on two CPUs), which made linear work look
superlinear.  A hang still meets the wall-clock limit.
"""
from __future__ import annotations

import gc
import os
import resource
import time
from typing import Callable, NamedTuple

from .isolate import CRASH, TIMEOUT, run_isolated

HOOK = ("from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, u32\n"
        "@cgroup_sysctl\n"
        "def guard(ctx: SysctlContext) -> int:\n"
        "    x: u32 = 0\n")


def _repeat(head: str, unit: str, tail: str) -> Callable[[int], bytes]:
    def make(size: int) -> bytes:
        return (head + unit * max(1, (size - len(head) - len(tail)) // len(unit)) + tail).encode()
    return make


# family -> (bytes of about `size` -> program)
FAMILIES: dict[str, Callable[[int], bytes]] = {
    "statements": _repeat(HOOK, "    x = x + 1\n", "    return ALLOW\n"),
    "blank and comment lines": _repeat(HOOK, "\n    # a comment\n\n", "    return ALLOW\n"),
    "operands over lines": _repeat(HOOK + "    x = (1\n", "         + 1\n",
                                   "    )\n    return ALLOW\n"),
    "list items": _repeat(HOOK + "    y = [\n", "        1,\n", "    ]\n    return ALLOW\n"),
    "string concatenation": _repeat(HOOK + "    y = (\n", "        'ab'\n",
                                    "    )\n    return ALLOW\n"),
    "triple-quoted string": _repeat(HOOK + '    """', "text \\\\ line\n",
                                    '"""\n    return ALLOW\n'),
    "unterminated string": _repeat(HOOK + "    y = '''", "\\\\\\'\n", ""),
    "elif branches": _repeat(HOOK + "    if ctx.write:\n        x = 0\n",
                             "    elif ctx.write:\n        x = 1\n", "    return ALLOW\n"),
    "helpers": _repeat(HOOK + "    return ALLOW\n", "def h(a: u32) -> u32:\n    return a + 1\n",
                       ""),
    "unary chain": lambda size: _repeat(HOOK + "    x = ", "-", "1\n    return ALLOW\n")(
        min(size, 60_000)),
    "deep brackets": _repeat(HOOK + "    x = ", "(", "1\n"),
    "long name": lambda size: (HOOK + "    " + "n" * min(size, 60_000) + " = 1\n").encode(),
    "long number": lambda size: (HOOK + "    x = 0x" + "f" * min(size, 60_000) + "\n").encode(),
    "deep indentation": lambda size: "".join(
        " " * i + "if x:\n" for i in range(max(1, int((2 * size) ** 0.5)))).encode(),
    "null byte at the end": _repeat(HOOK, "    # a comment line\n", "\x00\n"),
}

SIZES = (1_000, 10_000, 100_000, 1_000_000)
TIME_FACTOR = 15        # ten times the bytes: at most this many times the time
TIME_SLACK = 0.05       # seconds: timer noise on tiny inputs
MEMORY_PER_BYTE = 1_000  # bytes of peak growth allowed per input byte...
MEMORY_BASE = 64 << 20   # ...above this
ADDRESS_SPACE = 4 << 30  # a child that needs more fails instead of swapping the machine


class Measurement(NamedTuple):
    outcome: str        # "ok", "compile error", "internal error: ...", "crash", "timeout"
    seconds: float      # CPU time (the wall-clock limit, for a timeout)
    peak_growth: int    # bytes the child's resident set grew at its peak
    wall: float = 0.0   # wall-clock seconds, shown only


def _check_bytes(item: tuple[str, int]) -> Measurement:
    from pybpfc.compiler.driver import check_source
    from pybpfc.compiler.errors import CompileError
    from pybpfc.compiler.source import decode_source
    family, size = item
    data = FAMILIES[family](size)
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    gc.disable()    # as the command line compiles
    before = _resident()
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        check_source(decode_source(data, "big.py"))
        outcome = "ok"
    except CompileError:
        outcome = "compile error"
    except Exception as err:
        outcome = f"internal error: {type(err).__name__}: {err}"
    seconds, wall = time.process_time() - cpu_started, time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return Measurement(outcome, seconds, max(0, peak - before), wall)


def _resident() -> int:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(family: str, size: int, time_limit: float = 60) -> Measurement:
    """One program of `family` of about `size` bytes, checked in a new child."""
    # Warm the parser's tables here, so the child measures only the program.
    from pybpfc.compiler import lalr
    lalr.language()
    ((_, result),) = run_isolated(_check_bytes, [(family, size)], time_limit=time_limit)
    if isinstance(result, Measurement):
        return result
    kind, detail = result
    return Measurement(f"{kind}: {detail}" if kind in (CRASH, TIMEOUT) else kind, time_limit, 0,
                       time_limit)


def scaling_problems(family: str, sizes: tuple[int, ...] = SIZES, rounds: int = 3,
                     time_factor: float = TIME_FACTOR,
                     time_limit: float = 60) -> tuple[list[Measurement], list[str]]:
    """Measurements of `family` at each size (the best of `rounds`, which
    take turns over the sizes, so that other load on the machine meets all
    sizes alike) and what is wrong with them."""
    runs: list[list[Measurement]] = [[] for _ in sizes]
    for _ in range(rounds):
        for at, size in enumerate(sizes):
            runs[at].append(measure(family, size, time_limit))
    measured = [min(size_runs, key=lambda m: m.seconds) for size_runs in runs]
    problems = []
    for size, size_runs, best in zip(sizes, runs, measured):
        for run in size_runs:
            if run.outcome not in ("ok", "compile error"):
                problems.append(f"{family}, {size:,} bytes: {run.outcome}")
                break
        if best.peak_growth > MEMORY_BASE + MEMORY_PER_BYTE * size:
            problems.append(f"{family}, {size:,} bytes: grew by {best.peak_growth >> 20} MB")
    for (small, big), (m_small, m_big) in zip(zip(sizes, sizes[1:]),
                                              zip(measured, measured[1:])):
        allowed = time_factor * (big / small) / 10 * m_small.seconds + TIME_SLACK
        if m_big.seconds > allowed:
            problems.append(f"{family}: {big:,} bytes took {m_big.seconds:.3f} s, "
                            f"{small:,} bytes {m_small.seconds:.3f} s")
    return measured, problems
