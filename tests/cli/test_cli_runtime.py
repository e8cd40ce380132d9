"""The runtime's commands, run as a user runs them: `pybpfc run`, `load`,
`maps`, `detach` and `objdump`, against the real kernel."""
from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.support import (REPO_ROOT, clang_bpf, errno_of, pybpfc_cli, require_root,
                           run_in_cgroup)
from pybpfc.runtime.cgroup import TemporaryCgroup, cgroup2_root

DENY_TTL = REPO_ROOT / "examples" / "deny_ttl.py"
TRY_TTL = ("import socket\n"
           "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
           "try:\n    s.setsockopt(0, 2, 5); print('ttl: allowed')\n"
           "except OSError as e:\n    print('ttl: errno', e.errno)\n")


def run_cgroups() -> set[str]:
    """The cgroups `pybpfc run` makes (named pybpfc-run-PID-START-...)."""
    return {p.name for p in cgroup2_root().iterdir() if p.name.startswith("pybpfc-run-")}


@pytest.mark.kernel
def test_run_attaches_runs_and_removes_everything() -> None:
    require_root("pybpfc run")
    before = run_cgroups()
    result = pybpfc_cli("run", DENY_TTL, "--", sys.executable, "-c", TRY_TTL)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"ttl: errno {errno.EPERM}\n"
    assert "global refused = 1" in result.stderr
    assert run_cgroups() == before


@pytest.mark.kernel
def test_run_exits_with_the_commands_status() -> None:
    require_root("pybpfc run")
    before = run_cgroups()
    result = pybpfc_cli("run", DENY_TTL, "--", "sh", "-c", "exit 7")
    assert result.returncode == 7, result.stderr
    missing = pybpfc_cli("run", DENY_TTL, "--", "/nonexistent/command")
    assert missing.returncode == 127
    assert run_cgroups() == before


@pytest.mark.kernel
def test_run_cleans_up_when_terminated() -> None:
    require_root("pybpfc run")
    before = run_cgroups()
    with run_of("sleep", "30") as proc:
        wait_for_command_in_cgroup(proc)
        os.kill(proc.pid, signal.SIGTERM)      # our own child, by pid
        assert proc.wait(timeout=20) == 128 + signal.SIGTERM
    assert run_cgroups() == before


@pytest.mark.kernel
def test_run_reports_a_verifier_rejection_and_leaves_nothing(tmp_path: Path) -> None:
    require_root("pybpfc run")
    prog = tmp_path / "spin.py"
    prog.write_text("from pybpfc import SysctlContext, cgroup_sysctl, ALLOW\n\n\n"
                    "@cgroup_sysctl\ndef spin(ctx: SysctlContext) -> int:\n"
                    "    while ctx.file_pos < 10:\n        pass\n    return ALLOW\n")
    before = run_cgroups()
    result = pybpfc_cli("run", prog, "--", "true")
    assert result.returncode == 1
    assert result.stderr.startswith("pybpfc run: error: program 'spin': the verifier "
                                     "rejected it"), result.stderr
    assert "spin.py:6: while ctx.file_pos < 10:" in result.stderr
    assert "Traceback" not in result.stderr
    assert run_cgroups() == before


@pytest.mark.kernel
def test_run_attaches_what_attaches_to_a_cgroup_and_says_what_it_left(tmp_path: Path) -> None:
    """A socket filter is not attached to run's cgroup: its hook's row says
    it attaches to a socket."""
    require_root("pybpfc run")
    prog = tmp_path / "two.py"
    prog.write_text("from pybpfc import ALLOW, SkBuff, SockContext, cgroup_sock_create, "
                    "socket_filter\n\n\n"
                    "@socket_filter\ndef keep(skb: SkBuff) -> int:\n    return skb.len\n\n\n"
                    "@cgroup_sock_create\ndef allow(ctx: SockContext) -> int:\n"
                    "    return ALLOW\n")
    result = pybpfc_cli("run", prog, "--", "true")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == ("keep: not attached: it attaches to a socket (setsockopt(SOL_SOCKET, "
                        "SO_ATTACH_BPF)), not a cgroup")
    assert lines[1].startswith("pybpfc run: attached allow to ")


