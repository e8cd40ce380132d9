"""Reading what programs ``print()``: lines of the kernel's trace buffer.

``bpf_trace_printk`` writes an event of the trace buffer that tracefs shows
(``bpf_trace/bpf_trace_printk``).  A ``TracePrints`` reader makes a trace
*instance* of its own (a separate buffer, empty when made), enables that one
event in it and reads the instance's ``trace_pipe``: it sees only what was
printed while it exists, and leaves the machine's main buffer to whoever
reads it.  It keeps the lines of its programs' format strings (found in the
object: each helper call's format is an ``.rodata`` address loaded into r1)
and drops the rest, which other programs on the machine printed.

tracefs is used where it is mounted; where it is not, a mount of it is made
that is in no directory (``system.detached_mount``) and vanishes with its
fd, so nothing is left mounted, even when pybpfc is killed.  The instance is
removed on close; one a killed pybpfc left (``pybpfc-PID-START-XXXXXXXX``)
``pybpfc cleanup`` removes (``leftover_instances``).
"""
from __future__ import annotations

import errno
import os
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Optional

from pybpfc.abi import HELPERS

from . import system
from .errors import BpfError
from .owned import Closing
from .spec import OP_CALL, OP_LD_IMM64
from .tracepoint_events import tracefs_mount

if TYPE_CHECKING:
    from .spec import ObjectSpec

EVENT = "events/bpf_trace/bpf_trace_printk"
INSTANCE_PREFIX = "pybpfc-"
_INSTANCE = re.compile(r"pybpfc-(\d+)-(\d+)-[0-9a-f]{8}")
_TRACE_PRINTK = HELPERS["trace_printk"].func_id

# "  python3-6424    [000] ...11  1692.901119: bpf_trace_printk: text": the task
# and pid, the tgid when shown, the CPU, the flags when shown, the time.
_LINE = re.compile(r"\s*(?P<task>.*?)-(?P<pid>\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(?P<cpu>\d+)\]\s+"
                   r"(?:\S+\s+)?(?P<time>\d+\.\d+): bpf_trace_printk: (?P<message>.*)")
_CONVERSION = re.compile(r"%%|%[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|z)?([a-zA-Z])")
_VALUE = {"d": r"-?\d+", "i": r"-?\d+", "u": r"\d+", "x": r"[0-9a-f]+", "X": r"[0-9A-F]+",
          "c": r".", "s": r".*?"}


@dataclass(frozen=True)
class TraceLine:
    """One line a program printed: for which task, on which CPU, when
    (seconds of the trace clock), and the text."""
    task: str
    pid: int
    cpu: int
    time: float
    message: str


def parse_trace_line(line: str) -> Optional[TraceLine]:
    """The printed line in a ``trace_pipe`` line; None for any other line."""
    found = _LINE.fullmatch(line)
    if found is None:
        return None
    return TraceLine(found["task"], int(found["pid"]), int(found["cpu"]),
                     float(found["time"]), found["message"])


def print_formats(spec: "ObjectSpec") -> list[bytes]:
    """The format strings the object's programs hand ``bpf_trace_printk``:
    for each call of the helper, the read-only data that r1 was last loaded
    with before it."""
    formats: list[bytes] = []
    for program in spec.programs.values():
        data_at = {r.insn_index: r for r in program.relocations if r.kind == "data"}
        loaded = None
        for index in range(program.insn_count):
            insn = program.insn(index)
            if insn.code == OP_LD_IMM64 and insn.dst == 1:
                loaded = data_at.get(index)
            elif insn.code == OP_CALL and insn.src == 0 and insn.imm == _TRACE_PRINTK:
                text = _string_at(spec, loaded) if loaded is not None else None
                if text is not None and text not in formats:
                    formats.append(text)
    return formats


def _string_at(spec: "ObjectSpec", relocation: object) -> Optional[bytes]:
    section = spec.data.get(getattr(relocation, "target", ""))
    if section is None or not section.readonly:
        return None
    start = getattr(relocation, "offset", 0)
    end = section.contents.find(b"\0", start)
    return section.contents[start:end if end >= 0 else len(section.contents)]


def format_pattern(formats: Iterable[bytes]) -> re.Pattern[str]:
    """A pattern the lines printed with any of ``formats`` match whole."""
    alternatives = []
    for fmt in formats:
        text = fmt.decode("utf-8", "replace").rstrip("\n")
        pieces, at = [], 0
        for conversion in _CONVERSION.finditer(text):
            pieces.append(re.escape(text[at:conversion.start()]))
            letter = conversion.group(1)
            pieces.append("%" if letter is None else _VALUE.get(letter, r".*?"))
            at = conversion.end()
        pieces.append(re.escape(text[at:]))
        alternatives.append("".join(pieces))
    return re.compile("|".join(f"(?:{a})" for a in alternatives) or r"(?!)")


