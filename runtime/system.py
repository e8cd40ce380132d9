"""The few system calls the runtime needs that ``os`` does not offer
(``statfs``, ``prctl``, ``perf_event_open`` and the ioctls on its fds,
``mount``, ``fsopen``/``fsmount``), a process's start time from ``/proc``, and holding signals
back while a step must not be cut in two.  Like ``bpf.py`` for ``bpf(2)``,
this is the one place they are made."""
from __future__ import annotations

import contextlib
import ctypes
import errno as _errno
import fcntl
import os
import platform
import signal
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Union

from pybpfc.abi.kernel import (FSCONFIG_CMD_CREATE, FSCONFIG_SYSCALL, FSMOUNT_CLOEXEC,
                               FSMOUNT_SYSCALL, FSOPEN_CLOEXEC, FSOPEN_SYSCALL, MNT_DETACH,
                               PERF_EVENT_OPEN_SYSCALL_NUMBERS, PERF_FLAG_FD_CLOEXEC)
from pybpfc.abi.system import PR_SET_PDEATHSIG

from .errors import BpfError, SyscallError
from .perf_structs import PerfEventAttr

_libc: Optional[ctypes.CDLL] = None


def _c_library() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


class _StatFs(ctypes.Structure):
    # struct statfs on 64-bit Linux: f_type first, then fields read by nobody here.
    _fields_ = [("f_type", ctypes.c_long), ("rest", ctypes.c_byte * 112)]


def filesystem_magic(where: Union[int, str, "os.PathLike[str]"]) -> int:
    """The ``f_type`` of the filesystem holding a path (followed) or an open
    file descriptor (``fstatfs``); raises OSError."""
    buf = _StatFs()
    libc = _c_library()
    if isinstance(where, int):
        result = libc.fstatfs(where, ctypes.byref(buf))
    else:
        result = libc.statfs(os.fsencode(where), ctypes.byref(buf))
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number), None if isinstance(where, int) else str(where))
    return int(buf.f_type) & 0xFFFFFFFF


def parent_death_signal_setter(signum: int) -> Callable[[], None]:
    """A function that makes the calling process receive ``signum`` when its
    parent thread dies (``prctl(PR_SET_PDEATHSIG)``).  Looked up before a
    fork, so the child only makes the call."""
    prctl = _c_library().prctl
    prctl.restype = ctypes.c_int

    def set_signal() -> None:
        if prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signum), 0, 0, 0) != 0:
            number = ctypes.get_errno()
            raise OSError(number, f"prctl(PR_SET_PDEATHSIG): {os.strerror(number)}")
    return set_signal


def process_start_time(pid: int) -> Optional[int]:
    """When process ``pid`` started, in clock ticks since boot (field 22 of
    ``/proc/PID/stat``), or None if there is no such process.  With the pid
    it names one process for good: a pid reused later has another."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError as error:
        raise BpfError(f"process {pid}: cannot read /proc/{pid}/stat: {error.strerror}") \
            from None
    # The command name (field 2) is in parentheses and may hold anything,
    # even ") "; the fields after the last ')' start with field 3.
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[22 - 3])


# The signals that stop a pybpfc command (and raise in Python).
STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def signals_held(signals: Iterable[int] = STOPPING_SIGNALS) -> Iterator[None]:
    """Hold ``signals`` back inside the block (``pthread_sigmask``); one that
    arrives meanwhile is handled when the block ends.  For steps whose
    result must be recorded before a handler can raise: a directory made
    and not yet remembered would be left behind."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


# ------------------------------------------------------------ perf events


