"""Consuming a BPF ring buffer map from user space.

The kernel shares the ring with user space through ``mmap`` of the map's
fd: at offset 0 one page holding the consumer position (the only page user
space may write), then one page holding the producer position, then the
data area, mapped twice in a row so that a record that wraps around the end
reads as one contiguous piece.  Each record starts with an 8-byte header:
a 32-bit length whose top bit says the producer is still writing it (busy)
and the next bit says it was discarded, then 32 bits the kernel uses
itself.  Records start at 8-byte boundaries.  Readers wait with epoll on
the map fd, which the kernel makes readable while records are pending.

The positions are read and written with plain 8-byte loads and stores
(through a memoryview of 8-byte words, never byte by byte); the kernel
pairs its own with release/acquire barriers, which plain accesses match on
x86-64 (total store order).
"""
from __future__ import annotations

import mmap
import os
import select
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, Union

from pybpfc.abi import kernel

from . import bpf
from .btf import Kind
from .errors import BpfError
from .owned import Closing

if TYPE_CHECKING:
    from .maps import Map

BUSY_BIT = kernel.BPF_RINGBUF_BUSY_BIT
DISCARD_BIT = kernel.BPF_RINGBUF_DISCARD_BIT
HEADER_SIZE = kernel.BPF_RINGBUF_HDR_SZ


