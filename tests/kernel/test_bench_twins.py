"""Each benchmarked program (examples/, benchmarks/programs/) and its C twin
(benchmarks/c/) do the same in the kernel: the scenario's probe, run
against pybpfc's object and against clang's, sees the same errnos and
values, and the program's globals and maps end up with the same contents.
So the benchmark compares like with like.

Safety: programs attach only to cgroups made here (TemporaryCgroup) or to
sockets owned here; only forked children move into the cgroups, and
sysctl writes and packet sockets on lo happen in a child's private network
namespace.  Tracing programs attach machine-wide but only watch; the
probe that triggers them runs in a forked child.
"""
from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.runtime.conftest import Forked
from tests.support import require_kernel_feature, require_root, run_in_cgroup

from benchmarks import harness, side_by_side
from benchmarks.registry import (C_DIR, EXAMPLE_TWINS, EXAMPLES_DIR, PROGRAM_TWINS,
                                 PROGRAMS_DIR, REGISTRY, Twin)
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.cgroup import TemporaryCgroup
from pybpfc.runtime.collection import Collection, load
from pybpfc.runtime.elf import read_object
from pybpfc.abi import kernel
from pybpfc.runtime.packet_run import verdict_name
from pybpfc.runtime.maps import (CgroupStorageMap, PerCpuMap, RingBufMap,
                                 SkStorageMap)


# What each packet hook returns to let a packet through unchanged.
PASS_VALUE = {kernel.BPF_PROG_TYPE_XDP: kernel.XDP_ACTIONS["XDP_PASS"],
              kernel.BPF_PROG_TYPE_SCHED_CLS: kernel.TC_ACTIONS["TC_ACT_OK"],
              kernel.BPF_PROG_TYPE_CGROUP_SKB: 1}


def plain(value: Any) -> Any:
    """A global's value as plain data (structs come as dict subclasses,
    arrays as lists), so two objects' values compare."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def summed(values: list[Any]) -> Any:
    """Per-CPU values added up: numbers, or structs field by field."""
    if values and isinstance(values[0], dict):
        return {k: summed([v[k] for v in values]) for k in values[0]}
    return sum(values)


def nonzero(value: Any) -> bool:
    if isinstance(value, dict):
        return any(nonzero(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(nonzero(v) for v in value)
    return bool(value)


def maps_state(coll: Collection, names: list[str]) -> dict[str, Any]:
    """What the example's maps hold, comparable between two loads: per-CPU
    values summed over the CPUs (the CPU a hook ran on is chance), cgroup
    storage by value (its keys are cgroup ids, new for every run), ring
    buffers as their pending records, other maps as their non-zero entries.
    Socket storage cannot be listed; the probes read it back through the
    programs instead."""
    state: dict[str, Any] = {}
    for name in names:
        m = coll.maps[name]
        if isinstance(m, RingBufMap):
            with m.reader() as ring:
                state[name] = ring.read_raw()
        elif isinstance(m, SkStorageMap):
            continue
        elif isinstance(m, CgroupStorageMap):
            state[name] = sorted((plain(v) for _, v in m.items()), key=repr)
        else:
            entries = []
            for key, value in m.items():
                if isinstance(m, PerCpuMap):
                    value = summed([plain(v) for v in value])
                if nonzero(plain(value)):     # an array holds every key: skip the zeros
                    entries.append((plain(key), plain(value)))
            state[name] = sorted(entries, key=repr)
    return state


def state_of(coll: Collection, twin: Twin) -> dict[str, Any]:
    """The example's globals and maps, as plain data."""
    plan = compile_source(Source(str(twin.source), twin.source.read_text())).plan
    return {**{g.name: plain(coll.globals[g.name]) for g in plan.globals},
            **maps_state(coll, [m.name for m in plan.maps])}


