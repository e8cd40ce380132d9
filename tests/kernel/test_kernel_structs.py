"""Kernel structs through BTF, compiled from Python: a forked child makes
a system call, and programs attached to the raw tracepoint sys_enter read
its task_struct two ways, through get_current_task_btf() (direct loads the
verifier checks against BTF) and get_current_task() (probe reads), each
with CO-RE relocations the kernel applies at load.  The values must be the
child's: its pid and tgid, its parent's tgid (what getppid() returned in
it) and its comm.

Safety: nothing is attached to a cgroup; the programs watch the whole
machine and keep only what the child's thread group does.
"""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from pybpfc.abi import kernel
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime import bpf
from pybpfc.runtime.collection import Collection, load
from pybpfc.runtime.core import describe
from pybpfc.runtime.elf import read_object
from pybpfc.runtime.spec import decode_insn
from tests.runtime.conftest import Forked
from tests.runtime.test_tracing_core import vmlinux_struct, xlated
from tests.support import REPO_ROOT, bpftool_loadall, require_root

pytestmark = pytest.mark.kernel

# Both programs keep what the child's thread group does only.
HEAD = '''
from pybpfc import (RawTracepointArgs, get_current_pid_tgid, get_current_task,
                    get_current_task_btf, raw_tracepoint, u32, u64)

LICENSE = "GPL"

target_tgid: u32 = 0
'''

READS = HEAD + '''btf_pid: u32 = 0
btf_tgid: u32 = 0
btf_ppid: u32 = 0
btf_comm: bytearray = bytearray(16)
probe_pid: u32 = 0
probe_tgid: u32 = 0
probe_ppid: u32 = 0
probe_comm: bytearray = bytearray(16)
task_address: u64 = 0


@raw_tracepoint("sys_enter")
def by_btf(ctx: RawTracepointArgs) -> int:
    global btf_pid, btf_tgid, btf_ppid, btf_comm
    if u32(get_current_pid_tgid() >> 32) != target_tgid:
        return 0
    task = get_current_task_btf()
    btf_pid = u32(task.pid)
    btf_tgid = u32(task.tgid)
    btf_ppid = u32(task.real_parent.tgid)
    btf_comm = task.comm
    return 0


@raw_tracepoint("sys_enter")
def by_probe(ctx: RawTracepointArgs) -> int:
    global probe_pid, probe_tgid, probe_ppid, probe_comm, task_address
    if u32(get_current_pid_tgid() >> 32) != target_tgid:
        return 0
    task = get_current_task()
    task_address = u64(task)
    probe_pid = u32(task.pid)
    probe_tgid = u32(task.tgid)
    probe_ppid = u32(task.real_parent.tgid)
    probe_comm = task.comm
    return 0
'''


def build(tmp_path: Path, name: str, text: str) -> Path:
    obj = tmp_path / f"{name}.o"
    obj.write_bytes(compile_source(Source(str(tmp_path / f"{name}.py"), text)).elf)
    return obj


@contextmanager
def all_attached(coll: Collection) -> Iterator[None]:
    links = [program.attach() for program in coll.programs.values()]
    try:
        yield
    finally:
        for link in links:
            link.close()


