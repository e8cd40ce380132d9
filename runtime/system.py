"""The few system calls the runtime needs that ``os`` does not offer
(``statfs``, ``prctl``), a process's start time from ``/proc``, and
holding signals back while a step must not be cut in two.  Like ``bpf.py``
for ``bpf(2)``, this is the one place they are made."""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Union

from .errors import BpfError

BPF_FS_MAGIC = 0xCAFE4A11       # <linux/magic.h>
PR_SET_PDEATHSIG = 1            # <linux/prctl.h>

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