def forked(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a forked child, for a probe that moves into a network
    namespace of its own; the child sits in a temporary cgroup."""
    with TemporaryCgroup() as cg:
        return run_in_cgroup(cg.path, fn, *args)


def observe(obj: Path, twin: Twin) -> tuple[Any, Any]:
    """The scenario's probe against one object, and the example's globals
    and maps afterwards."""
    sc = twin.scenario
    if sc.attach == "chain":
        return observe_chain(obj, twin)
    if sc.attach == "tracing":
        return observe_tracing(obj, twin)
    with load(obj) as coll:
        if sc.attach == "test_run":
            if sc.prepare is not None:
                sc.prepare(coll.maps)
            def run(frame: bytes) -> list[tuple[str, str, bytes]]:
                outs = [(p, coll[p].run_packet(frame)) for p in twin.programs]
                return [(p, out.verdict, out.packet) for p, out in outs]
            return sc.probe(run), state_of(coll, twin)
        if sc.attach == "socket":
            return sc.probe(coll[twin.program].attach), state_of(coll, twin)
        if sc.attach == "packet":
            return forked(sc.probe, coll[twin.program].attach), state_of(coll, twin)
        with TemporaryCgroup() as cg, harness.attached_to_cgroup(coll, twin, cg.path):
            seen = run_in_cgroup(cg.path, sc.probe)
            # Read while the cgroup lives: its cgroup storage goes with it.
            return seen, state_of(coll, twin)


def observe_chain(obj: Path, twin: Twin) -> tuple[Any, Any]:
    """One load of the object per layer, attached to nested cgroups
    (outermost first); the probe runs in each cgroup, innermost first."""
    with contextlib.ExitStack() as stack:
        cgroups: list[TemporaryCgroup] = []
        colls: list[Collection] = []
        for layer in twin.scenario.layers:
            parent = cgroups[-1].path if cgroups else None
            cgroups.append(stack.enter_context(TemporaryCgroup(parent=parent)))
            spec = read_object(obj)
            spec.set_global("layer", layer)
            colls.append(stack.enter_context(load(spec)))
            stack.enter_context(harness.attached_to_cgroup(colls[-1], twin, cgroups[-1].path))
        seen = [run_in_cgroup(cg.path, twin.scenario.probe) for cg in reversed(cgroups)]
        return seen, [state_of(coll, twin) for coll in colls]


def observe_tracing(obj: Path, twin: Twin) -> tuple[Any, Any]:
    """The probe in a forked child while the programs watch the whole
    machine; of the maps, what the scenario selects as that child's."""
    sc = twin.scenario
    with Forked(sc.probe) as child:
        spec = read_object(obj)
        if sc.target_global:
            spec.set_global(sc.target_global, child.pid)
        with load(spec) as coll, harness.attached_machine_wide(coll, twin):
            seen = child.run()
            return seen, sc.select(state_of(coll, twin), child.pid)


def observe_without_program(twin: Twin, obj: Path) -> Any:
    sc = twin.scenario
    if sc.attach == "tracing":
        with Forked(sc.probe) as child:
            return child.run()
    if sc.attach == "test_run":
        # No program: every packet goes on unchanged, as the hook's pass.
        kinds = {p: read_object(obj).programs[p].prog_type for p in twin.programs}
        return sc.probe(lambda frame: [(p, verdict_name(kinds[p], PASS_VALUE[kinds[p]]), frame)
                                       for p in twin.programs])
    if sc.attach == "socket":
        return sc.probe(lambda sock: contextlib.nullcontext())
    if sc.attach == "packet":
        return forked(sc.probe, lambda sock: contextlib.nullcontext())
    with TemporaryCgroup() as cg:
        if sc.attach == "chain":     # a probe per cgroup, as observe_chain runs it
            with contextlib.ExitStack() as stack:
                cgroups = [cg]
                for _ in sc.layers[1:]:
                    cgroups.append(stack.enter_context(TemporaryCgroup(parent=cgroups[-1].path)))
                return [run_in_cgroup(c.path, sc.probe) for c in reversed(cgroups)]
        return run_in_cgroup(cg.path, sc.probe)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, harness.Built]:
    require_kernel_feature("clang", shutil.which("clang") is not None, "clang is not installed")
    objects = harness.build_all(REGISTRY, tmp_path_factory.mktemp("twins"))
    return {b.twin.name: b for b in objects}


