"""CO-RE at load: clang objects reading kernel structs with BPF_CORE_READ
and friends (against a vmlinux.h dumped at test time) load through
pybpfc's runtime relocated exactly as libbpf relocates them (bpftool's
dump of both programs' translated instructions is the same), to the
offsets ``bpftool btf dump`` gives; they read the right values; a field the
kernel lacks fails the load naming the field, unless the program tested
for it first."""
from __future__ import annotations

import errno
import os
import re
import socket
import subprocess
from pathlib import Path
from typing import Callable

import pytest

from pybpfc.abi import kernel
from pybpfc.runtime import bpf
from pybpfc.runtime.cgroup import TemporaryCgroup
from pybpfc.runtime.collection import load
from pybpfc.runtime.core import CoreError, describe
from pybpfc.runtime.elf import read_object
from pybpfc.runtime.errors import BpfError
from pybpfc.runtime.spec import decode_insn
from tests.runtime.conftest import Forked
from tests.support import (REPO_ROOT, VMLINUX_BTF, Attached, bpftool_loadall, clang_bpf,
                           errno_of, find_bpftool, require_root, run_in_cgroup)

BuildTracing = Callable[..., Path]
# Objects whose programs the kernel relocates: raw tracepoints through
# bpf_get_current_task(), a tp_btf program, an iterator, a guarded read.
CORE_OBJECTS = [("core_reads", ()), ("core_missing", ()), ("tp_btf_exec", ()),
                ("iter_task", ())]


def vmlinux_struct(name: str) -> tuple[int, dict[str, int]]:
    """Size and top-level member byte offsets of a kernel struct, from
    ``bpftool btf dump file /sys/kernel/btf/vmlinux format raw``."""
    dump = subprocess.run([find_bpftool(), "btf", "dump", "file", str(VMLINUX_BTF), "format",
                           "raw"], capture_output=True, text=True, check=True).stdout
    found = re.search(rf"^\[\d+\] STRUCT '{name}' size=(\d+) vlen=\d+\n((?:\t.*\n)*)", dump,
                      re.M)
    assert found is not None, name
    members = {m.group(1): int(m.group(2)) // 8 for m in re.finditer(
        r"^\t'(\w+)' type_id=\d+ bits_offset=(\d+)", found.group(2), re.M)}
    return int(found.group(1)), members


def xlated(pinned: Path) -> str:
    """bpftool's text of a pinned program's translated instructions, map
    ids (which differ between two loads) taken out."""
    out = subprocess.run([find_bpftool(), "prog", "dump", "xlated", "pinned", str(pinned)],
                         capture_output=True, text=True, check=True).stdout
    return re.sub(r"map\[id:\d+\]", "map[id:N]", out)


@pytest.mark.kernel
@pytest.mark.parametrize("stem,flags", CORE_OBJECTS, ids=[s for s, _ in CORE_OBJECTS])
def test_relocated_like_libbpf(build_tracing: BuildTracing, bpffs: Path, stem: str,
                               flags: tuple[str, ...]) -> None:
    require_root("loading programs")
    obj = build_tracing(stem, *flags)
    spec = read_object(obj)
    assert any(p.core_relocations for p in spec.programs.values())
    by_libbpf = bpffs / "libbpf"
    by_libbpf.mkdir()
    loaded = bpftool_loadall(obj, by_libbpf)
    assert loaded.returncode == 0, loaded.stderr
    with load(spec) as coll:
        for name, program in coll.programs.items():
            program.pin(bpffs / name)
            assert xlated(bpffs / name) == xlated(by_libbpf / name), name
            (bpffs / name).unlink()


