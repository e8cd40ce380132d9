"""Finding, opening and creating cgroup v2 directories.

The cgroup v2 hierarchy may be mounted anywhere (``/sys/fs/cgroup``,
``/sys/fs/cgroup/unified`` on hybrid systems, ...): :func:`cgroup2_root`
reads it from ``/proc/self/mountinfo``.  :class:`TemporaryCgroup` makes a
uniquely named cgroup for attaching programs and moving processes into, and
removes it afterwards; it never kills or moves anything itself.
:func:`kill_cgroup_tree` and :func:`remove_cgroup_tree` end what a cgroup
and its descendants hold, for those who own it (``command.CommandCgroup``).
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Optional, Union

from .errors import CgroupError
from .system import signals_held

__all__ = ["Mount", "parse_mountinfo", "cgroup2_root", "mount_of", "is_cgroup2_dir",
           "open_cgroup", "cgroup_id", "is_populated", "tree_pids", "kill_cgroup_tree",
           "remove_cgroup_tree", "TemporaryCgroup"]

StrPath = Union[str, "os.PathLike[str]"]

MOUNTINFO = Path("/proc/self/mountinfo")


@dataclass(frozen=True)
class Mount:
    mount_point: Path
    root: str       # the directory of the filesystem that is mounted there
    fs_type: str


def _unescape(field: str) -> str:
    # mountinfo writes space, tab, newline and backslash as \ooo.
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """The mounts of a ``/proc/<pid>/mountinfo`` text (see proc(5)).

    The filesystem type is the field after the lone ``-`` that ends the
    optional fields; it is looked for only after the six fixed fields, so a
    mount point named ``-`` is not taken for it.
    """
    mounts = []
    for line in text.splitlines():
        fields = line.split(" ")
        try:
            dash = fields.index("-", 6)
        except ValueError:
            continue
        if dash + 1 >= len(fields):
            continue
        mounts.append(Mount(Path(_unescape(fields[4])), _unescape(fields[3]),
                            fields[dash + 1]))
    return mounts


def _mounts(mountinfo: Optional[str]) -> list[Mount]:
    return parse_mountinfo(MOUNTINFO.read_text() if mountinfo is None else mountinfo)


def cgroup2_root(mountinfo: Optional[str] = None) -> Path:
    """Where the cgroup v2 hierarchy is mounted, from /proc/self/mountinfo
    (or the given text).  A mount of the hierarchy's root wins over a bind
    mount of one of its groups."""
    mounts = [m for m in _mounts(mountinfo) if m.fs_type == "cgroup2"]
    if not mounts:
        raise CgroupError("no cgroup v2 filesystem is mounted "
                          "(mount one with: mount -t cgroup2 none DIR)")
    mounts.sort(key=lambda m: m.root != "/")
    return mounts[0].mount_point


def mount_of(path: StrPath, mountinfo: Optional[str] = None) -> Optional[Mount]:
    """The mount ``path`` (resolved) lies on: the deepest mount point above
    it, the last one mounted if several share that point."""
    target = Path(path).resolve()
    best: Optional[Mount] = None
    for mount in _mounts(mountinfo):
        if target == mount.mount_point or mount.mount_point in target.parents:
            if best is None or len(mount.mount_point.parts) >= len(best.mount_point.parts):
                best = mount
    return best


def is_cgroup2_dir(path: StrPath) -> bool:
    """Whether ``path`` is a directory on a cgroup v2 filesystem."""
    mount = mount_of(path)
    return Path(path).is_dir() and mount is not None and mount.fs_type == "cgroup2"


def _check_cgroup2_dir(path: Path, role: str) -> None:
    if not path.exists():
        raise CgroupError(f"{role} '{path}' does not exist")
    if not path.is_dir():
        raise CgroupError(f"{role} '{path}' is not a directory")
    mount = mount_of(path)
    if mount is None or mount.fs_type != "cgroup2":
        where = f"on a {mount.fs_type} filesystem" if mount else "not on any mount"
        try:
            hint = f"; cgroup v2 is mounted at {cgroup2_root()}"
        except CgroupError:
            hint = "; no cgroup v2 filesystem is mounted"
        raise CgroupError(f"{role} '{path}' is not a cgroup v2 directory (it is {where}){hint}")


def open_cgroup(path: StrPath) -> int:
    """An ``O_RDONLY | O_DIRECTORY`` fd of the cgroup v2 directory ``path``,
    the target fd for attaching cgroup programs.  The caller closes it."""
    directory = Path(path)
    _check_cgroup2_dir(directory, "cgroup")
    try:
        return os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        raise CgroupError(f"cgroup '{directory}': cannot open: {error.strerror}") from error


def cgroup_id(path: StrPath) -> int:
    """The kernel's id of a cgroup v2 directory (its inode number), as in
    ``bpf_get_current_cgroup_id()`` and cgroup link info."""
    return os.stat(path).st_ino


def is_populated(path: StrPath) -> bool:
    """Whether any process is in the cgroup or one of its descendants
    (``populated`` in ``cgroup.events``)."""
    try:
        events = Path(path, "cgroup.events").read_text()
    except FileNotFoundError:
        return bool(tree_pids(path))       # the root cgroup has no cgroup.events
    return "populated 1" in events.splitlines()


def tree_pids(path: StrPath) -> list[int]:
    """The processes in the cgroup and all its descendants."""
    pids = []
    for directory, _, _ in os.walk(path):
        try:
            text = Path(directory, "cgroup.procs").read_text()
        except FileNotFoundError:          # removed while walking
            continue
        pids += [int(word) for word in text.split()]
    return pids


def kill_cgroup_tree(path: StrPath, timeout: float = 5.0) -> None:
    """SIGKILL every process in the cgroup and its descendants, and wait
    until none is left.  ``cgroup.kill`` does it in one step that no fork
    escapes; without it (kernels before 5.14), pids are killed until the
    tree stays empty."""
    directory = Path(path)
    if not is_populated(directory):
        return
    kill_file = directory / "cgroup.kill"
    has_kill = kill_file.exists()
    if has_kill:
        try:
            kill_file.write_text("1")
        except OSError as error:
            raise CgroupError(f"cannot kill the processes in cgroup '{directory}': "
                              f"{error.strerror}") from error
    deadline = time.monotonic() + timeout
    while is_populated(directory):
        if not has_kill:
            for pid in tree_pids(directory):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if time.monotonic() > deadline:
            left = ", ".join(map(str, tree_pids(directory))) or "none listed"
            raise CgroupError(f"cgroup '{directory}': processes still running {timeout:g} s "
                              f"after SIGKILL: {left}")
        time.sleep(0.005)


def remove_cgroup_tree(path: StrPath, timeout: float = 2.0) -> None:
    """Remove the cgroup and its descendants, deepest first; they must hold
    no process (see :func:`kill_cgroup_tree`).  A cgroup whose last process
    has just died may stay busy for a moment: each removal is retried until
    ``timeout``."""
    directory = Path(path)
    if not directory.exists():
        return
    below = [Path(parent, name) for parent, names, _ in os.walk(directory, topdown=False)
             for name in names]
    for cgroup in below + [directory]:
        try:
            rmdir_when_free(cgroup, timeout)
        except OSError as error:
            raise CgroupError(f"cannot remove cgroup '{cgroup}': {error.strerror}") from error


def rmdir_when_free(path: Path, timeout: float) -> None:
    """rmdir a cgroup, retrying while the kernel still holds it (EBUSY)."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError as error:
            if error.errno in (errno.EBUSY, errno.ENOTEMPTY) and time.monotonic() < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
                continue
            raise