def test_every_program_has_a_registered_twin() -> None:
    examples = sorted(p.stem for p in EXAMPLES_DIR.glob("*.py"))
    programs = sorted(p.stem for p in PROGRAMS_DIR.glob("*.py"))
    assert sorted(t.name for t in EXAMPLE_TWINS) == examples
    assert sorted(t.name for t in PROGRAM_TWINS) == programs
    assert sorted(p.stem for p in C_DIR.glob("*.c")) == sorted(examples + programs)


@pytest.mark.parametrize("twin", REGISTRY, ids=lambda t: t.name)
def test_twins_define_the_same_programs_and_maps(twin: Twin,
                                                 built: dict[str, harness.Built]) -> None:
    """So the runtime loads both alike: the same program names in the same
    sections, the same maps (type, sizes, entries, flags)."""
    def shape(obj: Path) -> tuple[Any, ...]:
        spec = read_object(obj)
        return ({p.name: p.section for p in spec.programs.values()},
                {m.name: (m.map_type, m.key_size, m.value_size, m.max_entries, m.flags)
                 for m in spec.maps.values()})
    objects = built[twin.name].objects
    assert shape(objects["clang"]) == shape(objects["pybpfc"])
    assert sorted(shape(objects["pybpfc"])[0]) == sorted(twin.programs)


@pytest.mark.parametrize("twin", REGISTRY, ids=lambda t: t.name)
def test_twins_behave_alike(twin: Twin, built: dict[str, harness.Built]) -> None:
    require_root("attaching programs")
    objects = built[twin.name].objects
    clang_seen, clang_state = observe(objects["clang"], twin)
    pybpfc_seen, pybpfc_state = observe(objects["pybpfc"], twin)
    assert pybpfc_seen == clang_seen
    assert pybpfc_state == clang_state
    # The probe exercises the programs: what it sees differs from a run
    # with none attached.  (Rows whose hooks only count, where the probe
    # cannot tell, at least moved the counters.)
    assert pybpfc_seen != observe_without_program(twin, objects["pybpfc"]) or nonzero(pybpfc_state), \
        (pybpfc_seen, pybpfc_state)


@pytest.mark.parametrize("twin", REGISTRY, ids=lambda t: t.name)
def test_twins_load_and_count_instructions(twin: Twin, built: dict[str, harness.Built]
                                           ) -> None:
    """The counts the report shows come from the kernel for both objects."""
    require_root("loading programs")
    for obj in built[twin.name].objects.values():
        for program in twin.programs:
            count = harness.insn_count(obj, program)
            assert count.xlated > 0 and count.processed >= 1


def test_load_generator_builds_and_times_each_scenario(tmp_path: Path) -> None:
    require_kernel_feature("gcc", shutil.which("gcc") is not None, "gcc is not installed")
    loadgen = harness.build_loadgen(tmp_path)
    # test_run rows are timed by packet_runs.py through the kernel, not loadgen.
    for op in sorted({t.scenario.op for t in REGISTRY} - {"send_recv", "test_run"}):
        assert harness.run_loadgen(loadgen, op, 50) > 0, op
    bad = subprocess.run([str(loadgen), "no_such_op", "1"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown op" in bad.stderr


FINDINGS_DIR = C_DIR.parent / "findings"


@pytest.mark.parametrize("source", sorted(FINDINGS_DIR.glob("*.py")), ids=lambda p: p.stem)
def test_findings_pairs_build_and_list_side_by_side(source: Path, tmp_path: Path) -> None:
    """benchmarks/findings/: each minimal program of FINDINGS.md has its C
    twin beside it, both compile, and side_by_side lists both."""
    require_kernel_feature("clang", shutil.which("clang") is not None, "clang is not installed")
    assert source.with_suffix(".c").is_file()
    listing = side_by_side.listings(side_by_side.file_pair(source), tmp_path)
    programs = read_object(tmp_path / f"{source.stem}.pybpfc.o").programs
    assert programs
    for program in programs:
        assert f"{program} (" in listing and f"<{program}>:" in listing
