"""What tracing programs write, read from Python: the perf buffer (records
and the kernel's count of those it dropped), stack traces named through
kallsyms, and a log2 histogram kept by a program in an array map."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import pytest

from pybpfc.runtime.collection import Collection, load
from pybpfc.runtime.histogram import Log2Histogram, bucket_of
from pybpfc.runtime.perfbuf import PerfBuffer
from pybpfc.runtime.stacks import kernel_frames
from pybpfc.runtime.system import online_cpus
from tests.runtime.conftest import Forked
from tests.runtime.test_tracing_attach import GETPPID
from tests.support import require_root

BuildTracing = Callable[..., Path]
WRITE = {"x86_64": 1, "aarch64": 64, "riscv64": 64}[os.uname().machine]


def on_cpu(cpu: int, calls: int) -> Callable[[], None]:
    """A child's action: ``calls`` getppid(2) calls, all on one CPU."""
    def act() -> None:
        os.sched_setaffinity(0, {cpu})
        for _ in range(calls):
            os.getppid()
    return act


@pytest.fixture
def numbered(build_tracing: BuildTracing) -> Iterator[Collection]:
    """perf_buffer_output.c loaded, counting getppid(2)."""
    require_root("attaching tracing programs")
    with load(build_tracing("perf_buffer_output")) as coll:
        coll.globals["counted_syscall"] = GETPPID
        yield coll


@pytest.mark.kernel
def test_perf_buffer_delivers_every_record_in_order(numbered: Collection) -> None:
    coll, cpu = numbered, online_cpus()[-1]
    with coll.maps["outputs"].reader("struct numbered") as reader, \
            Forked(on_cpu(cpu, 10)) as child:
        assert isinstance(reader, PerfBuffer)
        coll.globals["target_tgid"] = child.pid
        with coll["on_sys_enter"].attach():
            child.run()
            records = reader.poll(timeout=2.0)
        assert reader.lost == 0
    assert [(r.seq, r.pid, r.check) for r in records] == [
        (seq, child.pid, seq * 2654435761 % (1 << 32)) for seq in range(10)]
    assert coll.globals["failed_outputs"] == 0


@pytest.mark.kernel
def test_perf_buffer_counts_what_the_kernel_dropped(numbered: Collection) -> None:
    coll, cpu = numbered, online_cpus()[-1]
    # One data page holds about 150 records: a burst of 3000 overflows it.
    with coll.maps["outputs"].reader("struct numbered", pages=1) as reader, \
            coll["on_sys_enter"].attach():
        with Forked(on_cpu(cpu, 3000)) as burst:
            coll.globals["target_tgid"] = burst.pid
            burst.run()
        received = reader.read()
        # The kernel writes the count of a loss when room comes back:
        # one more record, on the same CPU, brings it.
        with Forked(on_cpu(cpu, 1)) as last:
            coll.globals["target_tgid"] = last.pid
            last.run()
        received += reader.poll(timeout=2.0)
    produced = coll.globals["sequence"]
    failed = coll.globals["failed_outputs"]
    assert produced == 3001
    assert 0 < failed < produced
    assert reader.lost == failed
    assert len(received) + reader.lost == produced
    # What arrived is intact and in order.
    assert all(r.check == r.seq * 2654435761 % (1 << 32) for r in received)
    assert [r.seq for r in received] == sorted(r.seq for r in received)
    assert received[-1].seq == 3000 and received[-1].pid == last.pid


@pytest.mark.kernel
def test_kernel_stack_of_a_system_call_is_named(build_tracing: BuildTracing) -> None:
    require_root("attaching tracing programs")
    with load(build_tracing("kernel_stack")) as coll, \
            Forked(lambda: os.close(os.open("/proc/self/stat", os.O_RDONLY))) as child:
        coll.globals["target_tgid"] = child.pid
        with coll["on_openat"].attach():
            child.run()
        stack_id = coll.globals["last_stack"]
        assert stack_id >= 0
        frames = kernel_frames(coll.maps["stacks"].stack(stack_id))
    names = [f.function for f in frames]
    # From the tracepoint's caller out to the system call entry.
    assert "do_syscall_64" in names and names.index("do_syscall_64") < len(names) - 1
    assert all(f.function is not None and f.offset >= 0 for f in frames)
    assert str(frames[0]) == f"{frames[0].function}+{frames[0].offset:#x}"


@pytest.mark.kernel
def test_log2_histogram_kept_by_a_program(build_tracing: BuildTracing) -> None:
    require_root("attaching tracing programs")
    sizes = [0, 1, 2, 3, 4, 7, 8, 1000, 1023, 1024, 4096]

    def write_sizes() -> None:
        read_end, write_end = os.pipe()
        for size in sizes:
            os.write(write_end, b"x" * size)
        os._exit(0)          # with no result to write back: no write(2) but ours

    with load(build_tracing("hist_write_sizes")) as coll, Forked(write_sizes) as child:
        coll.globals["counted_syscall"] = WRITE
        coll.globals["target_tgid"] = child.pid
        with coll["count_sizes"].attach():
            assert child.run() == 0
        histogram = Log2Histogram.from_map(coll.maps["sizes"])
    expected = [0] * 66
    for size in sizes:
        expected[bucket_of(size)] += 1
    assert list(histogram.counts) == expected
    assert histogram.render() == (
        "[0]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
        "[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
        "[2, 4)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        "[4, 8)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        "[8, 16)                1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
        "[16, 32)               0 |                                                    |\n"
        "[32, 64)               0 |                                                    |\n"
        "[64, 128)              0 |                                                    |\n"
        "[128, 256)             0 |                                                    |\n"
        "[256, 512)             0 |                                                    |\n"
        "[512, 1K)              2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
        "[1K, 2K)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
        "[2K, 4K)               0 |                                                    |\n"
        "[4K, 8K)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n")
