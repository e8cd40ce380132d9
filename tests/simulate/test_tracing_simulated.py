"""Tracing hooks in the interpreter: deterministic fakes for the task and
the clock, probe reads from a fake memory, ring buffer records kept."""
from __future__ import annotations

import os
import struct

import pytest

from pybpfc.simulate import Fakes, load_program


def test_libc_calls_records_each_call_with_its_result() -> None:
    prog = load_program("examples/libc_calls.py",
                        fakes=Fakes(pid=11, tgid=10, memory={0x7000: b"PATH\0"}))
    prog.enter_getenv(arg1=0x7000)
    assert prog.maps["calling"][11]["name"].rstrip(b"\0") == b"PATH"
    prog.exit_getenv(ret=0x7100)               # getenv found it
    assert len(prog.maps["calling"]) == 0
    (record,) = prog.maps["calls"].drain()
    pid, found = struct.unpack_from("<II", record)
    assert (pid, found) == (10, 1) and record[8:13] == b"PATH\0"


def test_a_string_read_past_the_memory_fails_and_zeroes() -> None:
    """bpf_probe_read_user_str: -EFAULT when memory ends before the NUL."""
    text = ("from pybpfc import UprobeContext, i64, probe_read_user_str, uprobe\n\n"
            "got: i64 = 0\nname: bytearray = bytearray(8)\n\n\n"
            "@uprobe(\"/bin/true\", \"main\")\n"
            "def f(ctx: UprobeContext) -> int:\n    global got\n"
            "    got = probe_read_user_str(name, ctx.arg1)\n    return 0\n")
    prog = load_program("t.py", text=text, fakes=Fakes(memory={0x100: b"abc"}))
    assert prog.f(arg1=0x100).globals == {"got": -14, "name": bytes(8)}
    prog.fakes.memory[0x100] = b"abcdefghijk\0"       # cut at the buffer's size
    assert prog.f(arg1=0x100).globals == {"got": 8, "name": b"abcdefg\0"}


def test_readlat_histogram_of_the_fake_clock() -> None:
    if os.geteuid() != 0:
        pytest.skip("a tracepoint's fields come from tracefs, which root reads here")
    prog = load_program("examples/readlat.py",
                        fakes=Fakes(pid=5, tgid=5, time_step_ns=3000))
    prog.globals["target"] = 5
    prog.enter_read(fd=0, count=10)
    prog.exit_read(ret=10)
    hist = prog.maps["read_ns_hist"]
    assert hist[1 + (3000).bit_length()] == 1 and sum(hist.contents().values()) == 1


def test_execsnoop_reads_the_data_loc_filename() -> None:
    if os.geteuid() != 0:
        pytest.skip("a tracepoint's fields come from tracefs, which root reads here")
    prog = load_program("examples/execsnoop.py", fakes=Fakes(comm=b"sh"))
    prog.on_exec(pid=20, old_pid=20, filename="/usr/bin/ls")
    (record,) = prog.maps["execs"].drain()
    assert struct.unpack_from("<II", record) == (20, 20)
    assert record[8:11] == b"sh\0" and record[24:36] == b"/usr/bin/ls\0"


def test_opensnoop_pairs_enter_and_exit() -> None:
    if os.geteuid() != 0:
        pytest.skip("a tracepoint's fields come from tracefs, which root reads here")
    prog = load_program("examples/opensnoop.py",
                        fakes=Fakes(pid=8, tgid=8, memory={0x5000: b"/etc/hostname\0"}))
    prog.enter_openat(filename=0x5000, flags=0o2000000)
    prog.exit_openat(ret=-2)
    (record,) = prog.maps["opens"].drain()
    pid, tid, flags, ret = struct.unpack_from("<IIQq", record)
    assert (pid, tid, flags, ret) == (8, 8, 0o2000000, -2)
    assert record[40:54] == b"/etc/hostname\0"