class TracePrints(Closing):
    """The lines printed while it is open, by the programs that use
    ``formats`` (every program's when ``formats`` is None), kept in a
    buffer of ``buffer_kb`` KiB per CPU.  ``fileno()``
    polls readable when lines are pending; ``read()`` takes them without
    waiting; ``lost()`` counts lines the buffer had no room for."""

    def __init__(self, formats: Optional[Iterable[bytes]] = None,
                 buffer_kb: Optional[int] = None):
        self.what = "print() output"
        self._pattern = None if formats is None else format_pattern(formats)
        self._partial = b""
        self._root = self._instance = self._pipe = -1
        # Named after this process, as command cgroups are: `pybpfc cleanup`
        # removes an instance whose process is gone.
        self.name = f"{INSTANCE_PREFIX}{os.getpid()}-{system.process_start_time(os.getpid())}-" \
                    f"{secrets.token_hex(4)}"
        try:
            self._root = _tracefs_root()
            try:
                os.mkdir(f"instances/{self.name}", dir_fd=self._root)
            except OSError as err:
                raise BpfError(f"{self.what}: cannot make trace instance {self.name}: "
                               f"{err.strerror}") from None
            self._instance = os.open(f"instances/{self.name}", os.O_PATH | os.O_DIRECTORY,
                                     dir_fd=self._root)
            if buffer_kb is not None:       # per CPU; the kernel's default is 1.4 MB
                self._write("buffer_size_kb", str(buffer_kb))
            self._write(f"{EVENT}/enable", "1")
            self._pipe = os.open("trace_pipe", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC,
                                 dir_fd=self._instance)
        except BaseException:
            self.close()
            raise

    def _write(self, name: str, text: str) -> None:
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CLOEXEC, dir_fd=self._instance)
            try:
                os.write(fd, text.encode())
            finally:
                os.close(fd)
        except OSError as err:
            raise BpfError(f"{self.what}: cannot write {name} of trace instance "
                           f"{self.name}: {err.strerror}") from None

    def fileno(self) -> int:
        return self._pipe

    def read(self) -> list[TraceLine]:
        """The lines pending now, oldest first, without waiting."""
        if self._pipe < 0:
            raise BpfError(f"{self.what}: the reader is closed")
        chunks = [self._partial]
        while True:
            try:
                chunk = os.read(self._pipe, 1 << 16)
            except BlockingIOError:
                break
            except InterruptedError:
                continue
            if not chunk:
                break
            chunks.append(chunk)
        data = b"".join(chunks)
        complete, _, self._partial = data.rpartition(b"\n")
        lines = []
        for raw in complete.split(b"\n") if complete else ():
            line = parse_trace_line(raw.decode("utf-8", "replace"))
            if line is not None and (self._pattern is None
                                     or self._pattern.fullmatch(line.message.rstrip("\n"))):
                lines.append(line)
        return lines

    def lost(self) -> int:
        """Lines the instance's buffer overwrote or dropped for lack of room."""
        total = 0
        cpus = os.open("per_cpu", os.O_RDONLY | os.O_DIRECTORY, dir_fd=self._instance)
        try:
            for cpu in os.listdir(cpus):
                fd = os.open(f"{cpu}/stats", os.O_RDONLY, dir_fd=cpus)
                try:
                    text = os.read(fd, 4096).decode()
                finally:
                    os.close(fd)
                for label in ("overrun", "dropped events"):
                    found = re.search(rf"^{label}: (\d+)", text, re.MULTILINE)
                    total += int(found.group(1)) if found else 0
        finally:
            os.close(cpus)
        return total

    def close(self) -> None:
        """Close the pipe, remove the instance, let go of tracefs (a mount
        made for the reader goes with it)."""
        for fd in (self._pipe, self._instance):
            if fd >= 0:
                os.close(fd)
        self._pipe = self._instance = -1
        try:
            if self._root >= 0:
                _remove_instance(self._root, self.name)
        finally:
            if self._root >= 0:
                os.close(self._root)
            self._root = -1


def _tracefs_root() -> int:
    """An fd of tracefs's root: where it is mounted, or a mount of its own."""
    where = tracefs_mount()
    try:
        if where is not None:
            return os.open(where, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        return system.detached_mount("tracefs")
    except OSError as err:
        raise BpfError(f"print() output: cannot reach tracefs: {err.strerror}") from None


def _remove_instance(root: int, name: str) -> None:
    try:
        os.rmdir(f"instances/{name}", dir_fd=root)
    except FileNotFoundError:
        pass
    except OSError as err:
        if err.errno != errno.ENOENT:
            raise BpfError(f"print() output: cannot remove trace instance {name}: "
                           f"{err.strerror}") from None


def leftover_instances(owner_pid: Optional[int] = None) -> list[tuple[str, int]]:
    """The trace instances of readers whose process is gone (only those of
    ``owner_pid`` if given), as (name, pid)."""
    root = _tracefs_root()
    try:
        instances = os.open("instances", os.O_RDONLY | os.O_DIRECTORY, dir_fd=root)
        try:
            names = os.listdir(instances)
        finally:
            os.close(instances)
    finally:
        os.close(root)
    found = []
    for name in sorted(names):
        match = _INSTANCE.fullmatch(name)
        if match is None:
            continue
        pid, start = int(match.group(1)), int(match.group(2))
        if (owner_pid is None or pid == owner_pid) \
                and system.process_start_time(pid) != start:
            found.append((name, pid))
    return found


def remove_leftover_instance(name: str) -> None:
    root = _tracefs_root()
    try:
        _remove_instance(root, name)
    finally:
        os.close(root)
