"""The long fuzz runs (``make fuzz``): the compiler over generated programs,
a sample of the valid ones through the kernel verifier, the runtime over
malformed objects, the reading of source over byte-level mutations judged
against Python's own reading, and programs that grow in size.  Prints what
was tried and found; exits 1 if anything new went wrong (an internal error,
a crash, a hang, a rejected valid program, a leaked file descriptor, a
disagreement with Python, a cost out of proportion to the input).

    python -m fuzz [--compiler N] [--kernel N] [--runtime N] [--source N] [--sizes]
                   [--differential N] [--seed S] [--jobs J]
"""
from __future__ import annotations

import argparse
import collections
import multiprocessing
import random
import sys
import time
from typing import Any

from .choose import RandomChooser
from .compile_check import (INTERNAL, KNOWN_REJECTION, LOADED, VERIFIER_LIMIT,
                            compile_generated, known_finding, load_generated)
from .isolate import CRASH, TIMEOUT, run_isolated
from .programs import GENERATORS

CHUNK = 250
SHOWN = 5       # problems printed in full per run


def _compile_chunk(items: list[tuple[str, int]]) -> tuple[collections.Counter[str], list[str]]:
    counts: collections.Counter[str] = collections.Counter()
    problems = []
    for (generator, seed), (kind, detail) in run_isolated(compile_generated, items):
        if kind in (INTERNAL, CRASH):
            finding = known_finding(detail)
            if finding:
                counts[f"known finding {finding}"] += 1
                continue
            counts["NEW internal error"] += 1
            problems.append(f"{generator} seed {seed}: {detail}")
            continue
        counts[f"{generator}: {kind}"] += 1
    return counts, problems


def _load_chunk(seeds: list[int]) -> tuple[collections.Counter[str], list[str]]:
    counts: collections.Counter[str] = collections.Counter()
    problems = []
    for seed, (kind, detail) in run_isolated(load_generated, seeds, time_limit=3):
        if kind == TIMEOUT:
            kind = VERIFIER_LIMIT
        if kind in (INTERNAL, CRASH) and known_finding(detail):
            kind, detail = KNOWN_REJECTION, f"{known_finding(detail)} (compile)"
        if kind == KNOWN_REJECTION:
            counts[f"known finding {detail}"] += 1
        elif kind in (LOADED, VERIFIER_LIMIT, "compile error"):
            counts[kind] += 1
        else:
            counts[f"NEW {kind}"] += 1
            problems.append(f"valid seed {seed}: {kind}: {detail}")
    return counts, problems


_BASES: Any = None


def _object_chunk(seeds: list[int]) -> tuple[collections.Counter[str], list[str]]:
    from .object_check import INTERNAL as OBJECT_INTERNAL
    from .object_check import check_object
    from .objects import base_objects, malformed_object
    global _BASES
    if _BASES is None:
        _BASES = base_objects()
    counts: collections.Counter[str] = collections.Counter()
    problems = []
    for seed in seeds:
        how, data = malformed_object(RandomChooser(seed), _BASES)
        outcome = check_object(data, in_kernel=True)
        counts[outcome.kind] += 1
        counts["leaked fds"] += outcome.leaked_fds
        if outcome.kind == OBJECT_INTERNAL or outcome.leaked_fds:
            counts["NEW problem"] += 1
            problems.append(f"object seed {seed} ({how}): {outcome}")
    return counts, problems


def _source_chunk(seeds: list[int]) -> tuple[collections.Counter[str], list[str]]:
    from .source_check import PROBLEMS, judge_mutated
    counts: collections.Counter[str] = collections.Counter()
    problems = []
    for seed, (kind, detail) in run_isolated(judge_mutated, seeds, time_limit=20):
        if kind in PROBLEMS or kind in (CRASH, TIMEOUT):
            counts[f"NEW {kind}"] += 1
            problems.append(f"source seed {seed}: {kind}: {detail}")
        else:
            counts[kind] += 1
    return counts, problems


def _sizes() -> int:
    """Every family of growing programs at every size; the number of problems."""
    from .source_sizes import FAMILIES, SIZES, scaling_problems
    started = time.monotonic()
    lines, problems = [], []
    for family in FAMILIES:
        measured, found = scaling_problems(family)
        problems += found
        lines.append(f"   {family:26} " + "  ".join(
            f"{m.seconds * 1000:9.1f} ms {m.peak_growth >> 20:4d} MB" for m in measured))
    print(f"== program sizes {', '.join(f'{s:,}' for s in SIZES)} bytes (best of 3, "
          f"check only, CPU time) in {time.monotonic() - started:.0f} s; "
          f"new problems: {len(problems)}")
    print("\n".join(lines))
    for problem in problems[:SHOWN]:
        print(f"   -- {problem}")
    sys.stdout.flush()
    return len(problems)


def _run(name: str, worker: Any, items: list[Any], jobs: int) -> int:
    """Run ``worker`` over chunks of ``items`` in ``jobs`` processes; print
    the counts; return the number of new problems."""
    started = time.monotonic()
    chunks = [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]
    totals: collections.Counter[str] = collections.Counter()
    problems: list[str] = []
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for counts, found in pool.imap_unordered(worker, chunks):
            totals.update(counts)
            problems += found
    new = sum(v for k, v in totals.items() if k.startswith("NEW"))
    print(f"== {name}: {len(items)} inputs in {time.monotonic() - started:.0f} s; "
          f"new problems: {new}")
    for key in sorted(totals):
        print(f"   {key}: {totals[key]}")
    for problem in problems[:SHOWN]:
        print(f"   -- {problem}")
    sys.stdout.flush()
    return new


def _differential(count: int, seed: int) -> int:
    """The interpreter as an oracle: each disagreement with the kernel is new."""
    from .differential import Kernel, Tally, generated
    started = time.monotonic()
    tally = Tally()
    with Kernel() as kernel:
        generated(kernel, tally, count, first_seed=seed)
    print(f"== differential (interpreter against kernel): {tally.compared} programs compared "
          f"in {time.monotonic() - started:.0f} s; left out: {dict(tally.skipped)}")
    for problem in tally.disagreements[:SHOWN]:
        print(f"  {problem}")
    return len(tally.disagreements)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--compiler", type=int, default=50_000)
    parser.add_argument("--kernel", type=int, default=1_000)
    parser.add_argument("--runtime", type=int, default=50_000)
    parser.add_argument("--source", type=int, default=20_000,
                        help="byte-level mutations of program files, judged against Python")
    parser.add_argument("--sizes", action="store_true",
                        help="time and memory of growing programs")
    parser.add_argument("--differential", type=int, default=0,
                        help="valid programs run in the interpreter and in the kernel, "
                             "compared (fuzz/differential.py)")
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 32))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    print(f"seed {args.seed} (replay with --seed {args.seed})")
    names = sorted(GENERATORS)
    new = 0
    if args.compiler:
        inputs = [(names[i % len(names)], args.seed + i) for i in range(args.compiler)]
        new += _run("compiler", _compile_chunk, inputs, args.jobs)
    if args.kernel:
        new += _run("kernel verifier (valid programs)", _load_chunk,
                    [args.seed + i for i in range(args.kernel)], args.jobs)
    if args.runtime:
        new += _run("runtime (malformed objects)", _object_chunk,
                    [args.seed + i for i in range(args.runtime)], args.jobs)
    if args.source:
        new += _run("source files (byte mutations, against Python)", _source_chunk,
                    [args.seed + i for i in range(args.source)], args.jobs)
    if args.sizes:
        new += _sizes()
    if args.differential:
        new += _differential(args.differential, args.seed)
    print(f"total new problems: {new}")
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