def perf_event_open(attr: PerfEventAttr, pid: int, cpu: int, group_fd: int = -1, *,
                    what: str) -> int:
    """``perf_event_open(&attr, pid, cpu, group_fd, PERF_FLAG_FD_CLOEXEC)``:
    a new perf event's fd (pid -1: every process on ``cpu``; cpu -1: process
    ``pid`` on every CPU).  ``attr.size`` is filled in."""
    machine = platform.machine()
    number = PERF_EVENT_OPEN_SYSCALL_NUMBERS.get(machine)
    if number is None:
        raise BpfError(f"{what}: perf_event_open: unknown system call number on "
                       f"architecture {machine!r}")
    attr.size = ctypes.sizeof(attr)
    syscall = _c_library().syscall
    syscall.restype = ctypes.c_long
    while True:
        fd = syscall(ctypes.c_long(number), ctypes.byref(attr), ctypes.c_int(pid),
                     ctypes.c_int(cpu), ctypes.c_int(group_fd),
                     ctypes.c_ulong(PERF_FLAG_FD_CLOEXEC))
        if fd >= 0:
            return int(fd)
        failed = ctypes.get_errno()
        if failed != _errno.EINTR:
            raise SyscallError("perf_event_open", failed, what)


def perf_event_ioctl(fd: int, request: int, arg: int, *, what: str) -> None:
    """An ioctl on a perf event (PERF_EVENT_IOC_ENABLE, _SET_BPF, ...)."""
    try:
        fcntl.ioctl(fd, request, arg)
    except OSError as err:
        raise SyscallError(f"ioctl({_IOCTL_NAMES.get(request, hex(request))})",
                           err.errno or 0, what) from None


def _ioctl_names() -> dict[int, str]:
    from pybpfc.abi import kernel
    return {value: name for name, value in vars(kernel).items()
            if name.startswith("PERF_EVENT_IOC_")}


_IOCTL_NAMES = _ioctl_names()

ONLINE_CPUS = Path("/sys/devices/system/cpu/online")


def cpu_numbers(listing: str) -> list[int]:
    """The CPUs a kernel CPU list names: ``0-2,5`` is [0, 1, 2, 5]."""
    cpus: list[int] = []
    for part in listing.strip().split(","):
        if part:
            first, _, last = part.partition("-")
            cpus.extend(range(int(first), int(last or first) + 1))
    return cpus


def online_cpus() -> list[int]:
    """The CPUs running now (per-CPU perf events can only be opened there)."""
    try:
        return cpu_numbers(ONLINE_CPUS.read_text())
    except (OSError, ValueError) as err:
        raise BpfError(f"{ONLINE_CPUS}: cannot list the online CPUs: {err}") from None


# ----------------------------------------------------------------- mounts


def mount(source: str, target: Union[str, "os.PathLike[str]"], fs_type: str) -> None:
    """``mount(source, target, fs_type, 0, NULL)``; raises OSError."""
    libc = _c_library()
    if libc.mount(source.encode(), os.fsencode(target), fs_type.encode(), ctypes.c_ulong(0),
                  None) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"mount -t {fs_type}: {os.strerror(number)}", str(target))


def unmount(target: Union[str, "os.PathLike[str]"]) -> None:
    """``umount2(target, MNT_DETACH)``: the mount leaves the tree now, and
    whoever still has files open on it keeps them; raises OSError."""
    if _c_library().umount2(os.fsencode(target), MNT_DETACH) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"umount: {os.strerror(number)}", str(target))


def detached_mount(fs_type: str) -> int:
    """A new mount of ``fs_type`` that is in no directory: an fd of its root
    (``fsopen``, ``fsconfig(CREATE)``, ``fsmount``).  Closing the fd, or the
    process ending, unmounts it; nothing is ever left behind.  Raises
    OSError."""
    syscall = _c_library().syscall
    syscall.restype = ctypes.c_long

    def call(name: str, *args: object) -> int:
        result = syscall(*args)
        if result < 0:
            number = ctypes.get_errno()
            raise OSError(number, f"{name}({fs_type}): {os.strerror(number)}")
        return int(result)

    context = call("fsopen", ctypes.c_long(FSOPEN_SYSCALL), fs_type.encode(),
                   ctypes.c_uint(FSOPEN_CLOEXEC))
    try:
        call("fsconfig", ctypes.c_long(FSCONFIG_SYSCALL), ctypes.c_int(context),
             ctypes.c_uint(FSCONFIG_CMD_CREATE), None, None, ctypes.c_int(0))
        return call("fsmount", ctypes.c_long(FSMOUNT_SYSCALL), ctypes.c_int(context),
                    ctypes.c_uint(FSMOUNT_CLOEXEC), ctypes.c_uint(0))
    finally:
        os.close(context)
