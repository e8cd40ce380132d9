"""The fuzz generator's valid programs, hook by hook: for every hook of the
table, programs generated around that hook compile and the kernel's
verifier accepts them, so each hook (the newest ones too) is covered
whatever hooks a random sample of tests/compiler/test_fuzz_compiler.py
happens to draw.  PYBPFC_FUZZ_SEED replays a run."""
from __future__ import annotations

import os
import random

import pytest

from fuzz.choose import RandomChooser
from fuzz.compile_check import (KNOWN_REJECTION, LOADED, OK, VERIFIER_LIMIT, compile_text,
                                load_compiled)
from fuzz.programs import valid_program_of
from pybpfc import abi
from tests.support import require_root

PER_HOOK = 12


def compile_and_load(programs: list[tuple[int, str]]) -> tuple[list[str], int]:
    """What went wrong with each (seed, text) program, compiled and handed
    to the verifier, and how many loaded."""
    failures, loaded = [], 0
    for s, text in programs:
        compiled = compile_text(text, keep_object=True)
        if compiled.kind != OK or compiled.elf is None:
            failures.append(f"seed {s}: {compiled.kind}: {compiled.detail}\n{text}")
            continue
        outcome = load_compiled(compiled.elf)
        loaded += outcome.kind == LOADED
        if outcome.kind not in (LOADED, KNOWN_REJECTION, VERIFIER_LIMIT):
            failures.append(f"seed {s}: {outcome.kind}: {outcome.detail}\n{text}")
    return failures, loaded


@pytest.mark.parametrize("hook", abi.HOOKS, ids=lambda h: h.decorator)
def test_generated_programs_of_each_hook_pass_the_verifier(hook: abi.Hook) -> None:
    require_root("loading programs")
    seed = int(os.environ.get("PYBPFC_FUZZ_SEED", random.randrange(1 << 32)))
    programs = [(s, valid_program_of(hook, RandomChooser(s)))
                for s in range(seed, seed + PER_HOOK)]
    for _, text in programs:
        assert f"{hook.example_decorator}\n" in text
    failures, loaded = compile_and_load(programs)
    assert not failures, f"seed {seed}: {len(failures)} failed; the first:\n{failures[0]}"
    assert loaded >= PER_HOOK * 3 // 4, (seed, loaded)


TASK_READS_PER_HELPER = 3


@pytest.mark.parametrize("hook", [h for h in abi.HOOKS if "get_current_task" in h.helpers],
                         ids=lambda h: h.decorator)
def test_generated_kernel_struct_reads_pass_the_verifier(hook: abi.Hook) -> None:
    """Generated programs that read the current task's members
    (``get_current_task().tgid``, ``get_current_task_btf().pid``) compile,
    and the verifier accepts them, through either helper."""
    require_root("loading programs")
    seed = int(os.environ.get("PYBPFC_FUZZ_SEED", random.randrange(1 << 32)))
    chosen: dict[str, list[tuple[int, str]]] = {"get_current_task().": [],
                                                 "get_current_task_btf().": []}
    for s in range(seed, seed + 200):
        if all(len(found) == TASK_READS_PER_HELPER for found in chosen.values()):
            break
        text = valid_program_of(hook, RandomChooser(s))
        for read, found in chosen.items():
            if read in text and len(found) < TASK_READS_PER_HELPER:
                found.append((s, text))
                break
    programs = [p for found in chosen.values() for p in found]
    assert len(programs) == 2 * TASK_READS_PER_HELPER, (seed, chosen)
    failures, loaded = compile_and_load(programs)
    assert not failures, f"seed {seed}: {len(failures)} failed; the first:\n{failures[0]}"
    assert loaded >= len(programs) * 2 // 3, (seed, loaded)