class RingBuffer(Closing):
    """Reads the records a ring buffer map holds, oldest first.

    ``value_type`` names (``"event"`` or ``"struct event"``) or numbers the
    BTF type records are decoded as, through the map's BTF; ``decode`` is any
    function of the record's bytes instead.  With neither, records are
    bytes.  The reader holds its own fd and mappings: close it (or use it
    as a context manager) when done; the map may be closed independently.
    """

    def __init__(self, ring: "Map", value_type: Union[str, int, None] = None,
                 decode: Optional[Callable[[bytes], Any]] = None):
        self.what = ring.what
        if ring.spec.map_type != bpf.BPF_MAP_TYPE_RINGBUF:
            raise BpfError(f"{self.what}: not a ring buffer (map type {ring.spec.map_type})")
        self.size = ring.spec.max_entries
        self._mask = self.size - 1
        self._page = mmap.PAGESIZE
        self._decode = self._decoder(ring, value_type, decode)
        self.fd = -1
        self._consumer: Optional[mmap.mmap] = None
        self._producer: Optional[mmap.mmap] = None
        self._consumer_words: Optional[memoryview] = None
        self._producer_words: Optional[memoryview] = None
        self._headers: Optional[memoryview] = None
        self._epoll: Optional[select.epoll] = None
        try:
            self.fd = os.dup(ring.fd)
            self.use_mappings(
                mmap.mmap(self.fd, self._page, mmap.MAP_SHARED,
                          mmap.PROT_READ | mmap.PROT_WRITE, offset=0),
                mmap.mmap(self.fd, self._page + 2 * self.size, mmap.MAP_SHARED,
                          mmap.PROT_READ, offset=self._page))
            self._epoll = select.epoll()
            self._epoll.register(self.fd, select.EPOLLIN)
        except OSError as err:
            self.close()
            raise BpfError(f"{self.what}: cannot map the ring buffer: {err.strerror}") \
                from None
        except BaseException:
            self.close()
            raise

    def _decoder(self, ring: "Map", value_type: Union[str, int, None],
                 decode: Optional[Callable[[bytes], Any]]) -> Callable[[bytes], Any]:
        if decode is not None:
            return decode
        if value_type is None:
            return bytes
        btf = ring.btf
        if btf is None:
            raise BpfError(f"{self.what}: decoding records as {value_type!r} needs BTF, and "
                           "this map has none; pass decode= instead")
        type_id = value_type if isinstance(value_type, int) else None
        if isinstance(value_type, str):
            kind, _, name = value_type.rpartition(" ")
            if kind in ("struct", "union"):
                type_id = btf.find(name, Kind.STRUCT if kind == "struct" else Kind.UNION)
            elif not kind:
                type_id = btf.find(name, Kind.STRUCT) or btf.find(name)
        if not type_id:
            raise BpfError(f"{self.what}: no BTF type {value_type!r} to decode records as")
        size = btf.size_of(type_id)
        what, type_name = self.what, btf.describe(type_id)

        def decode_record(record: bytes) -> Any:
            if len(record) < size:
                raise BpfError(f"{what}: a {len(record)}-byte record is too short for "
                               f"{type_name} ({size} bytes)")
            return btf.decode(type_id, record)
        return decode_record

    # ------------------------------------------------------------ reading

    def use_mappings(self, consumer: mmap.mmap, producer: mmap.mmap) -> None:
        """Read the ring through these mappings: the consumer page, then the
        producer page and the data area twice."""
        self._consumer, self._producer = consumer, producer
        # Positions and headers are read and written as whole words: a
        # byte-wise copy could see (or let the kernel see) a torn one.
        self._consumer_words = memoryview(consumer).cast("Q")
        self._producer_words = memoryview(producer).cast("Q")
        self._headers = memoryview(producer).cast("I")

    def read_raw(self) -> list[bytes]:
        """The records pending now, as bytes, without waiting; each one
        read is released to the producer."""
        consumer, produced_at, headers = self._consumer_words, self._producer_words, \
            self._headers
        if consumer is None or produced_at is None or headers is None \
                or self._producer is None:
            raise BpfError(f"{self.what}: the ring buffer reader is closed")
        data, page, mask = self._producer, self._page, self._mask
        records: list[bytes] = []
        position = consumer[0]
        while True:
            produced = produced_at[0]
            if position >= produced:
                break
            while position < produced:
                at = page + (position & mask)
                header = headers[at >> 2]
                if header & BUSY_BIT:      # still being written: it and all after wait
                    return records
                length = header & ~(BUSY_BIT | DISCARD_BIT)
                if length > self.size - HEADER_SIZE:
                    raise BpfError(f"{self.what}: a record at position {position} claims "
                                   f"{length} bytes, more than the ring holds")
                if not header & DISCARD_BIT:
                    records.append(data[at + HEADER_SIZE:at + HEADER_SIZE + length])
                position += (length + HEADER_SIZE + 7) & ~7
                consumer[0] = position
        return records

    def read(self) -> list[Any]:
        """The records pending now, decoded, without waiting."""
        return [self._decode(record) for record in self.read_raw()]

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Wait until records are pending (or ``timeout`` seconds pass);
        whether there are."""
        if self._epoll is None:
            raise BpfError(f"{self.what}: the ring buffer reader is closed")
        while True:
            try:
                return bool(self._epoll.poll(-1 if timeout is None else timeout, 1))
            except InterruptedError:
                continue

    def poll(self, timeout: Optional[float] = None) -> list[Any]:
        """The pending records; if there are none, wait for some first
        (at most ``timeout`` seconds, then return an empty list)."""
        records = self.read()
        if records or not self.wait(timeout):
            return records
        return self.read()

    def __iter__(self) -> Iterator[Any]:
        """Every record, waiting for more forever."""
        while True:
            yield from self.poll()

    def fileno(self) -> int:
        """An fd that polls readable while records are pending."""
        return self.fd

    # ----------------------------------------------------------- lifetime

    def close(self) -> None:
        if self._epoll is not None:
            self._epoll.close()
            self._epoll = None
        for view in (self._consumer_words, self._producer_words, self._headers):
            if view is not None:
                view.release()
        self._consumer_words = self._producer_words = self._headers = None
        for mapping in (self._consumer, self._producer):
            if mapping is not None:
                mapping.close()
        self._consumer = self._producer = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __repr__(self) -> str:
        return f"<RingBuffer of {self.what}, {self.size} bytes>"