class TemporaryCgroup:
    """A new, uniquely named cgroup below the cgroup v2 root (or below
    ``parent``, which must itself be a cgroup v2 directory), removed on exit.

    ::

        with TemporaryCgroup() as cgroup:
            link = bpf.link_create(prog_fd, cgroup.fd(), bpf.BPF_CGROUP_SYSCTL)
            cgroup.add_pid(child_pid)

    Leaving the block closes the directory fd and removes the directory,
    retrying for up to ``remove_timeout`` seconds while the kernel releases
    it.  It moves and kills nothing: if processes (or child cgroups) are
    still in it, removal fails with a :class:`CgroupError` that lists them.
    """

    def __init__(self, parent: Optional[StrPath] = None, prefix: str = "pybpfc-",
                 remove_timeout: float = 2.0) -> None:
        if "/" in prefix or prefix in ("", ".", ".."):
            raise ValueError(f"bad cgroup name prefix {prefix!r}")
        self._parent = None if parent is None else Path(parent)
        self._prefix = prefix
        self._remove_timeout = remove_timeout
        self._path: Optional[Path] = None
        self._fd: Optional[int] = None
        self._removed = False

    # ---------------------------------------------------------------- setup

    def create(self) -> "TemporaryCgroup":
        if self._path is not None:
            raise CgroupError(f"cgroup '{self._path}' was already created")
        parent = cgroup2_root() if self._parent is None else self._parent
        _check_cgroup2_dir(parent, "parent cgroup")
        for _ in range(100):
            path = parent / self._new_name()
            with signals_held():      # no Ctrl-C between making it and remembering it
                try:
                    os.mkdir(path)
                except FileExistsError:
                    continue
                except OSError as error:
                    raise CgroupError(f"cannot create cgroup '{path}': {error.strerror}"
                                      ) from error
                self._path = path
            return self
        raise CgroupError(f"cannot find an unused cgroup name in '{parent}'")

    def _new_name(self) -> str:
        return f"{self._prefix}{os.getpid()}-{secrets.token_hex(4)}"

    def __enter__(self) -> "TemporaryCgroup":
        try:
            return self.create()
        except BaseException:      # a signal handled as create() returns
            self.remove()
            raise

    def __exit__(self, kind: Optional[type[BaseException]], value: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        self.remove()

    # ----------------------------------------------------------------- use

    @property
    def path(self) -> Path:
        if self._path is None:
            raise CgroupError("the temporary cgroup has not been created yet")
        return self._path

    @property
    def id(self) -> int:
        return cgroup_id(self.path)

    def fd(self) -> int:
        """An O_RDONLY | O_DIRECTORY fd of the cgroup (the same one on every
        call), closed on exit."""
        if self._removed:
            raise CgroupError(f"cgroup '{self.path}' has been removed")
        if self._fd is None:
            self._fd = open_cgroup(self.path)
        return self._fd

    def add_pid(self, pid: int) -> None:
        """Move process ``pid`` into the cgroup (0: the calling process)."""
        procs = self.path / "cgroup.procs"
        try:
            fd = os.open(procs, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, f"{pid}\n".encode())
            finally:
                os.close(fd)
        except OSError as error:
            raise CgroupError(f"cannot move process {pid} into cgroup '{self.path}': "
                              f"{error.strerror}") from error

    def pids(self) -> list[int]:
        """The processes now in the cgroup."""
        text = (self.path / "cgroup.procs").read_text()
        return [int(line) for line in text.split()]

    # -------------------------------------------------------------- removal

    def remove(self) -> None:
        """Close the fd and remove the directory (idempotent)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
        if self._path is None or self._removed:
            return
        try:
            rmdir_when_free(self._path, self._remove_timeout)
        except OSError as error:
            raise CgroupError(self._why_not_removed(error)) from error
        self._removed = True

    def _why_not_removed(self, error: OSError) -> str:
        message = f"cannot remove cgroup '{self._path}': {error.strerror}"
        assert self._path is not None
        try:
            pids = self.pids()
        except OSError:
            pids = []
        if pids:
            message += (f"; processes still in it: {', '.join(map(str, pids))} "
                        f"(pybpfc moves and kills nothing; end or move them, then rmdir it)")
        children = sorted(p.name for p in self._path.iterdir() if p.is_dir()) \
            if self._path.is_dir() else []
        if children:
            message += f"; child cgroups: {', '.join(children)}"
        return message

    def __repr__(self) -> str:
        return f"TemporaryCgroup({str(self._path) if self._path else 'not created'})"
