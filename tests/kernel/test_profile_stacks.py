"""examples/profile_stacks.py in the kernel: a forked child busy in a known
kernel path (readv of /dev/zero) is sampled; its busiest stacks, named
through /proc/kallsyms and its libc's ELF symbols, are that path's.  And
`pybpfc run` prints them so.

Safety: the perf events sample only the child (and, under `pybpfc run`,
watch the machine); nothing is attached to a cgroup but run's own.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.collection import load
from pybpfc.runtime.stack_counts import StackNamer, counts_by_stack
from tests.runtime.conftest import Forked
from tests.support import REPO_ROOT, require_root

pytestmark = pytest.mark.kernel

EXAMPLE = REPO_ROOT / "examples" / "profile_stacks.py"
FREQUENCY = 499
# What readv(2) of /dev/zero runs through in the kernel, innermost first.
READV_PATH = ("iov_iter_zero", "read_iter_zero", "do_iter_readv_writev", "vfs_readv",
              "do_readv")


def read_zeros(seconds: float) -> int:
    """readv(2) /dev/zero a MiB at a time (into one buffer: nothing is
    allocated) for ``seconds`` of CPU: nearly all of it in the kernel,
    clearing the caller's buffer."""
    fd = os.open("/dev/zero", os.O_RDONLY)
    buf = bytearray(1 << 20)
    reads = 0
    start = time.process_time()
    try:
        while time.process_time() - start < seconds:
            os.readv(fd, [buf])
            reads += 1
    finally:
        os.close(fd)
    return reads


def test_the_busiest_stacks_of_a_reader_of_dev_zero_are_named(tmp_path: Path) -> None:
    require_root("attaching perf events and reading /proc/kallsyms")
    obj = tmp_path / "profile_stacks.o"
    obj.write_bytes(compile_source(Source(str(EXAMPLE), EXAMPLE.read_text())).elf)
    namer = StackNamer()
    with load(obj) as coll, Forked(lambda: read_zeros(0.5)) as child:
        namer.remember([child.pid])      # its memory map, while it lives
        with coll["sample"].attach(frequency=FREQUENCY, pid=child.pid):
            assert child.run() > 0
        (name, (counts, stacks)), = counts_by_stack(coll).items()
        assert name == "counts"
        top = namer.top(counts, stacks, n=3)
    assert top and all(s.pid == child.pid for s in top), top
    busiest = top[0]
    # Half a second of CPU at FREQUENCY samples a second: the busiest stack
    # has a good share of them.
    assert busiest.count >= 0.1 * 0.5 * FREQUENCY, top
    assert busiest.kernel is not None, busiest
    kernel = [f.function for f in busiest.kernel]
    # Inlining may hide a frame or two, never all of the path.
    assert "read_iter_zero" in kernel and sum(f in kernel for f in READV_PATH) >= 3, kernel
    assert kernel.index("read_iter_zero") < kernel.index("vfs_readv"), kernel
    # The user stack starts in libc's readv, called by the interpreter.
    assert busiest.user is not None, busiest
    innermost = busiest.user[0]
    assert innermost.module == "libc.so.6" and innermost.function is not None, busiest.user
    assert "readv" in innermost.function, busiest.user
    assert busiest.comm == Path("/proc/self/comm").read_text().strip()


def test_pybpfc_run_prints_the_busiest_stacks_named(tmp_path: Path) -> None:
    require_root("pybpfc run")
    script = tmp_path / "reader.py"
    script.write_text(
        "import os, time\n"
        "fd = os.open('/dev/zero', os.O_RDONLY)\n"
        "buf = bytearray(1 << 20)\n"
        "start = time.process_time()\n"
        "while time.process_time() - start < 0.5:\n"
        "    os.readv(fd, [buf])\n")
    done = subprocess.run([sys.executable, "-m", "pybpfc", "run", str(EXAMPLE), "--",
                           sys.executable, str(script)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stderr
    assert "stacks counts (" in out, out
    # The reader's busiest stack, frame by frame as BCC's profile prints
    # it: kernel frames, "--", user frames, then the process and its count.
    block = out.split("stacks counts (", 1)[1]
    assert "    read_iter_zero+0x" in block and "    --\n" in block, out
    assert "    readv+0x" in block and "(libc.so.6)" in block, out
    assert f"-  {Path(sys.executable).name}" in block or "-  python" in block, out
    # The stack trace map itself is not listed entry by entry.
    assert "map stacks" not in out, out
