"""Tracing programs attached through pybpfc's runtime, one attach kind per
test: clang objects from tests/c/tracing/, each watching one process the
test forks (its tgid set in the program's globals first); the test makes
that process act and asserts the exact records the program wrote.

Safety: nothing is attached to a cgroup; tracefs is mounted only where it
is missing and unmounted again; pins go only into a bpffs the test mounted.
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path
from typing import Callable

import pytest

from pybpfc import abi
from pybpfc.abi.system import GETPPID_SYSCALL_NUMBERS
from pybpfc.runtime.collection import load
from pybpfc.runtime.errors import BpfError, SyscallError
from pybpfc.runtime.stacks import ProcessMaps, user_frames
from pybpfc.runtime.system import online_cpus
from pybpfc.runtime.tracepoint_events import tracefs_mount
from tests.runtime.conftest import Forked, Target
from tests.support import require_root

BuildTracing = Callable[..., Path]

# getppid(2), a system call nothing else in a forked child makes.
GETPPID = GETPPID_SYSCALL_NUMBERS[os.uname().machine]


def text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode()


# ------------------------------------------------------------- tracepoint


@pytest.mark.kernel
def test_tracepoint_records_each_openat_of_the_child(build_tracing: BuildTracing) -> None:
    require_root("attaching tracing programs")
    paths = [f"/tmp/pybpfc-tracepoint-{uuid.uuid4().hex}-{i}" for i in range(3)]
    tracefs_before = tracefs_mount()

    def open_each() -> None:
        for path in paths:
            try:
                os.close(os.open(path, os.O_RDONLY))
            except FileNotFoundError:
                pass

    with load(build_tracing("tracepoint_openat")) as coll, Forked(open_each) as child:
        coll.globals["target_tgid"] = child.pid
        program = coll["on_openat"]
        assert program.attach_target == abi.TARGET_TRACEPOINT
        with program.attach() as link, coll.maps["opens"].reader("struct open_event") as opens:
            assert link.target == "syscalls/sys_enter_openat" and len(link.perf_fds) == 1
            # tracefs was needed for the event id only: as it was, again.
            assert tracefs_mount() == tracefs_before
            child.run()
            records = opens.poll(timeout=2.0)
    assert [(r.pid, r.tgid, text(r.filename), r.flags) for r in records] == [
        (child.pid, child.pid, path, os.O_RDONLY | os.O_CLOEXEC) for path in paths]


@pytest.mark.kernel
def test_tracepoint_that_does_not_exist_is_named_and_tracefs_is_left_as_it_was(
        build_tracing: BuildTracing) -> None:
    require_root("attaching tracing programs")
    tracefs_before = tracefs_mount()
    with load(build_tracing("tracepoint_openat")) as coll:
        program = coll["on_openat"]
        with pytest.raises(BpfError, match=r"^program 'on_openat' on tracepoint "
                           r"syscalls/sys_enter_nothing: no tracepoint syscalls/sys_enter_nothing "
                           r"in this kernel \(category 'syscalls' has no event"):
            program.attach("syscalls/sys_enter_nothing")
        assert tracefs_mount() == tracefs_before
        with pytest.raises(BpfError, match=r"'\.\./syscalls' is not a tracepoint: write "
                                           r"CATEGORY/NAME"):
            program.attach("../syscalls")
        with pytest.raises(BpfError, match=r"takes no option pid"):
            program.attach(pid=1)


# -------------------------------------------------------- raw tracepoint


def getppid_in_two_threads() -> tuple[int, int]:
    """3 calls in the main thread, 5 in another; their thread ids."""
    other: list[int] = []

    def five() -> None:
        other.append(threading.get_native_id())
        for _ in range(5):
            os.getppid()
    thread = threading.Thread(target=five)
    thread.start()
    thread.join()
    for _ in range(3):
        os.getppid()
    return threading.get_native_id(), other[0]


@pytest.mark.kernel
def test_raw_tracepoint_counts_system_calls_per_thread(build_tracing: BuildTracing,
                                                       bpffs: Path) -> None:
    require_root("attaching tracing programs")
    with load(build_tracing("raw_tp_sys_enter")) as coll:
        coll.globals["counted_syscall"] = GETPPID
        calls = coll.maps["calls"]
        with Forked(getppid_in_two_threads) as child:
            coll.globals["target_tgid"] = child.pid
            with coll["on_sys_enter"].attach() as link:
                assert link.info().type == abi.kernel.BPF_LINK_TYPE_RAW_TRACEPOINT
                main_thread, other_thread = child.run()
        assert dict(calls.items()) == {main_thread: 3, other_thread: 5}

        # Detached with the link closed: the next child is not counted.
        with Forked(lambda: os.getppid()) as child:
            coll.globals["target_tgid"] = child.pid
            child.run()
        assert child.pid not in calls

        # A pinned link keeps the program attached after its fd is closed,
        # until the pin goes.
        link = coll["on_sys_enter"].attach("sys_enter")
        link.pin(bpffs / "raw_link")
        link.close()
        with Forked(lambda: [os.getppid() for _ in range(4)]) as child:
            coll.globals["target_tgid"] = child.pid
            child.run()
        assert calls[child.pid] == 4
        (bpffs / "raw_link").unlink()
        deadline = time.monotonic() + 5
        while True:          # the kernel frees an unpinned link after an RCU grace period
            with Forked(lambda: os.getppid()) as late:
                coll.globals["target_tgid"] = late.pid
                late.run()
            if late.pid not in calls or time.monotonic() > deadline:
                break
        assert late.pid not in calls


@pytest.mark.kernel
def test_raw_tracepoint_that_does_not_exist_names_program_and_target(
        build_tracing: BuildTracing) -> None:
    require_root("attaching tracing programs")
    with load(build_tracing("raw_tp_sys_enter")) as coll:
        with pytest.raises(SyscallError, match=r"^program 'on_sys_enter' on raw tracepoint "
                           r"no_such_tracepoint: BPF_RAW_TRACEPOINT_OPEN failed: .*ENOENT.* -- "
                           r"this kernel has no tracepoint of that name"):
            coll["on_sys_enter"].attach("no_such_tracepoint")
        with pytest.raises(BpfError, match=r"not a tracepoint name"):
            coll["on_sys_enter"].attach("syscalls/sys_enter")


# ---------------------------------------------------------------- tp_btf


@pytest.mark.kernel
def test_tp_btf_records_the_exec_of_a_child(build_tracing: BuildTracing) -> None:
    require_root("attaching tracing programs")
    with load(build_tracing("tp_btf_exec")) as coll:
        program = coll["on_exec"]
        assert program.attach_target == abi.TARGET_KERNEL_BTF
        # The program was loaded for the tracepoint named in its section.
        assert program.info().attach_btf_id == _vmlinux_id("btf_trace_sched_process_exec")
        coll.globals["target_tgid"] = os.getpid()
        with Forked(lambda: os.execv("/bin/true", ["true"])) as child, \
                program.attach() as link, coll.maps["execs"].reader("struct exec_event") as execs:
            assert link.target == "sched_process_exec"
            assert child.run() == 0
            records = execs.poll(timeout=2.0)
    assert [(r.pid, r.old_pid, r.parent_tgid, text(r.filename)) for r in records] == [
        (child.pid, child.pid, os.getpid(), "/bin/true")]


def _vmlinux_id(name: str) -> int:
    from pybpfc.runtime.kernel_btf import vmlinux_btf
    found = vmlinux_btf().find(name)
    assert found is not None
    return found


# -------------------------------------------------------------- uprobes


@pytest.mark.kernel
def test_uprobe_and_uretprobe_record_arguments_and_results(
        build_tracing: BuildTracing, target_binary: Path, target: Target) -> None:
    require_root("attaching tracing programs")
    obj = build_tracing("uprobe_add", f'-DUPROBE_BINARY="{target_binary}"')
    with load(obj) as coll:
        coll.globals["target_tgid"] = target.pid
        entry, exit_ = coll["on_add"], coll["on_add_return"]
        assert (entry.attach_target, exit_.attach_target) == (abi.TARGET_UPROBE,
                                                              abi.TARGET_URETPROBE)
        # The entry probe's target is in its section; the return probe's is
        # given here, for this process only.
        with entry.attach() as on_entry, \
                exit_.attach(f"{target_binary}:add_numbers", pid=target.pid) as on_return, \
                coll.maps["calls"].reader("struct call_event") as calls:
            assert on_entry.target == on_return.target == f"{target_binary}:add_numbers"
            assert target.command("add 3") == ["1000", "1002", "1004"]
            records = calls.poll(timeout=2.0)
    assert [(r.pid, r.kind, r.a, r.b, r.result) for r in records] == [
        (target.pid, 0, 0, 1000, 0), (target.pid, 1, 0, 0, 1000),
        (target.pid, 0, 1, 1001, 0), (target.pid, 1, 0, 0, 1002),
        (target.pid, 0, 2, 1002, 0), (target.pid, 1, 0, 0, 1004)]
    assert target.quit() == 0


@pytest.mark.kernel
def test_uprobe_targets_that_do_not_resolve_are_named(
        build_tracing: BuildTracing, target_binary: Path) -> None:
    require_root("loading tracing programs")
    obj = build_tracing("uprobe_add", f'-DUPROBE_BINARY="{target_binary}"')
    with load(obj) as coll:
        program = coll["on_add_return"]
        with pytest.raises(BpfError, match=rf"^program 'on_add_return' on uretprobe "
                                           rf"{target_binary}:no_such_function: binary "
                                           rf"'{target_binary}': no function 'no_such_function' "
                                           r"in its symbol tables"):
            program.attach(f"{target_binary}:no_such_function")
        with pytest.raises(BpfError, match=r"^program 'on_add_return' on uretprobe add_numbers: "
                                           r"'add_numbers' is not BINARY:FUNCTION"):
            program.attach("add_numbers")
        with pytest.raises(BpfError, match=r"section 'uretprobe' names no uretprobe: give one"):
            program.attach()
        with pytest.raises(BpfError, match=r"^program 'on_add_return' on uretprobe "
                                           r"/no/such/binary:main: binary '/no/such/binary': "
                                           r"no such file"):
            program.attach("/no/such/binary:main")


# ------------------------------------------------------- perf event sampling


@pytest.mark.kernel
def test_perf_event_samples_land_in_the_spinning_function(
        build_tracing: BuildTracing, target: Target) -> None:
    require_root("attaching tracing programs")
    with load(build_tracing("perf_event_samples")) as coll:
        coll.globals["target_tgid"] = target.pid
        with coll["on_sample"].attach(frequency=499) as link, \
                coll.maps["samples"].reader("struct sample_event") as reader:
            assert len(link.perf_fds) == len(link.link_fds) == len(online_cpus())
            assert target.command("spin 500") == []
            maps = ProcessMaps(target.pid)       # while it lives
            samples = reader.read()
        stacks = coll.maps["stacks"]
        in_target = [s for s in samples if maps.frame(s.ip).module == "target"]
        assert all(s.pid == target.pid for s in samples)
        # 0.5 s at 499 Hz: about 250 samples, nearly all in the spinning loop.
        assert len(samples) >= 50, len(samples)
        assert len(in_target) >= 0.9 * len(samples)
        assert {maps.frame(s.ip).function for s in in_target} == {"spin_inner"}
        for sample in in_target[:20]:
            frames = user_frames(stacks.stack(sample.user_stack), maps)
            assert [f.function for f in frames[:3]] == ["spin_inner", "spin_outer", "main"]
            assert frames[0].address == sample.ip
    assert target.quit() == 0


@pytest.mark.kernel
def test_perf_event_options_are_checked(build_tracing: BuildTracing) -> None:
    require_root("loading tracing programs")
    with load(build_tracing("perf_event_samples")) as coll:
        program = coll["on_sample"]
        with pytest.raises(BpfError, match="unknown perf event 'bogus'"):
            program.attach(event="bogus")
        with pytest.raises(BpfError, match="a sampling frequency or a period, not both"):
            program.attach(frequency=10, period=1000)
        with pytest.raises(BpfError, match="attach\\(\\) takes no target"):
            program.attach("cpu-clock")


# ------------------------------------------------------------- iterators


@pytest.mark.kernel
def test_task_iterator_lists_the_threads_of_this_process(build_tracing: BuildTracing) -> None:
    require_root("attaching tracing programs")
    with load(build_tracing("iter_task")) as coll:
        coll.globals["target_tgid"] = os.getpid()
        with coll["list_threads"].attach() as iterator:
            first, second = iterator.read(), iterator.read()
    threads = {f"{os.getpid()} {tid.name} {(tid / 'comm').read_text().strip()}"
               for tid in Path("/proc/self/task").iterdir()}
    assert set(first.decode().splitlines()) == threads
    assert first == second          # each read is a pass of its own
