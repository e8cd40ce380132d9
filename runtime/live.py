"""What a loaded object's programs say while they run, as it comes: the
lines they ``print()``, the records they put in ring and perf buffers; and
at the end the histograms they kept.

``watch(coll)`` opens the readers.  Then either iterate (``for out in
watcher``: each ``Output`` as it arrives, blocking in epoll, with no
polling loop to write) or hand a callback to ``watcher.start(show)``, which
runs the reading in a thread of its own until ``stop()``; ``stop()`` reads
what is still pending first.  ``dropped()`` counts what was lost, per
source: lines the trace buffer overwrote, records the perf buffer lost.

Records of a ring or perf buffer are decoded through the object's BTF
(``record_decoder``): as the struct the program puts there, else as an
integer when they are 1, 2, 4 or 8 bytes long; otherwise they stay bytes.

Order: each source's outputs come in the order they were written; between
sources, in the order they were read (print lines and records written in
the same instant may swap).
"""
from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional, TextIO, Union

from pybpfc.abi.maps import lost_records_global, record_type_global

from . import bpf
from .btf import Kind
from .errors import BpfError
from .histogram import MAX_BUCKETS, Log2Histogram
from .maps import PerfEventArrayMap, RingBufMap
from .perfbuf import PerfBuffer
from .ringbuf import RingBuffer
from .run_socket import Datagram, FilteredSocket
from .trace_output import TraceLine, TracePrints, print_formats

if TYPE_CHECKING:
    from .collection import Collection
    from .maps import Map
    from .spec import ObjectSpec

PRINT = "print"
_ARRAYS = (bpf.BPF_MAP_TYPE_ARRAY, bpf.BPF_MAP_TYPE_PERCPU_ARRAY)


@dataclass(frozen=True)
class Output:
    """One thing a program said: ``source`` is ``"print"`` or the buffer
    map's name; ``value`` the TraceLine or the decoded record."""
    source: str
    value: Any

    @property
    def text(self) -> str:
        """The output as one line for a terminal."""
        if isinstance(self.value, TraceLine):
            return self.value.message
        if isinstance(self.value, Datagram):
            return (f"{self.source}: {len(self.value.data)} bytes from {self.value.sender}: "
                    f"{format_value(self.value.data)}")
        return f"{self.source}: {format_value(self.value)}"


