"""Running a command in a cgroup of its own, as ``pybpfc run`` does, and
removing what a killed run left behind.

:class:`CommandCgroup` is a temporary cgroup named after its owner, the
process that made it: ``pybpfc-run-PID-START-XXXXXXXX``, where START is the
owner's start time, so that a reused pid is never taken for the owner.
``run(command)`` forks, moves the child into the cgroup, execs the command
and waits for it, passing SIGINT, SIGTERM and SIGHUP on; when the command
ends, it kills whatever the command left in the cgroup and its descendants,
before anything attached to the cgroup is detached.  Leaving the ``with``
block kills again and removes the cgroup tree.

The command dies with its owner (``PR_SET_PDEATHSIG``); what it started
lives on in the cgroup if the owner is killed with SIGKILL.
:func:`leftovers` finds such cgroups (their owner is gone) and
:func:`remove_leftover` kills their processes and removes them.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, NoReturn, Optional, Sequence

from .cgroup import (TemporaryCgroup, cgroup2_root, kill_cgroup_tree, remove_cgroup_tree,
                     tree_pids)
from .system import (STOPPING_SIGNALS, parent_death_signal_setter, process_start_time,
                     signals_held)

__all__ = ["CommandCgroup", "Terminated", "FORWARDED_SIGNALS", "terminate_on_signals",
           "Leftover", "command_cgroups", "leftovers", "remove_leftover", "owner_of"]

PREFIX = "pybpfc-run-"
_NAME = re.compile(rf"^{re.escape(PREFIX)}(\d+)-(\d+)-[0-9a-f]+$")

FORWARDED_SIGNALS = STOPPING_SIGNALS


class Terminated(SystemExit):
    """A signal (SIGTERM, SIGHUP, or SIGINT before the command started)
    asked the owner to stop: unwind, removing what was made, and exit as
    the signal would have (128 + N)."""


@contextlib.contextmanager
def terminate_on_signals(signals: Sequence[int] = (signal.SIGTERM, signal.SIGHUP)
                         ) -> Iterator[None]:
    """Inside the block, ``signals`` raise :class:`Terminated`, so that the
    ``with`` blocks inside it undo what they did."""
    def terminate(signum: int, _frame: object) -> None:
        raise Terminated(128 + signum)
    previous = {signum: signal.signal(signum, terminate) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# ------------------------------------------------------------------ owners


def owner_of(name: str) -> Optional[tuple[int, int]]:
    """The (pid, start time) a command cgroup's name records, or None if
    the name is not one :class:`CommandCgroup` makes."""
    match = _NAME.match(name)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _owner_alive(pid: int, start: int) -> bool:
    return process_start_time(pid) == start


# ----------------------------------------------------------------- running


class CommandCgroup(TemporaryCgroup):
    """A temporary cgroup to run one command in (see the module's text)."""

    def __init__(self, parent: Optional[os.PathLike[str] | str] = None,
                 remove_timeout: float = 2.0, kill_timeout: float = 5.0) -> None:
        super().__init__(parent, prefix=PREFIX, remove_timeout=remove_timeout)
        self._kill_timeout = kill_timeout
        # The last command's exit status, once it has ended: still known when
        # what follows it (killing what it left, removing) fails.
        self.exit_status: Optional[int] = None

    def _new_name(self) -> str:
        pid = os.getpid()
        start = process_start_time(pid)
        assert start is not None         # this very process
        return f"{PREFIX}{pid}-{start}-{secrets.token_hex(4)}"

    def kill_all(self) -> None:
        """Kill every process in the cgroup and below, and wait until none is left."""
        kill_cgroup_tree(self.path, self._kill_timeout)

    def remove(self) -> None:
        """Kill what is left, then remove the cgroup and its descendants."""
        try:
            if self._path is not None and self._path.exists():
                self.kill_all()
                for child in [p for p in self._path.iterdir() if p.is_dir()]:
                    remove_cgroup_tree(child, self._remove_timeout)
        finally:
            super().remove()

    def run(self, command: Sequence[str]) -> int:
        """Run ``command`` in the cgroup and wait for it; return its exit
        status (128 + N when signal N killed it).  SIGINT, SIGTERM and
        SIGHUP are passed on to it.  Whether it ends or this call is
        interrupted, every process left in the cgroup tree is killed
        before this returns or raises (``exit_status`` keeps the status
        if that fails).  Call it from the main thread: it sets signal
        handlers, and the command dies with the thread that forked it."""
        if not command:
            raise ValueError("no command to run")
        self.exit_status = None
        try:
            self.exit_status = _run_child(command, self)
        finally:
            self.kill_all()
        return self.exit_status


def _run_child(command: Sequence[str], cgroup: CommandCgroup) -> int:
    child = 0

    def forward(signum: int, _frame: object) -> None:
        if child > 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)
        else:
            raise Terminated(128 + signum)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED_SIGNALS}
    die_with_parent = parent_death_signal_setter(signal.SIGKILL)
    ready_r, ready_w = os.pipe()
    parent = os.getpid()
    try:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()            # the child must not print them again
        with signals_held(FORWARDED_SIGNALS):     # a child is never left unknown
            pid = os.fork()
            if pid == 0:
                _become_command(command, parent, die_with_parent, ready_r, ready_w)
            child = pid
        os.close(ready_r)
        ready_r = -1
        cgroup.add_pid(pid)
        os.write(ready_w, b"x")      # now in the cgroup: go on
        os.close(ready_w)
        ready_w = -1
        status = _wait(pid)
    except BaseException:
        if child > 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
            _wait(child)
        raise
    finally:
        for fd in (ready_r, ready_w):
            if fd >= 0:
                os.close(fd)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _wait(pid: int) -> int:
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:
            continue


