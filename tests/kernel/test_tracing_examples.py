"""The tracing examples, compiled from Python, loaded and attached through
the runtime: each watches events of the whole machine, the test makes a
child it forked cause some, and asserts the exact records the child caused
(pids, file names, counts), ignoring other processes'.

Safety: nothing is attached to a cgroup; tracefs is mounted only where it
is missing, for as long as the attach needs it.
"""
from __future__ import annotations

import ctypes
import os
import threading
import time
import uuid
from pathlib import Path
import pytest

from pybpfc.abi.system import GETPPID_SYSCALL_NUMBERS
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.collection import Collection, load
from pybpfc.runtime.elf import read_object
from pybpfc.runtime.histogram import Log2Histogram, bucket_of
from tests.runtime.conftest import Forked
from tests.support import REPO_ROOT, require_root

pytestmark = pytest.mark.kernel

# getppid(2), a system call nothing else in a forked child makes.
GETPPID = GETPPID_SYSCALL_NUMBERS[os.uname().machine]


@pytest.fixture
def example(tmp_path: Path):  # type: ignore[no-untyped-def]
    require_root("attaching tracing programs")

    def build(name: str) -> Collection:
        path = REPO_ROOT / "examples" / f"{name}.py"
        obj = tmp_path / f"{name}.o"
        obj.write_bytes(compile_source(Source(str(path), path.read_text())).elf)
        return load(obj)
    return build


def text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode()


def own_comm() -> str:
    return Path("/proc/self/comm").read_text().strip()


def test_opensnoop_records_each_open_with_pid_file_name_and_result(example) -> None:  # type: ignore[no-untyped-def]
    existing = Path(f"/tmp/pybpfc-opensnoop-{uuid.uuid4().hex}")
    existing.write_text("x")
    paths = [str(existing)] + [f"/tmp/pybpfc-opensnoop-{uuid.uuid4().hex}-{i}"
                               for i in range(2)]

    def open_each() -> int:
        fds = 0
        for path in paths:
            try:
                fd = os.open(path, os.O_RDONLY)
                os.close(fd)
                fds += 1
            except FileNotFoundError:
                pass
        return fds

    try:
        with example("opensnoop") as coll, Forked(open_each) as child:
            with coll["enter_openat"].attach(), coll["exit_openat"].attach(), \
                    coll.maps["opens"].reader("Open") as opens:
                assert child.run() == 1
                records = [r for r in opens.poll(timeout=1.0) if r.pid == child.pid]
    finally:
        existing.unlink()
    got = [(r.pid, r.tid, text(r.filename), r.flags, r.ret >= 0, text(r.comm)) for r in records]
    assert got == [(child.pid, child.pid, path, os.O_RDONLY | os.O_CLOEXEC, i == 0, own_comm())
                   for i, path in enumerate(paths)]
    assert [r.ret for r in records][1:] == [-2, -2]       # ENOENT


def test_execsnoop_records_the_exec_with_the_file_name(example) -> None:  # type: ignore[no-untyped-def]
    with example("execsnoop") as coll, Forked(lambda: os.execv("/bin/true", ["true"])) as child:
        with coll["on_exec"].attach(), coll.maps["execs"].reader("Exec") as execs:
            assert child.run() == 0
            records = [r for r in execs.poll(timeout=1.0) if r.pid == child.pid]
    assert [(r.pid, r.old_pid, text(r.comm), text(r.filename)) for r in records] == [
        (child.pid, child.pid, "true", "/bin/true")]


def test_syscount_counts_each_processs_calls(example) -> None:  # type: ignore[no-untyped-def]
    with example("syscount") as coll, Forked(lambda: [os.getppid() for _ in range(7)]) as child:
        with coll["count"].attach():
            child.run()
        assert coll.maps["calls"][child.pid << 32 | GETPPID] == 7


def test_btf_tracepoint_counts_the_exec_under_the_old_pid(example) -> None:  # type: ignore[no-untyped-def]
    with example("exec_pids") as coll, Forked(lambda: os.execv("/bin/true", ["true"])) as child:
        with coll["on_exec"].attach():
            assert child.run() == 0
        assert coll.maps["execs"][child.pid] == 1


def test_uprobes_record_libc_calls_with_their_argument_and_result(example) -> None:  # type: ignore[no-untyped-def]
    marker = f"PYBPFC_{uuid.uuid4().hex[:8]}"

    def call_getenv() -> None:
        os.environ[marker + "_SET"] = "1"
        libc = ctypes.CDLL("libc.so.6")
        libc.getenv.restype = ctypes.c_char_p
        for name in (marker + "_SET", marker + "_UNSET", marker + "_SET"):
            libc.getenv(name.encode())

    with example("libc_calls") as coll, Forked(call_getenv) as child:
        with coll["enter_getenv"].attach(), coll["exit_getenv"].attach(), \
                coll.maps["calls"].reader("Call") as calls:
            child.run()
            records = [r for r in calls.poll(timeout=1.0)
                       if r.pid == child.pid and text(r.name).startswith(marker)]
    assert [(text(r.name), r.found) for r in records] == [
        (marker + "_SET", 1), (marker + "_UNSET", 0), (marker + "_SET", 1)]


def spin(cpu_seconds: float) -> float:
    """Use the CPU in user space until the process has used ``cpu_seconds``
    (its CPU time is read, through a system call, only every 100,000
    rounds); the CPU time used."""
    start = time.process_time()
    while time.process_time() - start < cpu_seconds:
        for _ in range(100_000):
            pass
    return time.process_time() - start


def test_profile_samples_the_process_that_runs(example) -> None:  # type: ignore[no-untyped-def]
    with example("profile") as coll, Forked(lambda: spin(0.5)) as child:
        with coll["sample"].attach(frequency=FREQUENCY):
            used = child.run()
        samples = dict(coll.maps["samples"].items())
    in_user = samples.get(child.pid << 1, 0)
    in_kernel = samples.get(child.pid << 1 | 1, 0)
    # The CPU clock samples about FREQUENCY times a second of CPU the
    # child used, nearly all in user space.
    expected = used * FREQUENCY
    assert 0.6 * expected <= in_user + in_kernel <= 1.4 * expected, (samples, used)
    assert in_user > 4 * in_kernel, (in_user, in_kernel)


FREQUENCY = 199


def test_readlat_counts_each_read_of_the_process_in_its_bucket() -> None:
    require_root("attaching tracing programs")
    path = REPO_ROOT / "examples" / "readlat.py"
    r, w = os.pipe()

    def reads() -> None:
        os.close(w)
        for _ in range(5):               # ready at once: microseconds each
            assert os.read(r, 1) == b"x"
        assert os.read(r, 1) == b"y"     # waits until the parent writes, 50 ms on

    os.write(w, b"xxxxx")
    try:
        with Forked(reads) as child:
            spec = read_object(compile_source(Source(str(path), path.read_text())).elf)
            spec.set_global("target", child.pid)
            with load(spec) as coll:
                with coll["enter_read"].attach(), coll["exit_read"].attach():
                    threading.Timer(0.05, os.write, (w, b"y")).start()
                    child.run()
                histogram = Log2Histogram.from_map(coll.maps["read_ns_hist"])
    finally:
        os.close(r)
        os.close(w)
    counts = histogram.counts
    assert len(counts) == 66 and histogram.total == 6, counts
    # The wait of 50 ms is the one value in [2^25, 2^26) ns; the five quick
    # reads took under a millisecond.
    assert counts[bucket_of(50_000_000)] == 1, counts
    assert sum(counts[:bucket_of(1_000_000) + 1]) == 5, counts
