"""Counts by stack named without a kernel: which maps hold them (by their
key's BTF), the busiest first, user frames named through the memory map
remembered while the process lived, errors shown, and the lines printed
as BCC's profile prints them."""
from __future__ import annotations

import ctypes
import os
from typing import Any

from pybpfc.runtime.stack_counts import StackCount, StackNamer, render
from pybpfc.runtime.stacks import Frame


class Counts:
    """A counts map as the namer reads it: keys and items."""

    def __init__(self, entries: list[tuple[dict[str, int], int]]):
        self.entries = entries

    def keys(self) -> Any:
        return iter(k for k, _ in self.entries)

    def items(self) -> Any:
        return iter(self.entries)


class Stacks:
    def __init__(self, stacks: dict[int, list[int]]):
        self.stacks = stacks

    def stack(self, stack_id: int) -> list[int]:
        return list(self.stacks[stack_id])


def libc_getpid() -> int:
    address = ctypes.cast(ctypes.CDLL("libc.so.6").getpid, ctypes.c_void_p).value
    assert address is not None
    return address


def test_the_busiest_stacks_come_first_with_user_frames_named() -> None:
    pid, getpid = os.getpid(), libc_getpid()
    counts = Counts([({"pid": pid, "kernel_stack": -14, "user_stack": 3}, 5),
                     ({"pid": pid, "kernel_stack": -14, "user_stack": 4}, 9),
                     ({"pid": pid, "kernel_stack": -14, "user_stack": 99}, 1)])
    stacks = Stacks({3: [getpid + 2], 4: [getpid + 4, 8]})
    namer = StackNamer()
    top = namer.top(counts, stacks, n=2)      # type: ignore[arg-type]
    assert [s.count for s in top] == [9, 5]
    first = top[0]
    assert first.pid == pid and first.kernel is None and first.errors == {"kernel_stack": 14}
    assert first.user is not None and [str(f) for f in first.user[1:]] == ["0x8"]
    assert first.user[0].module == "libc.so.6" and first.user[0].offset == 4
    assert first.user[0].function in ("getpid", "__getpid")
    assert first.comm == open("/proc/self/comm").read().strip()


def test_a_process_gone_before_it_was_seen_keeps_bare_addresses() -> None:
    child = os.fork()
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)
    counts = Counts([({"pid": child, "user_stack": 0}, 2)])
    (named,) = StackNamer().top(counts, Stacks({0: [libc_getpid()]}))  # type: ignore[arg-type]
    assert named.comm is None and named.user == [Frame(libc_getpid())]


def test_a_stack_replaced_since_is_left_out() -> None:
    counts = Counts([({"pid": 0, "user_stack": 7}, 1)])
    (named,) = StackNamer().top(counts, Stacks({}))  # type: ignore[arg-type]
    assert named.user is None and named.errors == {}


def test_lines_are_bccs_profile() -> None:
    top = [StackCount(9, 42, "reader", [Frame(1, "read_zero", 0x1a), Frame(2, "vfs_read", 4)],
                      [Frame(3, "read", 7, "libc.so.6")]),
           StackCount(2, 0, None, [Frame(5, "default_idle", 5)], None, {"user_stack": 14})]
    assert list(render("counts", top, 30)) == [
        "stacks counts (30 samples; the 2 busiest)",
        "    read_zero+0x1a",
        "    vfs_read+0x4",
        "    --",
        "    read+0x7 (libc.so.6)",
        "    -  reader (42)",
        "        9",
        "    default_idle+0x5",
        "    [no user stack: EFAULT]",
        "    -  ? (0)",
        "        2",
    ]