def _become_command(command: Sequence[str], parent: int, die_with_parent: Callable[[], None],
                    ready_r: int, ready_w: int) -> NoReturn:
    """In the forked child: die with the parent, wait until the parent has
    moved it into the cgroup, then exec the command.  Never returns, never
    runs the parent's clean-up code."""
    try:
        for signum in FORWARDED_SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED_SIGNALS)   # held over the fork
        die_with_parent()
        if os.getppid() != parent:           # the parent died before prctl
            os._exit(1)
        os.close(ready_w)
        if os.read(ready_r, 1) != b"x":      # the parent gave up
            os._exit(1)
        os.close(ready_r)
        os.execvp(command[0], list(command))
    except OSError as e:
        print(f"pybpfc run: cannot run {command[0]}: {e.strerror}", file=sys.stderr)
        sys.stderr.flush()
        os._exit(127)
    except BaseException:
        os._exit(1)
    os._exit(1)


# ---------------------------------------------------------------- clean-up


@dataclass(frozen=True)
class Leftover:
    """A command cgroup whose owner no longer exists."""
    path: Path
    owner_pid: int
    owner_start: int

    def processes(self) -> list[int]:
        return tree_pids(self.path)


def command_cgroups(root: Optional[os.PathLike[str] | str] = None) -> list[Path]:
    """Every command cgroup directly below ``root`` (default: the cgroup v2
    root, where ``pybpfc run`` makes them)."""
    parent = cgroup2_root() if root is None else Path(root)
    return sorted(p for p in parent.iterdir() if p.is_dir() and owner_of(p.name))


def leftovers(root: Optional[os.PathLike[str] | str] = None,
              owner_pid: Optional[int] = None) -> tuple[list[Leftover], list[Path]]:
    """The command cgroups whose owner is gone, and those whose owner still
    runs; only those of ``owner_pid`` if given."""
    gone, alive = [], []
    for path in command_cgroups(root):
        found = owner_of(path.name)
        assert found is not None
        pid, start = found
        if owner_pid is not None and pid != owner_pid:
            continue
        if _owner_alive(pid, start):
            alive.append(path)
        else:
            gone.append(Leftover(path, pid, start))
    return gone, alive


def remove_leftover(leftover: Leftover, timeout: float = 5.0) -> list[int]:
    """Kill every process in a leftover cgroup tree and remove it; returns
    the pids it killed."""
    pids = leftover.processes()
    kill_cgroup_tree(leftover.path, timeout)
    remove_cgroup_tree(leftover.path)
    return pids
