"""Running a command in a cgroup of its own (runtime/command.py): the
names that record a cgroup's owner, telling a killed run's cgroups from a
live one's, and killing and removing a cgroup tree."""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.support import require_root
from pybpfc.runtime.cgroup import TemporaryCgroup, is_populated, kill_cgroup_tree
from pybpfc.runtime.command import CommandCgroup, leftovers, owner_of, remove_leftover
from pybpfc.runtime.system import process_start_time


@pytest.mark.parametrize("name, owner", [
    ("pybpfc-run-123-4567-0a1b2c3d", (123, 4567)),
    ("pybpfc-run-123-0a1b2c3d", None),            # no start time
    ("pybpfc-123-0a1b2c3d", None),                # a TemporaryCgroup
    ("pybpfc-run-123-4567-0a1b2c3d/x", None),
    ("pybpfc-run-x-4567-0a1b2c3d", None),
])
def test_the_owner_a_name_records(name: str, owner: object) -> None:
    assert owner_of(name) == owner


def test_a_process_start_time_names_one_process() -> None:
    mine = process_start_time(os.getpid())
    assert mine is not None and mine == process_start_time(os.getpid())
    child = os.fork()
    if child == 0:
        signal.pause()
        os._exit(0)
    try:
        later = process_start_time(child)
        assert later is not None and later > mine   # this test ran for more than a tick
    finally:
        os.kill(child, signal.SIGKILL)              # our own child, by pid
        os.waitpid(child, 0)
    assert process_start_time(child) is None
    assert process_start_time(2 ** 22 + 1) is None     # above pid_max


@pytest.mark.kernel
def test_a_cgroup_whose_owner_pid_names_another_process_now_is_a_leftover(
        cgroup: TemporaryCgroup) -> None:
    """Cgroups are told apart by pid and start time: the pid of a live
    process with another start time is a reused pid, not the owner."""
    me, started = os.getpid(), process_start_time(os.getpid())
    mine = cgroup.path / f"pybpfc-run-{me}-{started}-0000aaaa"
    reused = cgroup.path / f"pybpfc-run-{me}-{started - 1}-0000bbbb"
    unrelated = cgroup.path / "pybpfc-research-1"
    made = [mine, reused, reused / "daemon", unrelated]
    try:
        for path in made:
            path.mkdir()
        gone, alive = leftovers(cgroup.path)
        assert [(g.path, g.owner_pid, g.owner_start) for g in gone] == \
            [(reused, me, started - 1)]
        assert alive == [mine]
        assert leftovers(cgroup.path, owner_pid=me + 1) == ([], [])
        assert remove_leftover(gone[0]) == []
        assert not reused.exists()
        assert mine.is_dir() and unrelated.is_dir()
    finally:
        for path in reversed(made):
            if path.exists():
                path.rmdir()


@pytest.mark.kernel
def test_a_cgroup_tree_is_killed_whole(cgroup: TemporaryCgroup) -> None:
    """Processes in the cgroup and in a child cgroup all die; the tree is
    empty when kill_cgroup_tree returns."""
    child_cgroup = cgroup.path / "below"
    child_cgroup.mkdir()
    pids = []
    try:
        for where in (cgroup.path, child_cgroup):
            pid = os.fork()
            if pid == 0:
                Path(where, "cgroup.procs").write_text(str(os.getpid()))
                signal.pause()
                os._exit(0)
            pids.append(pid)
        deadline = time.monotonic() + 10
        while not all((w / "cgroup.procs").read_text().strip()
                      for w in (cgroup.path, child_cgroup)):
            assert time.monotonic() < deadline, "the children never moved in"
            time.sleep(0.01)
        assert is_populated(cgroup.path)
        kill_cgroup_tree(cgroup.path)
        assert not is_populated(cgroup.path)
        statuses = [os.waitpid(pid, 0)[1] for pid in pids]
        assert [os.WTERMSIG(s) for s in statuses] == [signal.SIGKILL, signal.SIGKILL]
    finally:
        for pid in pids:                     # our own children, by pid
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        child_cgroup.rmdir()


@pytest.mark.kernel
def test_command_cgroup_runs_a_command_and_removes_itself(tmp_path: Path) -> None:
    require_root("making a cgroup")
    out = tmp_path / "cgroup"
    with CommandCgroup() as cgroup:
        assert owner_of(cgroup.path.name) == (os.getpid(), process_start_time(os.getpid()))
        status = cgroup.run([sys.executable, "-c",
                             f"import sys; open({str(out)!r}, 'w').write("
                             "open('/proc/self/cgroup').read()); sys.exit(6)"])
        assert status == 6
        assert f"0::/{cgroup.path.name}\n" in out.read_text()
        path = cgroup.path
    assert not path.exists()


@pytest.mark.kernel
def test_command_cgroup_reports_a_command_it_cannot_run() -> None:
    require_root("making a cgroup")
    with CommandCgroup() as cgroup:
        assert cgroup.run(["/nonexistent/command"]) == 127
