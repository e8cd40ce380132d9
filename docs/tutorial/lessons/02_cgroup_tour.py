"""Lesson 2: make a cgroup, start a process in it, and remove it again."""
import subprocess

from pybpfc.runtime.cgroup import TemporaryCgroup, cgroup2_root

print(f"cgroup v2 is mounted at {cgroup2_root()}")

with TemporaryCgroup() as group:        # mkdir, with a name no one else uses
    print(f"made {group.path}")
    # The child moves itself into the cgroup (0 means "this process") before
    # it runs grep, which then reports the cgroup it is in.
    subprocess.run(["grep", "^0::", "/proc/self/cgroup"],
                   preexec_fn=lambda: group.add_pid(0), check=True)
    print(f"processes left in it: {group.pids()}")

print(f"removed it: {not group.path.exists()}")
