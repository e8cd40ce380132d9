"""Each benchmarked example and its C twin (benchmarks/c/) do the same in
the kernel: the scenario's probe, run against pybpfc's object and against
clang's, sees the same errnos and values, and the example's globals end up
with the same contents.  So the benchmark compares like with like.

Safety: programs attach only to cgroups made here (TemporaryCgroup) or to
sockets owned here; only forked children move into the cgroups, and the
one sysctl write happens in a child's private network namespace.
"""
from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kernel import REPO_ROOT, require_kernel_feature, require_root, run_in_cgroup

sys.path.insert(0, str(REPO_ROOT))
from benchmarks import harness  # noqa: E402
from benchmarks.registry import C_DIR, REGISTRY, Twin  # noqa: E402
from pybpfc.compiler.driver import compile_source  # noqa: E402
from pybpfc.compiler.errors import Source  # noqa: E402
from pybpfc.runtime.cgroup import TemporaryCgroup  # noqa: E402
from pybpfc.runtime.collection import load  # noqa: E402


def plain(value: Any) -> Any:
    """A global's value as plain data (structs come as dict subclasses,
    arrays as lists), so two objects' values compare."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def observe(obj: Path, twin: Twin) -> tuple[Any, dict[str, Any]]:
    """The scenario's probe against one object, and the example's globals
    afterwards."""
    wanted = compile_source(Source(str(twin.source), twin.source.read_text())).plan.globals
    with load(obj) as coll:
        program = coll[twin.program]
        if twin.scenario.attach == "socket":
            seen = twin.scenario.probe(program.attach)
        else:
            with TemporaryCgroup() as cg, program.attach(cg.path):
                seen = run_in_cgroup(cg.path, twin.scenario.probe)
        return seen, {g.name: plain(coll.globals[g.name]) for g in wanted}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, harness.Built]:
    require_kernel_feature("clang", shutil.which("clang") is not None, "clang is not installed")
    objects = harness.build_all(REGISTRY, tmp_path_factory.mktemp("twins"))
    return {b.twin.name: b for b in objects}


def test_every_example_has_a_registered_twin() -> None:
    examples = sorted(p.stem for p in (REPO_ROOT / "examples").glob("*.py"))
    assert sorted(t.name for t in REGISTRY) == examples
    assert sorted(p.stem for p in C_DIR.glob("*.c")) == examples


@pytest.mark.parametrize("twin", REGISTRY, ids=lambda t: t.name)
def test_twins_behave_alike(twin: Twin, built: dict[str, harness.Built]) -> None:
    require_root("attaching programs")
    objects = built[twin.name].objects
    clang_seen, clang_globals = observe(objects["clang"], twin)
    pybpfc_seen, pybpfc_globals = observe(objects["pybpfc"], twin)
    assert pybpfc_seen == clang_seen
    assert pybpfc_globals == clang_globals
    # The probe exercises the program: what it sees differs from a run with
    # no program attached, or the program's counters moved.
    assert pybpfc_seen != observe_without_program(twin) or nonzero(pybpfc_globals), \
        (pybpfc_seen, pybpfc_globals)


def nonzero(value: Any) -> bool:
    if isinstance(value, dict):
        return any(nonzero(v) for v in value.values())
    if isinstance(value, list):
        return any(nonzero(v) for v in value)
    return bool(value)


def observe_without_program(twin: Twin) -> Any:
    if twin.scenario.attach == "socket":
        return twin.scenario.probe(lambda sock: contextlib.nullcontext())
    with TemporaryCgroup() as cg:
        return run_in_cgroup(cg.path, twin.scenario.probe)


@pytest.mark.parametrize("twin", REGISTRY, ids=lambda t: t.name)
def test_twins_load_and_count_instructions(twin: Twin, built: dict[str, harness.Built]
                                           ) -> None:
    """The counts the report shows come from the kernel for both objects."""
    require_root("loading programs")
    for obj in built[twin.name].objects.values():
        count = harness.insn_count(obj, twin.program)
        assert count.xlated > 0 and count.processed >= 1


def test_load_generator_builds_and_times_each_scenario(tmp_path: Path) -> None:
    require_kernel_feature("gcc", shutil.which("gcc") is not None, "gcc is not installed")
    loadgen = harness.build_loadgen(tmp_path)
    for op in sorted({t.scenario.op for t in REGISTRY} - {"send_recv"}):
        assert harness.run_loadgen(loadgen, op, 50) > 0
    bad = subprocess.run([str(loadgen), "no_such_op", "1"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown op" in bad.stderr