@pytest.mark.kernel
def test_load_pin_maps_detach(tmp_path: Path, bpffs: Path) -> None:
    require_root("attaching to a cgroup")
    with TemporaryCgroup() as cgroup:
        pins = bpffs / "deny"
        loaded = pybpfc_cli("load", DENY_TTL, "--cgroup", cgroup.path, "--pin", pins)
        assert loaded.returncode == 0, loaded.stderr
        assert {p.name for p in (pins / "links").iterdir()} == {"deny_ttl"}

        # pybpfc has exited; the pinned link keeps the hook attached.
        def child() -> int:
            return errno_of(socket.socket(socket.AF_INET, socket.SOCK_DGRAM).setsockopt,
                            0, 2, 5)
        assert run_in_cgroup(cgroup.path, child) == errno.EPERM
        shown = pybpfc_cli("maps", pins)
        assert shown.returncode == 0, shown.stderr
        assert "global refused = 1" in shown.stdout

        detached = pybpfc_cli("detach", pins)
        assert detached.returncode == 0, detached.stderr
        assert "removed links/deny_ttl" in detached.stdout
        assert run_in_cgroup(cgroup.path, child) == 0
        assert detached.stdout.endswith(f"removed {pins}\n")
        assert not pins.exists()


@pytest.mark.kernel
def test_maps_of_an_object_shows_initial_globals(tmp_path: Path) -> None:
    require_root("loading an object")
    prog = tmp_path / "g.py"
    prog.write_text("from pybpfc import SkBuff, socket_filter, u32, u64\n\n"
                    "limit: u32 = 7\ncounts: list[u64] = [1, 2, 3]\n\n\n"
                    "@socket_filter\ndef f(skb: SkBuff) -> int:\n    return limit\n")
    shown = pybpfc_cli("maps", prog)
    assert shown.returncode == 0, shown.stderr
    assert "global limit = 7" in shown.stdout
    assert "global counts = [1, 2, 3]" in shown.stdout


def test_objdump_interleaves_python_lines() -> None:
    dump = pybpfc_cli("objdump", DENY_TTL)
    assert dump.returncode == 0, dump.stderr
    assert "deny_ttl (cgroup/setsockopt" in dump.stdout
    assert ";         refused += 1  [deny_ttl.py:18:9]" in dump.stdout


@pytest.mark.parametrize("args, message", [
    (["load", str(DENY_TTL), "--cgroup", "/nonexistent/cgroup", "--pin", "/tmp"],
     "/nonexistent/cgroup: error: no such cgroup"),
    (["load", str(DENY_TTL), "--cgroup", "/tmp"], "not a cgroup v2 directory"),
    (["maps", "/nonexistent.o"], "/nonexistent.o: error: file not found"),
    (["detach", "/tmp"], "/tmp': not on a bpffs"),
    (["objdump", str(REPO_ROOT / "README.md")], "error:"),
])
def test_runtime_command_errors_are_one_clear_line(args: list[str], message: str) -> None:
    result = pybpfc_cli(*args)
    assert result.returncode == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.kernel
def test_load_with_a_cgroup_needs_a_pin_directory() -> None:
    require_root("making a cgroup")
    with TemporaryCgroup() as cgroup:
        result = pybpfc_cli("load", DENY_TTL, "--cgroup", cgroup.path)
        assert result.returncode == 1
        assert "give --pin DIR" in result.stderr


@pytest.mark.kernel
def test_load_refuses_a_pin_directory_outside_bpffs(tmp_path: Path) -> None:
    require_root("making a cgroup")
    with TemporaryCgroup() as cgroup:
        result = pybpfc_cli("load", DENY_TTL, "--cgroup", cgroup.path, "--pin", tmp_path / "p")
        assert result.returncode == 1
        assert "not on a bpffs" in result.stderr


@pytest.mark.kernel
@pytest.mark.parametrize("delay", [0.0, 0.15, 0.3, 0.6, 1.0])
def test_run_leaves_nothing_whenever_it_is_terminated(delay: float) -> None:
    """SIGTERM at any moment (while starting, loading, attaching or running
    the command) ends pybpfc run without leaving its cgroup behind."""
    require_root("pybpfc run")
    before = run_cgroups()
    with run_of("sleep", "30") as proc:
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGTERM)      # our own child, by pid
        # Killed before Python set its handlers, or exited as the signal would.
        assert proc.wait(timeout=20) in (-signal.SIGTERM, 128 + signal.SIGTERM)
    assert run_cgroups() == before