def test_profile_stacks_counts_samples_by_their_stacks() -> None:
    """get_stackid: a stack goes in the slot its hash picks and that is its
    id; the same stack gets the same id; no stack there is -EFAULT."""
    kernel = [0xFFFF_FFFF_8100_1000, 0xFFFF_FFFF_8100_2000, 0xFFFF_FFFF_8100_3000]
    prog = load_program("examples/profile_stacks.py",
                        fakes=Fakes(tgid=77, kernel_stack=kernel, user_stack=[]))
    prog.sample()
    prog.sample()
    ((key, count),) = prog.maps["counts"].contents().items()
    pid, kernel_stack, user_stack = key
    assert pid == 77 and count == 2
    assert user_stack == -14                  # -EFAULT: no user stack
    stack = prog.maps["stacks"][kernel_stack]
    assert list(stack[:3]) == kernel and not any(stack[3:])
    assert len(prog.maps["stacks"]) == 1


def test_a_stackid_slot_holding_another_stack() -> None:
    text = ("from pybpfc import PerfEventContext, StackTraceMap, get_stackid, i64, perf_event\n"
            "from pybpfc import BPF_F_REUSE_STACKID\n\n"
            "stacks: StackTraceMap = StackTraceMap(max_entries=1, depth=4)\n"
            "plain: i64 = 0\nreused: i64 = 0\nskipped: i64 = 0\n\n\n"
            "@perf_event\n"
            "def f(ctx: PerfEventContext) -> int:\n    global plain, reused, skipped\n"
            "    plain = get_stackid(ctx, stacks, 0)\n"
            "    reused = get_stackid(ctx, stacks, BPF_F_REUSE_STACKID)\n"
            "    skipped = get_stackid(ctx, stacks, 9)\n    return 0\n")
    prog = load_program("t.py", text=text, fakes=Fakes(kernel_stack=[1, 2, 3, 4, 5, 6]))
    assert prog.f().globals == {"plain": 0, "reused": 0, "skipped": -14}
    assert list(prog.maps["stacks"][0]) == [1, 2, 3, 4]       # cut to the depth
    prog.fakes.kernel_stack = [7, 8]
    assert prog.f().globals == {"plain": -17, "reused": 0, "skipped": -14}
    assert list(prog.maps["stacks"][0]) == [7, 8, 0, 0]


def test_exec_parents_reads_the_task_and_its_parent_from_memory() -> None:
    """Kernel struct members come from the fake memory at the build
    kernel's offsets; the parent is reached through the task's pointer."""
    from pybpfc.compiler.kernel_structs import kernel_struct
    task_t = kernel_struct("task_struct")
    tgid, parent_at, comm = (task_t.members[m].offset for m in ("tgid", "real_parent", "comm"))
    task, parent = 0xFFFF_8880_0300_0000, 0xFFFF_8880_0400_0000
    image = bytearray(task_t.size)
    image[tgid:tgid + 4] = (321).to_bytes(4, "little")
    image[parent_at:parent_at + 8] = parent.to_bytes(8, "little")
    image[comm:comm + 16] = b"true".ljust(16, b"\0")
    parent_image = bytearray(task_t.size)
    parent_image[tgid:tgid + 4] = (1).to_bytes(4, "little")
    parent_image[comm:comm + 16] = b"init".ljust(16, b"\0")
    prog = load_program("examples/exec_parents.py",
                        fakes=Fakes(memory={task: bytes(image), parent: bytes(parent_image)}))
    prog.on_exec(args=[task, 321, 0])
    (record,) = prog.maps["execs"].drain()
    pid, ppid = struct.unpack_from("<II", record)
    assert (pid, ppid) == (321, 1)
    assert record[8:24].rstrip(b"\0") == b"true" and record[24:40].rstrip(b"\0") == b"init"


def test_exec_parents_with_nothing_behind_the_task_reads_zeros() -> None:
    prog = load_program("examples/exec_parents.py")
    prog.on_exec(args=[0xFFFF_8880_0300_0000, 0, 0])
    (record,) = prog.maps["execs"].drain()
    assert record == bytes(len(record))
