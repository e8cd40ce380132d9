"""Reading what programs write to a perf event array with
``bpf_perf_event_output``: the perf buffer, for kernels without ring
buffers (before 5.8) and for programs written for it.

Each online CPU gets a perf event of the ``bpf-output`` software kind, whose
fd goes into the map at that CPU's index; a program's output lands in the
event of the CPU it runs on.  Each event's ring is mapped into memory: a page of
control fields (``struct perf_event_mmap_page``: ``data_head``, written by
the kernel, and ``data_tail``, by the reader), then 2^n data pages.  The
ring holds ``PERF_RECORD_SAMPLE`` records (a ``u32`` size, then the
program's bytes, padded so the record is a multiple of 8 bytes) and,
when records were dropped for lack of room, ``PERF_RECORD_LOST`` records
with the count, written once space is free again.

The reader has the shape of ``ringbuf.RingBuffer``: ``read()``,
``poll()``, ``wait()``, ``records()``, iteration, ``fileno()`` for epoll,
``what``; ``lost`` counts the records the kernel dropped.  Records come
per CPU, in order within each CPU, not across CPUs.
"""
from __future__ import annotations

import mmap
import os
import select
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from pybpfc.abi import kernel

from . import bpf, system
from .errors import BpfError
from .perf_structs import RECORD_HEADER, PerfEventAttr, PerfEventMmapPage
from .ringbuf import RingBuffer

if TYPE_CHECKING:
    from .maps import Map

DEFAULT_PAGES = 8       # data pages per CPU (a power of two)
_HEAD = PerfEventMmapPage.data_head.offset
_TAIL = PerfEventMmapPage.data_tail.offset
_DATA_OFFSET = PerfEventMmapPage.data_offset.offset
_DATA_SIZE = PerfEventMmapPage.data_size.offset


