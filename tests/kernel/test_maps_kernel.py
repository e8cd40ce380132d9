"""Maps, references, atomic_add, ReadOnly globals, print and ring buffers
as pybpfc compiles them, run in the kernel: a getsockopt hook driven by a
child's getsockopt(2) calls, and the results read back from Python."""
from __future__ import annotations

import errno
import os
import secrets
import socket
import struct
from pathlib import Path


from tests.support import run_in_cgroup
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.cgroup import TemporaryCgroup
from pybpfc.runtime.collection import load
from pybpfc.runtime.elf import read_object

SOL_SOCKET, SO_TYPE = socket.SOL_SOCKET, socket.SO_TYPE

PROGRAM = """
from typing import Final
from pybpfc import (ALLOW, BPF_EXIST, BPF_NOEXIST, ArrayMap, HashMap, PerCpuHashMap, ReadOnly,
                    RingBuf, SockoptContext, atomic_add, cgroup_getsockopt, i64, struct, u32, u64)

SO_TYPE: Final = 3


@struct
class Call:
    optname: u32
    optlen: u32
    serial: u64


calls_by_name: HashMap[u32, u64] = HashMap(max_entries=8)
last: ArrayMap[Call] = ArrayMap(max_entries=2)
per_cpu: PerCpuHashMap[u32, u64] = PerCpuHashMap(max_entries=4, no_prealloc=True)
events: RingBuf = RingBuf(max_entries=4096)
step: ReadOnly[u64] = 1
serial: u64 = 0
insert_again: i64 = 1          # what BPF_NOEXIST gave for a key already there
update_missing: i64 = 1        # what BPF_EXIST gave for a missing key
delete_missing: i64 = 1
out_of_range: u64 = 0          # lookups past an array's end that found nothing


@cgroup_getsockopt
def record(ctx: SockoptContext) -> int:
    global insert_again, update_missing, delete_missing, out_of_range
    if ctx.level != 1 or ctx.optname != SO_TYPE:
        return ALLOW
    name = u32(ctx.optname)
    count = calls_by_name.lookup(name)
    if count is None:
        calls_by_name.update(name, step, BPF_NOEXIST)
    else:
        atomic_add(count.value, step)
        insert_again = calls_by_name.update(name, 0, flags=BPF_NOEXIST)
    update_missing = calls_by_name.update(name + 100, 7, BPF_EXIST)
    delete_missing = calls_by_name.delete(name + 200)
    calls_by_name.update(name + 1, 5)
    calls_by_name.delete(name + 1)
    mine = per_cpu.lookup(name)
    if mine is None:
        per_cpu.update(name, 1)
    else:
        mine.value += 1
    slot = last.lookup(2)
    if slot is None:
        out_of_range += 1
    entry = last.lookup(1)
    if entry is not None:
        entry.value.optname = name
        entry.value.optlen = u32(ctx.optlen)
        entry.value.serial = atomic_add(serial, 1) + 1
        events.output(entry.value)
    print("getsockopt SO_TYPE call", serial, "step", step)
    return ALLOW
"""


def getsockopt_so_type(times: int) -> list[int]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return [s.getsockopt(SOL_SOCKET, SO_TYPE) for _ in range(times)]


def test_map_operations_flags_references_and_ring_records(cgroup: TemporaryCgroup) -> None:
    spec = read_object(compile_source(Source("maps.py", PROGRAM)).elf)
    spec.set_global("step", 10)           # the ReadOnly default is 1
    with load(spec) as coll, coll.maps["events"].reader(
            decode=lambda raw: struct.unpack("<IIQ", raw)) as ring:
        link = coll["record"].attach(cgroup.path)
        try:
            assert run_in_cgroup(cgroup.path, getsockopt_so_type, 3) == [socket.SOCK_DGRAM] * 3
        finally:
            link.close()
        calls = coll.maps["calls_by_name"]
        assert dict(calls.items()) == {SO_TYPE: 30}       # 10, then += 10 twice
        assert coll.globals["insert_again"] == -errno.EEXIST
        assert coll.globals["update_missing"] == -errno.ENOENT
        assert coll.globals["delete_missing"] == -errno.ENOENT
        assert coll.globals["out_of_range"] == 3
        assert coll.globals["serial"] == 3
        assert sum(coll.maps["per_cpu"][SO_TYPE]) == 3
        entry = coll.maps["last"][1]
        assert (entry.optname, entry.optlen, entry.serial) == (SO_TYPE, 4, 3)
        assert ring.read() == [(SO_TYPE, 4, 1), (SO_TYPE, 4, 2), (SO_TYPE, 4, 3)]


def test_readonly_global_keeps_its_default_unless_set(cgroup: TemporaryCgroup) -> None:
    with load(compile_source(Source("maps.py", PROGRAM)).elf) as coll:
        link = coll["record"].attach(cgroup.path)
        try:
            run_in_cgroup(cgroup.path, getsockopt_so_type, 2)
        finally:
            link.close()
        assert dict(coll.maps["calls_by_name"].items()) == {SO_TYPE: 2}
        assert coll.globals["step"] == 1


def test_print_writes_to_the_trace_buffer(cgroup: TemporaryCgroup, tmp_path: Path) -> None:
    """print() lines reach the kernel's trace buffer, read through a tracefs
    mounted for the test."""
    import subprocess
    mount_point = tmp_path / "tracefs"
    mount_point.mkdir()
    subprocess.run(["mount", "-t", "tracefs", "tracefs", str(mount_point)], check=True)
    try:
        spec = read_object(compile_source(Source("maps.py", PROGRAM)).elf)
        marker = secrets.randbelow(10**12) + 10**12      # tells this run's lines apart
        spec.set_global("step", marker)
        with load(spec) as coll:
            link = coll["record"].attach(cgroup.path)
            try:
                run_in_cgroup(cgroup.path, getsockopt_so_type, 2)
            finally:
                link.close()
            before = coll.globals["serial"]
        trace = (mount_point / "trace").read_text()
        lines = [line for line in trace.splitlines() if "getsockopt SO_TYPE call" in line]
        assert any(line.endswith(f"getsockopt SO_TYPE call {before} step {marker}")
                   for line in lines), lines[-5:]
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


BUFFER_EQUALITY = """
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, sysctl_get_name, u64

exact: u64 = 0      # reads of a sysctl whose base name is exactly tcp_rmem
other: u64 = 0


@cgroup_sysctl
def compare(ctx: SysctlContext) -> int:
    global exact, other
    name = bytearray(9)
    sysctl_get_name(ctx, name, 1)
    if name == b"tcp_rmem\\0":
        exact += 1
    elif name == b"tcp_wmem\\0":
        other += 1
    return ALLOW
"""


def test_bytearray_equals_a_bytes_literal(cgroup: TemporaryCgroup) -> None:
    with load(compile_source(Source("eq.py", BUFFER_EQUALITY)).elf) as coll:
        link = coll["compare"].attach(cgroup.path)
        try:
            def child() -> None:
                for name in ("tcp_rmem", "tcp_wmem", "tcp_rmem"):   # one read(2) each
                    fd = os.open(f"/proc/sys/net/ipv4/{name}", os.O_RDONLY)
                    os.read(fd, 256)
                    os.close(fd)
            run_in_cgroup(cgroup.path, child)
        finally:
            link.close()
        assert (coll.globals["exact"], coll.globals["other"]) == (2, 1)