@pytest.mark.kernel
def test_relocated_offsets_are_the_kernels(build_tracing: BuildTracing) -> None:
    require_root("loading programs")
    task_size, task_members = vmlinux_struct("task_struct")
    spec = read_object(build_tracing("core_reads"))
    btf = spec.btf
    assert btf is not None
    with load(spec) as coll:
        checked = 0
        for name, program in coll.programs.items():
            insns = bpf.prog_xlated_insns(program.fd)
            for relo in spec.programs[name].core_relocations:
                insn = decode_insn(insns, relo.insn)
                where = describe(btf, relo)        # struct task_struct.real_parent, ...
                if relo.kind == kernel.BPF_CORE_FIELD_BYTE_OFFSET:
                    member = where.rsplit(".", 1)[1]
                    # Either the immediate of `rX = off` or the offset of a load.
                    assert task_members[member] in (insn.imm, insn.off), (name, where, insn)
                elif relo.kind == kernel.BPF_CORE_TYPE_SIZE:
                    assert (where, insn.imm) == ("struct task_struct", task_size)
                else:
                    continue
                checked += 1
    # real_parent and tgid through both spellings, two field offsets, one size.
    assert checked == 7


@pytest.mark.kernel
def test_relocated_reads_give_the_kernels_values(build_tracing: BuildTracing) -> None:
    require_root("attaching tracing programs")
    task_size, task_members = vmlinux_struct("task_struct")
    with load(build_tracing("core_reads")) as coll, Forked(os.getppid) as child:
        coll.globals["target_tgid"] = child.pid
        links = [program.attach() for program in coll.programs.values()]
        try:
            assert child.run() == os.getpid()
        finally:
            for link in links:
                link.close()
        read = {name: coll.globals[name] for name in coll.globals}
    assert read == {
        "target_tgid": child.pid,
        "parent_tgid": os.getpid(), "parent_tgid_by_flavor": os.getpid(),
        "comm_size": 16, "task_size": task_size,
        "ringbuf_type": bpf.BPF_MAP_TYPE_RINGBUF,
        "has_no_such_field": 0, "has_arena": 1,       # BPF_MAP_TYPE_ARENA: Linux 6.9
        "offset_of_real_parent": task_members["real_parent"],
        "offset_of_tgid": task_members["tgid"]}


@pytest.mark.kernel
def test_a_field_the_kernel_lacks_fails_the_load_naming_it(build_tracing: BuildTracing) -> None:
    require_root("loading programs")
    obj = build_tracing("core_missing", "-DUNGUARDED", name="core_unguarded")
    with pytest.raises(CoreError, match=r"^program 'core_unguarded': CO-RE: field "
                       r"struct task_struct___pybpfc\.no_such_field is not in this kernel "
                       r"\(field byte offset relocation at instruction \d+\); test it with "
                       r"bpf_core_field_exists\(\) before using it$") as caught:
        load(obj)
    assert f"unknown#{kernel.CORE_RELO_POISON_HELPER}" in caught.value.log


@pytest.mark.kernel
def test_a_guarded_field_the_kernel_lacks_takes_the_other_branch(
        build_tracing: BuildTracing) -> None:
    require_root("attaching tracing programs")
    with load(build_tracing("core_missing")) as coll, Forked(os.getppid) as child:
        coll.globals["target_tgid"] = child.pid
        with coll["core_guarded"].attach():
            child.run()
        assert coll.globals["result"] == 7


def test_core_records_the_kernel_would_ignore_are_refused(build_tracing: BuildTracing) -> None:
    spec = read_object(build_tracing("core_reads"))
    for program in spec.programs.values():
        program.func_info, program.line_info = [], []
    with pytest.raises(BpfError, match=r"^program 'core_parent': \d+ CO-RE relocation\(s\) but "
                                       r"no BTF func or line info"):
        load(spec)


@pytest.mark.kernel
def test_core_on_a_context_struct_in_a_cgroup_hook(cgroup: TemporaryCgroup,
                                                   tmp_path: Path) -> None:
    """tests/c/core_family.c reads the socket's family through a local
    flavor of struct bpf_sock, relocated by the kernel: only AF_INET
    sockets are allowed."""
    obj = clang_bpf(REPO_ROOT / "tests" / "c" / "core_family.c", tmp_path / "core_family.o")
    with Attached(obj, cgroup):
        def child() -> tuple[int, int]:
            return (errno_of(socket.socket, socket.AF_INET, socket.SOCK_DGRAM),
                    errno_of(socket.socket, socket.AF_INET6, socket.SOCK_DGRAM))
        assert run_in_cgroup(cgroup.path, child) == (0, errno.EPERM)