def format_value(value: Any) -> str:
    """A decoded value in one line: structs as ``{field: value, ...}``, bytes
    as text when they are printable, else in hex."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, bytes):
        text = value.rstrip(b"\0")
        return repr(text) if all(32 <= b < 127 for b in text) else value.hex()
    return str(value)


def record_decoder(buffer: "Map", spec: Optional["ObjectSpec"] = None) -> Callable[[bytes], Any]:
    """How ``watch`` decodes a buffer's records: as the struct of their size
    that the program declared it puts there (the compiler's hidden
    ``__pybpfc_record_MAP_N`` globals, in ``spec``), else as the one struct
    of their size in BTF, else as an integer of 1, 2, 4 or 8 bytes, else
    as bytes."""
    btf = buffer.btf
    declared: dict[int, int] = {}
    by_size: dict[int, list[int]] = {}
    if btf is not None:
        for type_id, t in enumerate(btf.types):
            if type_id and t.kind == Kind.STRUCT and t.name:
                by_size.setdefault(t.size, []).append(type_id)
        prefix = record_type_global(buffer.name, 0)[:-1]
        for section in (spec.data.values() if spec is not None else ()):
            for name, var in section.variables.items():
                if name.startswith(prefix) and name[len(prefix):].isdigit() and var.type_id:
                    declared.setdefault(var.size, var.type_id)

    def decode(record: bytes) -> Any:
        declared_type = declared.get(len(record))
        if btf is not None and declared_type is not None:
            return btf.decode(declared_type, record)
        structs = by_size.get(len(record), [])
        if btf is not None and len(structs) == 1:
            return btf.decode(structs[0], record)
        if len(record) in (1, 2, 4, 8):
            return int.from_bytes(record, "little")
        return record
    return decode


Reader = Union[TracePrints, RingBuffer, FilteredSocket]


class Watcher:
    """The outputs of one loaded object; see the module's notes."""

    def __init__(self, coll: "Collection", prints: bool = True):
        self._coll = coll
        self._readers: list[tuple[str, Reader]] = []
        self._borrowed: list[Reader] = []      # added by the caller, closed by the caller
        self._epoll = select.epoll()
        self._thread: Optional[threading.Thread] = None
        self._wake_r, self._wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._epoll.register(self._wake_r, select.EPOLLIN)
        self._stopping = False
        self.error: Optional[BaseException] = None
        self.warnings: list[str] = []
        try:
            formats = print_formats(coll.spec)
            if prints and formats:
                try:
                    self._add(PRINT, TracePrints(formats))
                except BpfError as error:   # the programs still run; their prints go unseen
                    self.warnings.append(f"print() lines will not be shown: {error}")
            for name, m in coll.maps.items():
                if isinstance(m, (RingBufMap, PerfEventArrayMap)):
                    self._add(name, m.reader(decode=record_decoder(m, coll.spec)))
        except BaseException:
            self.close()
            raise

    def _add(self, name: str, reader: Reader) -> None:
        self._readers.append((name, reader))
        self._epoll.register(reader.fileno(), select.EPOLLIN)

    def add_source(self, name: str, reader: Reader) -> None:
        """Watch another source too (before ``start``), such as the socket
        ``pybpfc run --socket`` opens; the caller closes it."""
        self._add(name, reader)
        self._borrowed.append(reader)

    @property
    def sources(self) -> list[str]:
        return [name for name, _ in self._readers]

    # ------------------------------------------------------------ reading

    def read(self) -> list[Output]:
        """What is pending now, from every source, without waiting."""
        return [out for name, reader in self._readers for out in self._take(name, reader)]

    @staticmethod
    def _take(name: str, reader: Reader) -> list[Output]:
        return [Output(name, value) for value in reader.read()]

    def poll(self, timeout: Optional[float] = None) -> list[Output]:
        """What is pending; if nothing is, wait for something first (at most
        ``timeout`` seconds, then an empty list)."""
        outputs = self.read()
        if outputs:
            return outputs
        while True:
            try:
                ready = self._epoll.poll(-1 if timeout is None else timeout)
                break
            except InterruptedError:
                continue
        by_fd = {reader.fileno(): (name, reader) for name, reader in self._readers}
        for fd, _ in ready:
            if fd in by_fd:
                outputs += self._take(*by_fd[fd])
        return outputs

    def __iter__(self) -> Iterator[Output]:
        """Every output, waiting for more until ``stop()`` (from another
        thread) or forever."""
        while not self._stopping:
            yield from self.poll()
        yield from self.read()

    def dropped(self) -> dict[str, int]:
        """Outputs lost so far, per source that lost any."""
        lost: dict[str, int] = {}
        for name, reader in self._readers:
            if isinstance(reader, TracePrints):
                count = reader.lost()
            elif isinstance(reader, PerfBuffer):
                count = reader.lost
            else:      # a pybpfc program counts a ring buffer's in a hidden global
                counter = lost_records_global(name)
                globals_ = getattr(self._coll, "globals", None)
                count = globals_[counter] if globals_ is not None and counter in globals_ else 0
            if count:
                lost[name] = count
        return lost

    # --------------------------------------------------------- the thread

    def start(self, show: Callable[[Output], None]) -> "Watcher":
        """Hand every output to ``show`` from a thread of its own, until
        ``stop()``."""
        def pump() -> None:
            try:
                for out in self:
                    show(out)
            except BaseException as error:      # raised again by stop()
                self.error = error
        self._thread = threading.Thread(target=pump, name="pybpfc-output", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread once it has shown what is pending; raise what
        it failed with, if it did."""
        self._stopping = True
        os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    # ----------------------------------------------------------- lifetime

    def close(self) -> None:
        failure: Optional[BaseException] = None
        for _, reader in self._readers:
            if any(reader is borrowed for borrowed in self._borrowed):
                continue
            try:
                reader.close()
            except BaseException as error:   # the others still close
                failure = failure or error
        self._readers = []
        if self._wake_r >= 0:
            self._epoll.close()
            os.close(self._wake_r)
            os.close(self._wake_w)
            self._wake_r = self._wake_w = -1
        if failure is not None:
            raise failure

    def __enter__(self) -> "Watcher":
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._thread is not None:
                self.stop()
        finally:
            self.close()


def watch(coll: "Collection", prints: bool = True) -> Watcher:
    """A watcher of ``coll``'s outputs (``prints=False``: not its print()
    lines)."""
    return Watcher(coll, prints)


def histograms(coll: "Collection") -> dict[str, Log2Histogram]:
    """The object's histograms: array maps of u64 counts (at most
    ``MAX_BUCKETS``) whose name says ``hist``, as histogram.py lays them out."""
    found = {}
    for name, m in coll.maps.items():
        spec = m.spec
        if (spec.map_type in _ARRAYS and "hist" in name.lower() and spec.key_size == 4
                and spec.value_size == 8 and 0 < spec.max_entries <= MAX_BUCKETS):
            found[name] = Log2Histogram.from_map(m)
    return found


@contextlib.contextmanager
def shown_live(coll: "Collection", out: Optional[TextIO] = None,
               notes: Optional[TextIO] = None,
               sources: Iterable[tuple[str, Reader]] = ()) -> Iterator[Watcher]:
    """While the block runs, each output of ``coll`` as a line on ``out``
    (stdout), as it comes; when it ends, what is still pending, then on
    ``notes`` (stderr) how many outputs were lost.  ``pybpfc run`` wraps
    the command in this."""
    out = out or sys.stdout
    notes = notes or sys.stderr

    def show(output: Output) -> None:
        print(output.text, file=out, flush=True)

    with watch(coll) as watcher:
        for warning in watcher.warnings:
            print(f"pybpfc run: warning: {warning}", file=notes, flush=True)
        for name, reader in sources:
            watcher.add_source(name, reader)
        watcher.start(show)
        try:
            yield watcher
        finally:
            watcher.stop()
        for source, count in watcher.dropped().items():
            what = "print() lines" if source == PRINT else f"records of {source}"
            print(f"pybpfc run: {count} {what} were lost: the buffer was full",
                  file=notes, flush=True)


def show_histograms(coll: "Collection", out: Optional[TextIO] = None) -> list[str]:
    """Print the object's histograms as bar charts; their names."""
    shown = histograms(coll)
    for name, histogram in shown.items():
        print(f"histogram {name} ({histogram.total} values)", file=out or sys.stdout)
        print(histogram.render(), end="", file=out or sys.stdout)
    return list(shown)