class _CpuRing:
    """One CPU's bpf-output event and its mapped ring."""

    def __init__(self, cpu: int, fd: int, ring: mmap.mmap):
        self.cpu = cpu
        self.fd = fd
        self.ring = ring
        words = memoryview(ring).cast("Q")       # 8-byte positions, read and written whole
        self._words = words
        self.data_offset = words[_DATA_OFFSET // 8] or mmap.PAGESIZE
        self.data_size = words[_DATA_SIZE // 8] or len(ring) - mmap.PAGESIZE

    def take(self, what: str) -> tuple[list[bytes], int]:
        """The pending samples' bytes and how many records were lost;
        each record is released to the kernel once read."""
        words = self._words
        samples: list[bytes] = []
        lost = 0
        tail = words[_TAIL // 8]
        while True:
            head = words[_HEAD // 8]
            if tail >= head:
                return samples, lost
            kind, _misc, size = RECORD_HEADER.unpack(self._copy(tail, RECORD_HEADER.size))
            if size < RECORD_HEADER.size or size > self.data_size:
                raise BpfError(f"{what}: CPU {self.cpu}: a perf record at {tail} claims "
                               f"{size} bytes")
            body = self._copy(tail + RECORD_HEADER.size, size - RECORD_HEADER.size)
            if kind == kernel.PERF_RECORD_SAMPLE:
                raw_size = int.from_bytes(body[:4], "little")
                samples.append(body[4:4 + raw_size])
            elif kind == kernel.PERF_RECORD_LOST:
                lost += int.from_bytes(body[8:16], "little")      # after the u64 id
            tail += size
            words[_TAIL // 8] = tail

    def _copy(self, position: int, length: int) -> bytes:
        """``length`` bytes of the data area from ``position``, which may wrap."""
        start = position % self.data_size
        first = min(length, self.data_size - start)
        at = self.data_offset + start
        out = self.ring[at:at + first]
        if first < length:
            out += self.ring[self.data_offset:self.data_offset + length - first]
        return out

    def close(self) -> None:
        self._words.release()
        self.ring.close()
        os.close(self.fd)


class PerfBuffer(RingBuffer):
    """Reads what programs write into a perf event array map; ``decode`` and
    ``value_type`` as for ``RingBuffer``.  ``pages`` data pages per CPU.

    It is a ``RingBuffer`` to Python: records are decoded, waited for and
    iterated over by the same code; only mapping and reading differ."""

    def __init__(self, events: "Map", value_type: Union[str, int, None] = None,
                 decode: Optional[Callable[[bytes], Any]] = None,
                 pages: int = DEFAULT_PAGES):
        # Not RingBuffer.__init__, which maps a BPF ring buffer.
        self.what = events.what
        if events.spec.map_type != bpf.BPF_MAP_TYPE_PERF_EVENT_ARRAY:
            raise BpfError(f"{self.what}: not a perf event array (map type "
                           f"{events.spec.map_type})")
        if pages <= 0 or pages & (pages - 1):
            raise BpfError(f"{self.what}: a perf buffer has a power of two of data pages "
                           f"per CPU, not {pages}")
        self._decode = self._decoder(events, value_type, decode)
        self.lost = 0
        self._rings: list[_CpuRing] = []
        self._epoll: Optional[select.epoll] = None
        self._map_fd = -1
        try:
            self._map_fd = os.dup(events.fd)
            self._epoll = select.epoll()
            for cpu in system.online_cpus():
                if cpu >= events.spec.max_entries:
                    raise BpfError(f"{self.what}: has {events.spec.max_entries} slots, "
                                   f"too few for CPU {cpu}")
                self._open_cpu(cpu, pages)
        except BaseException:
            self.close()
            raise

    def _open_cpu(self, cpu: int, pages: int) -> None:
        attr = PerfEventAttr(type=kernel.PERF_TYPE_SOFTWARE,
                             config=kernel.PERF_COUNT_SW_BPF_OUTPUT,
                             sample_type=kernel.PERF_SAMPLE_RAW, sample_period=1,
                             wakeup_events=1)
        what = f"{self.what}: CPU {cpu}"
        fd = system.perf_event_open(attr, -1, cpu, what=what)
        try:
            ring = mmap.mmap(fd, mmap.PAGESIZE * (1 + pages), mmap.MAP_SHARED,
                             mmap.PROT_READ | mmap.PROT_WRITE)
        except OSError as err:
            os.close(fd)
            raise BpfError(f"{what}: cannot map the perf buffer: {err.strerror}") from None
        self._rings.append(_CpuRing(cpu, fd, ring))
        bpf.map_update_elem(self._map_fd, cpu.to_bytes(4, "little"), fd.to_bytes(4, "little"),
                            what=what)
        system.perf_event_ioctl(fd, kernel.PERF_EVENT_IOC_ENABLE, 0, what=what)
        assert self._epoll is not None
        self._epoll.register(fd, select.EPOLLIN)

    # ------------------------------------------------------------ reading

    def read_raw(self) -> list[bytes]:
        """The samples pending now, as bytes (with the kernel's padding to
        8 bytes per record), without waiting."""
        if self._epoll is None:
            raise BpfError(f"{self.what}: the perf buffer reader is closed")
        out: list[bytes] = []
        for ring in self._rings:
            samples, lost = ring.take(self.what)
            out += samples
            self.lost += lost
        return out

    def fileno(self) -> int:
        """An fd that polls readable while some CPU's ring has records."""
        if self._epoll is None:
            raise BpfError(f"{self.what}: the perf buffer reader is closed")
        return self._epoll.fileno()

    # ----------------------------------------------------------- lifetime

    def close(self) -> None:
        """Take the events out of the map (programs' output stops going
        anywhere), then unmap and close them."""
        for ring in self._rings:
            if self._map_fd >= 0:
                try:
                    bpf.map_delete_elem(self._map_fd, ring.cpu.to_bytes(4, "little"),
                                        what=self.what)
                except BpfError:
                    pass     # the map may already be gone; closing the event suffices
            ring.close()
        self._rings = []
        if self._epoll is not None:
            self._epoll.close()
            self._epoll = None
        if self._map_fd >= 0:
            os.close(self._map_fd)
            self._map_fd = -1

    def __enter__(self) -> PerfBuffer:
        return self

    def __repr__(self) -> str:
        return f"<PerfBuffer of {self.what}, {len(self._rings)} CPUs, {self.lost} lost>"