def comm(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode()


def child_comm() -> str:
    return Path("/proc/self/comm").read_text().strip()


def test_both_ways_read_the_childs_task(tmp_path: Path) -> None:
    require_root("attaching tracing programs")
    obj = build(tmp_path, "task_reads", READS)
    with load(obj) as coll, Forked(lambda: (os.getppid(), child_comm())) as child:
        coll.globals["target_tgid"] = child.pid
        with all_attached(coll):
            ppid, name = child.run()
        read = {name: coll.globals[name] for name in coll.globals}
    assert ppid == os.getpid()
    for way in ("btf", "probe"):
        assert (read[f"{way}_pid"], read[f"{way}_tgid"], read[f"{way}_ppid"],
                comm(read[f"{way}_comm"])) == (child.pid, child.pid, ppid, name), way
    # A kernel address (the upper half of the address space).
    assert read["task_address"] >> 63 == 1


def test_relocations_name_the_fields_read(tmp_path: Path) -> None:
    """The object says which kernel fields it reads, by name, as clang's
    preserve_access_index does: field-offset relocations for each field
    read (LLVM may share one relocated offset between two reads of a
    field)."""
    spec = read_object(build(tmp_path, "task_reads", READS))
    assert spec.btf is not None
    # (A struct name may carry a flavor suffix, ___N, which CO-RE ignores.)
    fields = {name: {re.sub(r"___\d+", "", describe(spec.btf, r))
                     for r in program.core_relocations}
              for name, program in spec.programs.items()}
    expected = {"struct task_struct.comm", "struct task_struct.pid",
                "struct task_struct.real_parent", "struct task_struct.tgid"}
    assert fields == {"by_btf": expected, "by_probe": expected}
    assert {r.kind for p in spec.programs.values() for r in p.core_relocations} == {
        kernel.BPF_CORE_FIELD_BYTE_OFFSET}


def test_relocated_offsets_are_bpftools_and_libbpf_relocates_the_same(
        tmp_path: Path, bpffs: Path) -> None:
    """Loaded through pybpfc's runtime (the kernel relocates), each
    relocated instruction holds the member's offset from ``bpftool btf
    dump``; bpftool (libbpf relocating by itself) loads the same object
    into the same translated instructions."""
    require_root("loading programs")
    _, members = vmlinux_struct("task_struct")
    obj = build(tmp_path, "task_reads", READS)
    spec = read_object(obj)
    assert spec.btf is not None
    by_libbpf = bpffs / "libbpf"
    by_libbpf.mkdir()
    loaded = bpftool_loadall(obj, by_libbpf)
    assert loaded.returncode == 0, loaded.stderr
    checked = 0
    with load(spec) as coll:
        for name, program in coll.programs.items():
            insns = bpf.prog_xlated_insns(program.fd)
            for relo in spec.programs[name].core_relocations:
                insn = decode_insn(insns, relo.insn)
                member = describe(spec.btf, relo).rsplit(".", 1)[1]
                # The offset of a load, or the immediate added to an address.
                assert members[member] in (insn.off, insn.imm), (name, member, insn)
                checked += 1
            program.pin(bpffs / name)
            assert xlated(bpffs / name) == xlated(by_libbpf / name), name
            (bpffs / name).unlink()
    assert checked == sum(len(p.core_relocations) for p in spec.programs.values()) >= 8


EXEC_ARGUMENT = '''
from pybpfc import RawTracepointArgs, btf_tracepoint, u32

LICENSE = "GPL"

target_tgid: u32 = 0
pid: u32 = 0
ppid: u32 = 0
old_pid: u32 = 0
comm: bytearray = bytearray(16)


@btf_tracepoint("sched_process_exec")
def on_exec(ctx: RawTracepointArgs) -> int:
    global pid, ppid, old_pid, comm
    task = ctx.args[0]
    if u32(task.tgid) != target_tgid:
        return 0
    pid = u32(ctx.args[0].pid)
    ppid = u32(task.real_parent.tgid)
    old_pid = u32(ctx.args[1])
    comm = task.comm
    return 0
'''


def test_a_tp_btf_argument_is_the_kernels_typed_pointer(tmp_path: Path) -> None:
    """sched_process_exec's first argument is the task that exec'd: read
    directly through it, after the exec (comm is the new program's)."""
    require_root("attaching tracing programs")
    obj = build(tmp_path, "exec_argument", EXEC_ARGUMENT)
    with load(obj) as coll, Forked(lambda: os.execv("/bin/true", ["true"])) as child:
        coll.globals["target_tgid"] = child.pid
        with coll["on_exec"].attach():
            assert child.run() == 0
        read = (coll.globals["pid"], coll.globals["ppid"], coll.globals["old_pid"],
                comm(coll.globals["comm"]))
    assert read == (child.pid, os.getpid(), child.pid, "true")


def test_exec_parents_example_names_the_parent(tmp_path: Path) -> None:
    require_root("attaching tracing programs")
    path = REPO_ROOT / "examples" / "exec_parents.py"
    obj = tmp_path / "exec_parents.o"
    obj.write_bytes(compile_source(Source(str(path), path.read_text())).elf)
    with load(obj) as coll, Forked(lambda: os.execv("/bin/true", ["true"])) as child:
        with coll["on_exec"].attach(), coll.maps["execs"].reader("Exec") as execs:
            assert child.run() == 0
            records = [r for r in execs.poll(timeout=1.0) if r.pid == child.pid]
    assert [(r.ppid, comm(r.comm), comm(r.parent_comm)) for r in records] == [
        (os.getpid(), "true", Path("/proc/self/comm").read_text().strip())]


EMBEDDED = HEAD + '''btf_weight: u64 = 0
probe_weight: u64 = 0


@raw_tracepoint("sys_enter")
def by_btf(ctx: RawTracepointArgs) -> int:
    global btf_weight
    if u32(get_current_pid_tgid() >> 32) == target_tgid:
        btf_weight = get_current_task_btf().se.load.weight
    return 0


@raw_tracepoint("sys_enter")
def by_probe(ctx: RawTracepointArgs) -> int:
    global probe_weight
    if u32(get_current_pid_tgid() >> 32) == target_tgid:
        probe_weight = get_current_task().se.load.weight
    return 0
'''


def test_structs_inside_structs_are_reached_by_name(tmp_path: Path) -> None:
    """task.se.load.weight: two structs inside task_struct, one relocation
    through them; a task of nice 0 weighs 1024 << 10 (scale_load on 64-bit)."""
    require_root("attaching tracing programs")
    spec = read_object(build(tmp_path, "embedded", EMBEDDED))
    assert spec.btf is not None
    assert {re.sub(r"___\d+", "", describe(spec.btf, r)) for p in spec.programs.values()
            for r in p.core_relocations} == {"struct task_struct.se.load.weight"}
    with load(spec) as coll, Forked(lambda: os.nice(0)) as child:
        coll.globals["target_tgid"] = child.pid
        with all_attached(coll):
            assert child.run() == 0
        assert (coll.globals["btf_weight"], coll.globals["probe_weight"]) == (1024 << 10,) * 2