@contextlib.contextmanager
def run_of(*command: str) -> Iterator["subprocess.Popen[str]"]:
    """`pybpfc run` of the example around ``command``, as a child process;
    killed at the end of the block if it is still running."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "pybpfc", "run", str(DENY_TTL), "--",
                             *command], env=env, stderr=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()                        # our own child, by pid
            proc.wait()


def cgroups_of(proc: "subprocess.Popen[str]") -> set[str]:
    """The cgroups that `pybpfc run` process made (CommandCgroup puts its
    owner's pid in the name), whatever other tests on the machine are doing."""
    return {name for name in run_cgroups() if name.startswith(f"pybpfc-run-{proc.pid}-")}


def wait_for_command_in_cgroup(proc: "subprocess.Popen[str]") -> Path:
    """The cgroup `pybpfc run` made, once the command is running in it."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        made = cgroups_of(proc)
        if made:
            (name,) = made
            with contextlib.suppress(FileNotFoundError):
                if (cgroup2_root() / name / "cgroup.procs").read_text().strip():
                    return cgroup2_root() / name
        time.sleep(0.05)
    raise AssertionError("pybpfc run never ran its command in a cgroup")


@pytest.mark.kernel
def test_run_cleans_up_on_ctrl_c() -> None:
    """Ctrl-C: the terminal sends SIGINT to pybpfc and the command; pybpfc
    passes it on, the command ends, the cgroup goes, exit 130."""
    require_root("pybpfc run")
    with run_of("sleep", "30") as proc:
        cgroup = wait_for_command_in_cgroup(proc)
        (command_pid,) = map(int, (cgroup / "cgroup.procs").read_text().split())
        os.kill(proc.pid, signal.SIGINT)        # our own children, by pid
        # pybpfc may have passed its SIGINT on and reaped the command already.
        with contextlib.suppress(ProcessLookupError):
            os.kill(command_pid, signal.SIGINT)
        assert proc.wait(timeout=20) == 128 + signal.SIGINT
    assert not cgroups_of(proc)
    assert "Traceback" not in proc.stderr.read()


@pytest.mark.kernel
def test_run_forwards_sigint_to_a_command_that_survives_it() -> None:
    """SIGINT to pybpfc alone reaches the command; one that ignores it keeps
    running until it ends by itself, and then everything is removed."""
    require_root("pybpfc run")
    with run_of("sh", "-c", "trap 'echo got INT >&2' INT; sleep 1; sleep 1; exit 3") as proc:
        wait_for_command_in_cgroup(proc)
        time.sleep(0.3)                         # let sh set its trap
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=20) == 3
    stderr = proc.stderr.read()
    assert "got INT" in stderr
    assert not cgroups_of(proc)


@pytest.mark.kernel
@pytest.mark.parametrize("delay", [0.0, 0.2, 0.5, 1.0])
def test_run_leaves_nothing_whenever_it_is_interrupted(delay: float) -> None:
    """SIGINT at any moment (starting, loading, attaching, running) ends
    pybpfc run with its cgroup removed."""
    require_root("pybpfc run")
    with run_of("sleep", "30") as proc:
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGINT)        # our own child, by pid
        # Killed before Python set its handlers, interrupted, or the command's status.
        assert proc.wait(timeout=20) in (-signal.SIGINT, 128 + signal.SIGINT)
    assert not cgroups_of(proc)


def attached_ids(cgroup: Path, attach_type: int) -> list[int]:
    from pybpfc.runtime import bpf
    fd = os.open(cgroup, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return bpf.prog_query(fd, attach_type).prog_ids
    finally:
        os.close(fd)


@pytest.mark.kernel
def test_run_attaches_only_to_the_cgroup_it_made() -> None:
    require_root("pybpfc run")
    from pybpfc.runtime import bpf
    setsockopt = bpf.BPF_CGROUP_SETSOCKOPT
    root_before = attached_ids(cgroup2_root(), setsockopt)
    with run_of("sleep", "30") as proc:
        cgroup = wait_for_command_in_cgroup(proc)
        assert len(attached_ids(cgroup, setsockopt)) == 1
        assert attached_ids(cgroup2_root(), setsockopt) == root_before
        os.kill(proc.pid, signal.SIGTERM)      # our own child, by pid
        proc.wait(timeout=20)
    assert not cgroups_of(proc)


# ------------------------------------------- what the command leaves running

# A command that starts a daemon (its own session, reparented away from the
# command) and waits until the daemon's first setsockopt(IP_TTL) has been
# refused.  The daemon then calls setsockopt(IP_TTL) in a loop and logs
# every call that went through: one that ran without the policy.  argv:
# the cgroup v2 root, the log, "same" or "nested" (the daemon moves into a
# cgroup of its own below the command's), and the command's exit status or
# "sleep" (wait for good).
DAEMON = r"""
import os, socket, sys, time
root, log, where, then = sys.argv[1:5]
lines = open("/proc/self/cgroup").read().splitlines()
cgroup = root + next(line[3:] for line in lines if line.startswith("0::"))
ready_r, ready_w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        if where == "nested":
            os.mkdir(cgroup + "/daemon")
            with open(cgroup + "/daemon/cgroup.procs", "w") as procs:
                procs.write(str(os.getpid()))
        out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(out, b"daemon %d\n" % os.getpid())
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        while True:
            try:
                s.setsockopt(0, 2, 5)
                os.write(out, b"allowed\n")
            except OSError:
                if ready_w >= 0:
                    os.write(ready_w, b"x")
                    os.close(ready_w)
                    ready_w = -1
    os._exit(0)
os.close(ready_w)
os.read(ready_r, 1)
with open(log, "a") as out:
    out.write("command %d\n" % os.getpid())
if then == "sleep":
    time.sleep(300)
sys.exit(int(then))
"""


def logged_pid(log: Path, role: str) -> int:
    for line in log.read_text().splitlines():
        if line.startswith(f"{role} "):
            return int(line.split()[1])
    raise AssertionError(f"no {role} in {log}: {log.read_text()!r}")


def is_running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def wait_until_gone(pid: int, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while is_running(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not is_running(pid)


def processes_below(cgroup: Path) -> list[int]:
    return [int(pid) for directory, _, _ in os.walk(cgroup)
            for pid in Path(directory, "cgroup.procs").read_text().split()]


@pytest.mark.kernel
@pytest.mark.parametrize("where", ["same", "nested"])
def test_run_kills_what_the_command_left_before_detaching(
        where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A daemon the command started dies before the program is detached: it
    never makes a call without the policy, a child cgroup it moved into
    goes too, and run exits with the command's status.  In-process, to see
    what is in the cgroup when the link is closed."""
    require_root("pybpfc run")
    from pybpfc import cli
    from pybpfc.runtime.link import Link
    at_detach: list[list[int]] = []
    really_close = Link.close

    def look_then_close(link: Link) -> None:
        if link.fd >= 0:
            at_detach.append(processes_below(Path(link.cgroup)))
        really_close(link)

    monkeypatch.setattr(Link, "close", look_then_close)
    before = run_cgroups()
    log = tmp_path / "log"
    status = cli.main(["run", str(DENY_TTL), "--", sys.executable, "-c", DAEMON,
                       str(cgroup2_root()), str(log), where, "3"])
    daemon = logged_pid(log, "daemon")
    try:
        assert status == 3, capsys.readouterr().err
        assert at_detach == [[]]
        assert "allowed" not in log.read_text().splitlines()
        assert wait_until_gone(daemon)
        assert run_cgroups() == before
    finally:
        if is_running(daemon):                 # our own daemon, by pid
            os.kill(daemon, signal.SIGKILL)


@pytest.mark.kernel
def test_a_killed_run_takes_its_command_along_and_cleanup_removes_the_rest(
        tmp_path: Path) -> None:
    """SIGKILL to pybpfc run: its command dies with it; a daemon the command
    started into a child cgroup stays there until `pybpfc cleanup`, which
    kills it and removes every cgroup of that run."""
    require_root("pybpfc run")
    log = tmp_path / "log"
    daemon = 0
    with run_of(sys.executable, "-c", DAEMON, str(cgroup2_root()), str(log), "nested",
                "sleep") as proc:
        try:
            deadline = time.monotonic() + 20
            while "command " not in (log.read_text() if log.exists() else ""):
                assert time.monotonic() < deadline, "the command never started its daemon"
                time.sleep(0.05)
            daemon, command = logged_pid(log, "daemon"), logged_pid(log, "command")
            os.kill(proc.pid, signal.SIGKILL)      # our own child, by pid
            proc.wait(timeout=20)
            assert wait_until_gone(command), "the command outlived pybpfc run"
            assert is_running(daemon)
            assert cgroups_of(proc)

            cleaned = pybpfc_cli("cleanup", "--pid", proc.pid)
            assert cleaned.returncode == 0, cleaned.stderr
            assert f"killed 1 process ({daemon})" in cleaned.stdout
            assert wait_until_gone(daemon)
            assert not cgroups_of(proc)
        finally:
            if daemon and is_running(daemon):      # our own daemon, by pid
                os.kill(daemon, signal.SIGKILL)
                pybpfc_cli("cleanup", "--pid", proc.pid)


@pytest.mark.kernel
def test_cleanup_keeps_the_cgroup_of_a_run_that_is_still_going() -> None:
    require_root("pybpfc run")
    with run_of("sleep", "30") as proc:
        cgroup = wait_for_command_in_cgroup(proc)
        cleaned = pybpfc_cli("cleanup", "--pid", proc.pid)
        assert cleaned.returncode == 0, cleaned.stderr
        assert cleaned.stdout == (f"kept {cgroup}: its pybpfc run (pid {proc.pid}) "
                                  "is still running\n")
        assert (cgroup / "cgroup.procs").read_text().strip()
        os.kill(proc.pid, signal.SIGTERM)      # our own child, by pid
        assert proc.wait(timeout=20) == 128 + signal.SIGTERM
    assert not cgroups_of(proc)


def test_cleanup_with_nothing_to_clean() -> None:
    cleaned = pybpfc_cli("cleanup", "--pid", "0")
    assert cleaned.returncode == 0, cleaned.stderr
    assert cleaned.stdout == "nothing to clean up: no cgroup of a pybpfc run is left\n"


# ------------------------------------------------- maps that cannot be listed


@pytest.fixture(scope="module")
def keyless_maps_object(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("keyless") / "maps_without_keys.o"
    return clang_bpf(REPO_ROOT / "tests" / "c" / "maps_without_keys.c", out)


KEYLESS_LINES = (
    "map protocols (bloom filter): not listed: it stores no keys; it only answers "
    "whether a value may have been added\n"
    "map events (perf event array): not listed: its entries are perf event file "
    "descriptors, which cannot be read back\n")


@pytest.mark.kernel
def test_run_exits_with_the_commands_status_when_a_map_cannot_be_listed(
        keyless_maps_object: Path) -> None:
    require_root("pybpfc run")
    before = run_cgroups()
    result = pybpfc_cli("run", keyless_maps_object, "--", "sh", "-c", "exit 5")
    assert result.returncode == 5, result.stderr
    assert result.stderr.endswith(KEYLESS_LINES)
    assert run_cgroups() == before


@pytest.mark.kernel
def test_maps_shows_a_map_that_cannot_be_listed(keyless_maps_object: Path) -> None:
    require_root("loading an object")
    shown = pybpfc_cli("maps", keyless_maps_object)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == KEYLESS_LINES


@pytest.mark.kernel
@pytest.mark.parametrize("step", ["kill_all", "remove"])
def test_run_exits_with_the_commands_status_when_cleaning_up_fails(
        step: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """In-process, with killing what the command left, or removing the
    cgroup, made to fail after it has really been done."""
    require_root("pybpfc run")
    from pybpfc import cli
    from pybpfc.runtime.command import CommandCgroup
    from pybpfc.runtime.errors import CgroupError
    really = getattr(CommandCgroup, step)

    def do_then_fail(self: CommandCgroup) -> None:
        really(self)
        raise CgroupError(f"cgroup '{self.path}': {step} made to fail")

    monkeypatch.setattr(CommandCgroup, step, do_then_fail)
    before = run_cgroups()
    assert cli.main(["run", str(DENY_TTL), "--", "sh", "-c", "exit 4"]) == 4
    err = capsys.readouterr().err
    assert "pybpfc run: warning: cleaning up after sh: cgroup '" in err
    assert f"{step} made to fail" in err
    assert run_cgroups() == before
