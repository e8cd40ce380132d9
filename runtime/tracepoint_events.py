"""tracefs, where the kernel lists its tracepoints and their event ids.

Attaching a program to a tracepoint through perf needs the event's id,
which only tracefs tells.  tracefs is often not mounted; then it is mounted
at ``/sys/kernel/tracing`` for as long as the ids are read, and unmounted
again (an attached tracepoint keeps working without it).  Within one
process, nested and concurrent users share one mount.  The unmount is lazy
(MNT_DETACH): another process that opened files on the mount meanwhile
keeps them.
"""
from __future__ import annotations

import contextlib
import re
import threading
from pathlib import Path
from typing import Iterator, Optional

from . import system
from .cgroup import parse_mountinfo, MOUNTINFO
from .errors import BpfError

TRACEFS = Path("/sys/kernel/tracing")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")

_lock = threading.Lock()
_users = 0              # blocks inside mounted_tracefs(), while this process mounted it
_mounted_here = False


def tracefs_mount() -> Optional[Path]:
    """Where tracefs is mounted now (``/sys/kernel/tracing`` preferred), or None."""
    points = [m.mount_point for m in parse_mountinfo(MOUNTINFO.read_text())
              if m.fs_type == "tracefs"]
    if TRACEFS in points:
        return TRACEFS
    return points[0] if points else None


@contextlib.contextmanager
def mounted_tracefs() -> Iterator[Path]:
    """tracefs's mount point for the block: the existing mount, or one made
    at /sys/kernel/tracing and removed when the last block of this process
    that needed it ends (also when it raises)."""
    global _users, _mounted_here
    with _lock:
        if _users == 0:
            root = tracefs_mount()
            if root is None:
                try:
                    system.mount("none", TRACEFS, "tracefs")
                except OSError as err:
                    raise BpfError(f"tracefs: cannot mount it at {TRACEFS}: "
                                   f"{err.strerror}") from None
                _mounted_here = True
        root = TRACEFS if _mounted_here else tracefs_mount() or TRACEFS
        _users += 1
    try:
        yield root
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _mounted_here:
                _mounted_here = False
                try:
                    system.unmount(TRACEFS)
                except OSError as err:
                    raise BpfError(f"tracefs: cannot unmount {TRACEFS}, which pybpfc "
                                   f"mounted: {err.strerror}") from None


def split_tracepoint(target: str, what: str) -> tuple[str, str]:
    """``("syscalls", "sys_enter_openat")`` of ``"syscalls/sys_enter_openat"``."""
    category, _, name = target.partition("/")
    if not (_NAME.fullmatch(category) and _NAME.fullmatch(name)):
        raise BpfError(f"{what}: '{target}' is not a tracepoint: write CATEGORY/NAME, as in "
                       f"{TRACEFS}/events (e.g. syscalls/sys_enter_openat)")
    return category, name


def event_id(root: Path, category: str, name: str, what: str) -> int:
    """The perf event id of tracepoint ``category/name`` (tracefs at ``root``)."""
    text = event_file(root, category, name, "id", what)
    try:
        return int(text)
    except ValueError as err:
        raise BpfError(f"{what}: cannot read {root}/events/{category}/{name}/id: "
                       f"{err}") from None


def event_file(root: Path, category: str, name: str, file: str, what: str) -> str:
    """A file of tracepoint ``category/name`` (its ``id``, its ``format``)."""
    path = root / "events" / category / name / file
    try:
        return path.read_text()
    except FileNotFoundError:
        known = (root / "events" / category).is_dir()
        why = (f"category '{category}' has no event '{name}'" if known
               else f"there is no category '{category}'")
        raise BpfError(f"{what}: no tracepoint {category}/{name} in this kernel ({why}; "
                       f"see {TRACEFS}/events)") from None
    except OSError as err:
        raise BpfError(f"{what}: cannot read {path}: {err}") from None
