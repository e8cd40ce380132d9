"""Samples counted by stack, as a profiler shows them: the busiest stacks,
each named frame by frame, with the process and its count.

A map of such counts is one whose key is a struct with a ``kernel_stack``
and/or a ``user_stack`` field (stack ids the program got from
``get_stackid``, negative for none) and usually a ``pid`` one, and whose
value is the count; the ids are of the object's one stack trace map.

User stacks are named through their process's memory map, which is gone
with the process, so a :class:`StackNamer` keeps a snapshot of each
process it is shown while it lives (``remember``); ``pybpfc run`` has a
thread do that while the command runs (:class:`Remembering`).
"""
from __future__ import annotations

import errno as errnos
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Optional, TextIO

from .btf_types import Kind
from .errors import BpfError
from .maps import StackTraceMap
from .stacks import Frame, ProcessMaps, kernel_frames, user_frames

if TYPE_CHECKING:
    from .collection import Collection
    from .maps import Map

STACK_FIELDS = ("kernel_stack", "user_stack")
TOP = 10                    # stacks shown by default, busiest first
REMEMBER_EVERY = 0.2        # seconds between looks for new processes


def counts_by_stack(coll: "Collection") -> dict[str, tuple["Map", StackTraceMap]]:
    """The object's maps of counts by stack, each with the stack trace map
    its ids are of (none when the object has not exactly one)."""
    stack_maps = [m for m in coll.maps.values() if isinstance(m, StackTraceMap)]
    if len(stack_maps) != 1:
        return {}
    return {name: (m, stack_maps[0]) for name, m in coll.maps.items()
            if set(STACK_FIELDS) & set(_key_fields(m))}


def _key_fields(m: "Map") -> list[str]:
    btf, type_id = m.btf, m.spec.key_type_id
    if btf is None or not type_id:
        return []
    t = btf[btf.resolve(type_id)]
    return [member.name for member in t.members] if t.kind == Kind.STRUCT else []


@dataclass
class StackCount:
    """One counted stack: its process (``pid`` None when the key has
    none), the frames of each kind (None when the program got no stack,
    ``error`` the errno name), and the count."""
    count: int
    pid: Optional[int]
    comm: Optional[str]
    kernel: Optional[list[Frame]]
    user: Optional[list[Frame]]
    errors: dict[str, int] = field(default_factory=dict)


class StackNamer:
    """Names the stacks of a counts map, with what it remembered of each
    process (its memory map and command name) while it lived."""

    def __init__(self) -> None:
        self._processes: dict[int, Optional[ProcessMaps]] = {}
        self._comms: dict[int, str] = {}

    def remember(self, pids: Iterable[int]) -> None:
        """Snapshot each process of ``pids`` not seen yet, if it lives."""
        for pid in pids:
            if pid in self._processes or pid <= 0:
                continue
            try:
                maps: Optional[ProcessMaps] = ProcessMaps(pid)
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
            except (BpfError, OSError):
                maps, comm = None, None     # gone already (or a kernel thread's)
            self._processes[pid] = maps
            if comm:
                self._comms[pid] = comm

    def remember_counted(self, counts: "Map") -> None:
        self.remember({key["pid"] for key in counts.keys()
                       if isinstance(key, dict) and isinstance(key.get("pid"), int)})

    def top(self, counts: "Map", stacks: StackTraceMap, n: int = TOP) -> list[StackCount]:
        """The ``n`` stacks counted most, named."""
        entries = sorted(((_count(v), k) for k, v in counts.items() if isinstance(k, dict)),
                         key=lambda e: -e[0])
        self.remember_counted(counts)
        return [self._named(count, key, stacks) for count, key in entries[:n]]

    def _named(self, count: int, key: dict[str, Any], stacks: StackTraceMap) -> StackCount:
        pid = key.get("pid")
        named = StackCount(count, pid, self._comms.get(pid) if pid is not None else None,
                           None, None)
        for name in STACK_FIELDS:
            stack_id = key.get(name)
            if not isinstance(stack_id, int):
                continue
            if stack_id < 0:
                named.errors[name] = -stack_id
                continue
            try:
                addresses = stacks.stack(stack_id)
            except KeyError:
                continue        # replaced since (BPF_F_REUSE_STACKID)
            if name == "kernel_stack":
                named.kernel = kernel_frames(addresses)
            else:
                maps = self._processes.get(pid) if pid is not None else None
                named.user = (user_frames(addresses, maps) if maps is not None
                              else [Frame(a) for a in addresses])
        return named


def _count(value: Any) -> int:
    if isinstance(value, list):         # a per-CPU map: one count per CPU
        return sum(value)
    return value if isinstance(value, int) else 0


def errno_name(number: int) -> str:
    return errnos.errorcode.get(number, f"error {number}")


def render(name: str, top: list[StackCount], total: int) -> Iterator[str]:
    """Lines as BCC's profile prints stacks: kernel frames, ``--``, user
    frames, then the process and the count."""
    yield f"stacks {name} ({total} samples; the {len(top)} busiest)"
    for s in top:
        if s.kernel is not None:
            yield from (f"    {frame}" for frame in s.kernel)
        if s.kernel is not None and s.user is not None:
            yield "    --"
        if s.user is not None:
            yield from (f"    {frame}" for frame in s.user)
        for field_name, errno in s.errors.items():
            yield f"    [no {field_name.replace('_', ' ')}: {errno_name(errno)}]"
        who = f"{s.comm or '?'} ({s.pid})" if s.pid is not None else "?"
        yield f"    -  {who}"
        yield f"        {s.count}"


def show_stacks(coll: "Collection", namer: Optional[StackNamer] = None,
                out: Optional[TextIO] = None, n: int = TOP) -> list[str]:
    """Print each counts-by-stack map's busiest stacks; their names, and
    the stack trace map's."""
    import sys
    namer = namer or StackNamer()
    found = counts_by_stack(coll)
    for name, (counts, stacks) in found.items():
        try:
            total = sum(_count(v) for _, v in counts.items())
            lines = list(render(name, namer.top(counts, stacks, n), total))
        except BpfError as error:
            lines = [f"stacks {name}: not named: {error}"]
        print("\n".join(lines), file=out or sys.stdout)
    shown = list(found)
    shown += {stacks.spec.name for _, stacks in found.values()}
    return shown


class Remembering:
    """A thread that, while the block runs, snapshots each process the
    object's counts by stack name, so its user stacks can be named after
    it exits.  The namer is the thread's alone until the block ends."""

    def __init__(self, coll: "Collection", namer: StackNamer):
        self._counts = [m for m, _ in counts_by_stack(coll).values()]
        self._namer = namer
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pybpfc-stacks", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(REMEMBER_EVERY):
            for counts in self._counts:
                try:
                    self._namer.remember_counted(counts)
                except BpfError:
                    pass        # the next look, or the final one, tries again

    def __enter__(self) -> "Remembering":
        if self._counts:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
