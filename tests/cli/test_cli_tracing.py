"""`pybpfc run` with tracing programs: they attach to the events their
sections name (not to the command's cgroup) while the command runs, and
what they counted is shown after it."""
from __future__ import annotations

import os
import sys

import pytest

from pybpfc.runtime.tracepoint_events import tracefs_mount
from tests.support import REPO_ROOT, pybpfc_cli, require_root

# getpriority(2): neither Python nor `pybpfc run`'s start of the command
# makes it (the start calls getppid).
GETPRIORITY = {"x86_64": 140, "aarch64": 141, "riscv64": 141}[os.uname().machine]
COUNTED = ("import os\nprint(os.getpid())\n"
           "for _ in range(7):\n    os.getpriority(os.PRIO_PROCESS, 0)\n")


@pytest.mark.kernel
def test_run_attaches_a_raw_tracepoint_and_shows_the_commands_count() -> None:
    require_root("pybpfc run")
    tracefs_before = tracefs_mount()
    result = pybpfc_cli("run", REPO_ROOT / "examples" / "syscount.py", "--",
                        sys.executable, "-c", COUNTED)
    assert result.returncode == 0, result.stderr
    pid = int(result.stdout)
    assert "pybpfc run: attached count to raw tracepoint sys_enter\n" in result.stderr
    assert " to /sys/fs/cgroup" not in result.stderr      # nothing went to the cgroup
    # The map's listing has the command's count of its system call.
    assert f"  {pid << 32 | GETPRIORITY}: 7\n" in result.stderr, result.stderr
    assert tracefs_mount() == tracefs_before


@pytest.mark.kernel
def test_run_attaches_both_tracepoints_of_opensnoop() -> None:
    require_root("pybpfc run")
    result = pybpfc_cli("run", REPO_ROOT / "examples" / "opensnoop.py", "--",
                        "cat", "/etc/hostname")
    assert result.returncode == 0, result.stderr
    # The command's own output, and (run shows records as they come) the
    # record of its open of /etc/hostname.
    hostname = open("/etc/hostname").read()
    assert hostname in result.stdout
    records = result.stdout.replace(hostname, "", 1).splitlines()
    assert any("/etc/hostname" in line for line in records), result.stdout
    for program, event in (("enter_openat", "syscalls/sys_enter_openat"),
                           ("exit_openat", "syscalls/sys_exit_openat")):
        assert f"pybpfc run: attached {program} to tracepoint {event}\n" in result.stderr
