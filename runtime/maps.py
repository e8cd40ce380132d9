"""Live maps: a file descriptor plus the BTF that says what its keys and
values mean.  A ``Map`` reads like a dict; ``Globals`` reads and writes a
program's global variables by name.

Map kinds whose keys or values work differently have their own class, which
``open_map`` picks from the map type: per-CPU maps (one value per possible
CPU), socket storage (a socket is the key), cgroup storage (keyed by cgroup
and attach type) and ring buffers (no keys at all; read with ``reader()``).
"""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Union

from pybpfc.abi.maps import HIDDEN_GLOBAL_PREFIX

from . import bpf
from .btf import Btf, Kind, StructValue
from .errors import BpfError, describe_errno
from .owned import OwnedFd
from .perfbuf import DEFAULT_PAGES, PerfBuffer
from .ringbuf import RingBuffer
from .stacks import stack_addresses
from .spec import DataSectionSpec, MapSpec

POSSIBLE_CPUS = Path("/sys/devices/system/cpu/possible")


class Map(OwnedFd):
    """A map the process holds open.  Keys and values are decoded through
    BTF when the map has types (ints, struct objects, lists, bytes), and
    are raw bytes otherwise."""

    kind = "map"
    # Why ``keys()``/``items()`` cannot work for this kind of map, if they cannot.
    unlisted_reason: Optional[str] = None

    def __init__(self, fd: int, spec: MapSpec, btf: Optional[Btf]):
        self.fd = fd
        self.spec = spec
        self.btf = btf

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def what(self) -> str:
        return f"map '{self.spec.name}'"

    # ---------------------------------------------------------- encoding

    def _encode(self, type_id: int, size: int, value: Any, role: str) -> bytes:
        if isinstance(value, (bytes, bytearray)) and len(value) == size:
            return bytes(value)
        if type_id and self.btf is not None:
            try:
                return self.btf.encode_value(type_id, value)
            except BpfError as err:
                raise BpfError(f"{self.what}: {role}: {err}") from None
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return value.to_bytes(size, "little", signed=value < 0)
            except OverflowError:
                raise BpfError(f"{self.what}: {role} {value} does not fit in {size} bytes") \
                    from None
        raise BpfError(f"{self.what}: {role} must be {size} bytes, got {value!r}")

    def _decode(self, type_id: int, raw: bytes) -> Any:
        if type_id and self.btf is not None:
            return self.btf.decode(type_id, raw)
        return raw

    def encode_key(self, key: Any) -> bytes:
        return self._encode(self.spec.key_type_id, self.spec.key_size, key, "key")

    def encode_value(self, value: Any) -> bytes:
        return self._encode(self.spec.value_type_id, self.spec.value_size, value, "value")

    def decode_key(self, raw: bytes) -> Any:
        return self._decode(self.spec.key_type_id, raw)

    def decode_value(self, raw: bytes) -> Any:
        """A value as the kernel returns it from a lookup."""
        return self._decode(self.spec.value_type_id, raw)

    @property
    def lookup_size(self) -> int:
        """Bytes the kernel writes for one looked-up value."""
        return self.spec.value_size

    def _lookup(self, raw_key: bytes, what: Optional[str] = None) -> Optional[bytes]:
        return bpf.map_lookup_elem(self.fd, raw_key, self.lookup_size, what=what or self.what)

    def _key_what(self, key: Any) -> str:
        """How errors about one key name the map (and the key, if useful)."""
        return self.what

    def _missing(self, key: Any) -> KeyError:
        return KeyError(key)

    def _unlisted(self) -> BpfError:
        return BpfError(f"{self.what}: cannot be listed: {self.unlisted_reason}")

    # ------------------------------------------------------ dict protocol

    def get(self, key: Any, default: Any = None) -> Any:
        raw = self._lookup(self.encode_key(key), self._key_what(key))
        return default if raw is None else self.decode_value(raw)

    def __getitem__(self, key: Any) -> Any:
        raw = self._lookup(self.encode_key(key), self._key_what(key))
        if raw is None:
            raise self._missing(key)
        return self.decode_value(raw)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.update(key, value)

    def update(self, key: Any, value: Any, flags: int = bpf.BPF_ANY) -> None:
        bpf.map_update_elem(self.fd, self.encode_key(key), self.encode_value(value), flags,
                            what=self._key_what(key))

    def __delitem__(self, key: Any) -> None:
        if not bpf.map_delete_elem(self.fd, self.encode_key(key), what=self._key_what(key)):
            raise self._missing(key)

    def raw_keys(self) -> Iterator[bytes]:
        if self.unlisted_reason is not None:
            raise self._unlisted()
        key: Optional[bytes] = None
        while True:
            key = bpf.map_get_next_key(self.fd, key, self.spec.key_size, what=self.what)
            if key is None:
                return
            yield key

    def keys(self) -> Iterator[Any]:
        for raw in self.raw_keys():
            yield self.decode_key(raw)

    __iter__ = keys

    def items(self) -> Iterator[tuple[Any, Any]]:
        for raw in self.raw_keys():
            value = self._lookup(raw)
            if value is not None:      # deleted since get_next_key gave it
                yield self.decode_key(raw), self.decode_value(value)

    def __len__(self) -> int:
        return sum(1 for _ in self.raw_keys())

    def __contains__(self, key: Any) -> bool:
        return self._lookup(self.encode_key(key), self._key_what(key)) is not None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec.name!r} fd={self.fd}>"


# ---------------------------------------------------------------- per-CPU


def count_cpus(listing: str) -> int:
    """How many CPUs a kernel CPU list names (``0-3,8-11`` is 8)."""
    count = 0
    for part in listing.strip().split(","):
        first, _, last = part.partition("-")
        count += int(last or first) - int(first) + 1
    return count


@functools.lru_cache(maxsize=None)
def possible_cpus() -> int:
    """How many CPUs the kernel counts as possible: a per-CPU map value
    holds one slot for each, in CPU order."""
    try:
        count = count_cpus(POSSIBLE_CPUS.read_text())
    except (OSError, ValueError) as err:
        raise BpfError(f"{POSSIBLE_CPUS}: cannot count the possible CPUs: {err}") from None
    if count <= 0:
        raise BpfError(f"{POSSIBLE_CPUS}: no possible CPUs")
    return count


class PerCpuMap(Map):
    """A per-CPU hash, array or LRU hash: a lookup gives a list with one
    value per possible CPU; an update takes such a list, or one value that
    every CPU gets."""

    kind = "per-CPU map"

    @property
    def cpus(self) -> int:
        return possible_cpus()

    @property
    def slot_size(self) -> int:
        # The kernel lays each CPU's value out at an 8-byte boundary.
        return (self.spec.value_size + 7) & ~7

    @property
    def lookup_size(self) -> int:
        return self.slot_size * self.cpus

    def decode_value(self, raw: bytes) -> list[Any]:
        size, slot = self.spec.value_size, self.slot_size
        return [self._decode(self.spec.value_type_id, raw[i * slot:i * slot + size])
                for i in range(self.cpus)]

    def _is_per_cpu_list(self, value: Any) -> bool:
        if not isinstance(value, (list, tuple)):
            return False
        value_type = self.spec.value_type_id
        if value_type and self.btf is not None and \
                self.btf[self.btf.resolve(value_type)].kind == Kind.ARRAY:
            # An array value is itself a list: per-CPU needs a list of them.
            return all(isinstance(v, (list, tuple, bytes, bytearray)) for v in value)
        return True

    def encode_value(self, value: Any) -> bytes:
        values = list(value) if self._is_per_cpu_list(value) else [value] * self.cpus
        if len(values) != self.cpus:
            raise BpfError(f"{self.what}: {len(values)} per-CPU values given, but this "
                           f"machine has {self.cpus} possible CPUs")
        return b"".join(super(PerCpuMap, self).encode_value(v).ljust(self.slot_size, b"\0")
                        for v in values)


# ---------------------------------------------------------- socket storage


class NoStorageError(KeyError, BpfError):
    """A socket that has no storage in a socket storage map."""

    def __str__(self) -> str:
        return str(self.args[0])


class SkStorageMap(Map):
    """Socket storage: the key is a socket (a ``socket.socket`` or its file
    descriptor), looked up in the calling process.  The map cannot be
    listed; the kernel has no 'next key' for sockets."""

    kind = "socket storage"
    unlisted_reason = ("its keys are sockets, which only a process holding them "
                       "can look up (map[sock])")

    @staticmethod
    def _fd_of(key: Any) -> Optional[int]:
        fd = key.fileno() if hasattr(key, "fileno") else key
        if isinstance(fd, int) and not isinstance(fd, bool) and fd >= 0:
            return fd
        return None

    def encode_key(self, key: Any) -> bytes:
        fd = self._fd_of(key)
        if fd is None:
            raise BpfError(f"{self.what}: the key must be an open socket or its file "
                           f"descriptor, got {key!r}")
        return fd.to_bytes(4, "little")

    def _key_what(self, key: Any) -> str:
        return f"{self.what}: socket fd {self._fd_of(key)}"

    def _missing(self, key: Any) -> KeyError:
        return NoStorageError(f"{self._key_what(key)} has no storage")


# ---------------------------------------------------------- cgroup storage


class CgroupStorageMap(Map):
    """Legacy cgroup storage (``bpf_get_local_storage``): one value per
    cgroup and attach type the program is attached to, keyed by ``struct
    bpf_cgroup_storage_key`` {cgroup_inode_id, attach_type}.  An entry
    appears when a program using the map is attached to a cgroup and stays
    with the cgroup after detaching (a new attachment finds it again) until
    the cgroup or the map is freed."""

    kind = "cgroup storage"

    def decode_key(self, raw: bytes) -> Any:
        if self.spec.key_type_id and self.btf is not None:
            return super().decode_key(raw)
        cgroup_inode_id = int.from_bytes(raw[:8], "little")
        if self.spec.key_size == 8:        # keyed by cgroup only
            return cgroup_inode_id
        return StructValue(cgroup_inode_id=cgroup_inode_id,
                           attach_type=int.from_bytes(raw[8:12], "little"))

    def encode_key(self, key: Any) -> bytes:
        if isinstance(key, tuple) and len(key) == 2 and self.spec.key_size >= 12:
            key = {"cgroup_inode_id": key[0], "attach_type": key[1]}
        if isinstance(key, dict) and not (self.spec.key_type_id and self.btf is not None):
            try:
                raw = int(key["cgroup_inode_id"]).to_bytes(8, "little")
                if self.spec.key_size >= 12:
                    raw += int(key["attach_type"]).to_bytes(4, "little")
            except (KeyError, ValueError, TypeError, OverflowError) as err:
                raise BpfError(f"{self.what}: key {key!r}: needs cgroup_inode_id and "
                               f"attach_type ({type(err).__name__}: {err})") from None
            return raw.ljust(self.spec.key_size, b"\0")
        return super().encode_key(key)


class PerCpuCgroupStorageMap(PerCpuMap, CgroupStorageMap):
    kind = "per-CPU cgroup storage"


# ------------------------------------------------------------- ring buffer


class RingBufMap(Map):
    """A ring buffer: programs write records, user space consumes them in
    order through ``reader()``; there are no keys to look up."""

    kind = "ring buffer"
    unlisted_reason = "its records are consumed in order with map.reader(), not stored " \
                      "under keys"

    def encode_key(self, key: Any) -> bytes:
        raise BpfError(f"{self.what}: a ring buffer has no keys; read its records with "
                       "map.reader()")

    def reader(self, value_type: Union[str, int, None] = None,
               decode: Optional[Callable[[bytes], Any]] = None) -> RingBuffer:
        """A consumer of this ring buffer; see ``ringbuf.RingBuffer``."""
        return RingBuffer(self, value_type=value_type, decode=decode)


# ------------------------------------------------------ maps without keys


class BloomFilterMap(Map):
    """A bloom filter: programs add values and ask whether a value may have
    been added; it stores no keys."""

    kind = "bloom filter"
    unlisted_reason = "it stores no keys; it only answers whether a value may have been added"


class PerfEventArrayMap(Map):
    """A perf event array: one perf event fd per CPU, which programs write
    records to; the kernel does not hand the fds back."""

    kind = "perf event array"
    unlisted_reason = "its entries are perf event file descriptors, which cannot be read back"

    def reader(self, value_type: Union[str, int, None] = None,
               decode: Optional[Callable[[bytes], Any]] = None,
               pages: int = DEFAULT_PAGES) -> PerfBuffer:
        """A reader of what programs write here; see ``perfbuf.PerfBuffer``."""
        return PerfBuffer(self, value_type=value_type, decode=decode, pages=pages)


class StackTraceMap(Map):
    """Stack traces (``bpf_get_stackid``): a stack id -> the instruction
    pointers of its frames, innermost first, as many as the value holds
    (unused slots are 0).  ``stack(id)`` gives the addresses;
    ``stacks.symbolize`` names them."""

    kind = "stack trace map"

    def decode_value(self, raw: bytes) -> list[int]:
        return stack_addresses(raw)

    def stack(self, stack_id: int) -> list[int]:
        """The addresses of stack ``stack_id``; KeyError if there is none
        (a program got a negative id: no stack of that kind, or no room)."""
        if stack_id < 0:
            raise BpfError(f"{self.what}: stack id {stack_id} is an error the program got "
                           f"from bpf_get_stackid ({describe_errno(-stack_id)})")
        return list(self[stack_id])


class ProgArrayMap(Map):
    """Programs for tail calls: a slot is set to a loaded program (or its
    fd), e.g. ``coll.maps["progs"][1] = coll.programs["parse_ip"]``; reading
    a slot gives the program's id, as the kernel answers."""

    def encode_value(self, value: Any) -> bytes:
        fd = getattr(value, "fd", value)
        if not isinstance(fd, int) or isinstance(fd, bool) or fd < 0:
            raise BpfError(f"{self.what}: a slot holds a loaded program (or its fd), "
                           f"not {value!r}")
        return fd.to_bytes(4, "little")


MAP_CLASSES: dict[int, type[Map]] = {
    bpf.BPF_MAP_TYPE_PROG_ARRAY: ProgArrayMap,
    bpf.BPF_MAP_TYPE_PERCPU_HASH: PerCpuMap,
    bpf.BPF_MAP_TYPE_PERCPU_ARRAY: PerCpuMap,
    bpf.BPF_MAP_TYPE_LRU_PERCPU_HASH: PerCpuMap,
    bpf.BPF_MAP_TYPE_SK_STORAGE: SkStorageMap,
    bpf.BPF_MAP_TYPE_CGROUP_STORAGE: CgroupStorageMap,
    bpf.BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE: PerCpuCgroupStorageMap,
    bpf.BPF_MAP_TYPE_RINGBUF: RingBufMap,
    bpf.BPF_MAP_TYPE_BLOOM_FILTER: BloomFilterMap,
    bpf.BPF_MAP_TYPE_PERF_EVENT_ARRAY: PerfEventArrayMap,
    bpf.BPF_MAP_TYPE_STACK_TRACE: StackTraceMap,
}


def open_map(fd: int, spec: MapSpec, btf: Optional[Btf]) -> Map:
    """The live map for ``fd``, of the class its map type needs."""
    return MAP_CLASSES.get(spec.map_type, Map)(fd, spec, btf)


def as_created(spec: MapSpec) -> MapSpec:
    """The definition the map is created with: a perf event array declared
    without ``max_entries`` (0, which the kernel refuses) gets one slot per
    possible CPU, as libbpf sizes it."""
    if spec.map_type == bpf.BPF_MAP_TYPE_PERF_EVENT_ARRAY and spec.max_entries == 0:
        return dataclasses.replace(spec, max_entries=possible_cpus())
    return spec


def check_creatable(spec: MapSpec, page_size: int, has_btf: bool) -> None:
    """Refuse, naming the map, definitions the kernel would reject with a
    bare EINVAL for reasons specific to the map type."""
    what = f"map '{spec.name}'"
    t = spec.map_type
    if t == bpf.BPF_MAP_TYPE_RINGBUF:
        if spec.key_size or spec.value_size:
            raise BpfError(f"{what}: a ring buffer has no key or value (sizes must be 0, "
                           f"got {spec.key_size} and {spec.value_size})")
        n = spec.max_entries
        if n <= 0 or n % page_size or n & (n - 1):
            raise BpfError(f"{what}: a ring buffer's max_entries is its size in bytes and "
                           f"must be a power of two multiple of the page size ({page_size}); "
                           f"got {n}")
    elif t in (bpf.BPF_MAP_TYPE_CGROUP_STORAGE, bpf.BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE):
        if spec.max_entries:
            raise BpfError(f"{what}: cgroup storage has one entry per attached cgroup; "
                           f"max_entries must be 0, got {spec.max_entries}")
        if spec.key_size not in (8, 16):
            raise BpfError(f"{what}: cgroup storage keys are struct bpf_cgroup_storage_key "
                           f"(16 bytes) or a __u64 cgroup id; got {spec.key_size} bytes")
    elif t == bpf.BPF_MAP_TYPE_SK_STORAGE:
        if not (spec.flags & bpf.BPF_F_NO_PREALLOC):
            raise BpfError(f"{what}: socket storage needs map_flags BPF_F_NO_PREALLOC")
        if spec.key_size != 4:
            raise BpfError(f"{what}: socket storage keys are an int (a socket fd); "
                           f"got {spec.key_size} bytes")
        if spec.max_entries:
            raise BpfError(f"{what}: socket storage has one entry per socket; max_entries "
                           f"must be 0, got {spec.max_entries}")
        if not (has_btf and spec.key_type_id and spec.value_type_id):
            raise BpfError(f"{what}: socket storage needs BTF key and value types "
                           "(__type(key, int) and __type(value, ...))")


class DataSectionMap(Map):
    """A global data section (``.bss``, ``.data``, ``.rodata``): a
    one-element array map whose value holds the section's variables."""

    def __init__(self, fd: int, spec: MapSpec, btf: Optional[Btf], section: DataSectionSpec):
        super().__init__(fd, spec, btf)
        self.section = section

    def contents(self) -> bytes:
        raw = bpf.map_lookup_elem(self.fd, bytes(4), self.spec.value_size, what=self.what)
        assert raw is not None   # an array map always has element 0
        return raw

    def read(self, name: str) -> Any:
        var = self.section.variable(name)
        raw = self.contents()[var.offset:var.offset + var.size]
        return self._decode(var.type_id, raw)

    def write(self, name: str, value: Any) -> None:
        if self.section.readonly:
            raise BpfError(f"global '{name}' is read-only ({self.section.name}) once loaded; "
                           "set it on the spec before loading")
        var = self.section.variable(name)
        raw = self._encode(var.type_id, var.size, value, f"global '{name}'")
        data = bytearray(self.contents())
        data[var.offset:var.offset + var.size] = raw
        bpf.map_update_elem(self.fd, bytes(4), bytes(data), what=self.what)


class Globals:
    """A program's global variables by name, read and written in the
    kernel's copy (``coll.globals['hits']``)."""

    def __init__(self, sections: list[DataSectionMap]):
        self._sections = sections

    def _section(self, name: str) -> DataSectionMap:
        for section in self._sections:
            if name in section.section.variables:
                return section
        known = ", ".join(sorted(self.names())) or "none"
        raise KeyError(f"no global variable '{name}' (globals: {known})")

    def names(self) -> list[str]:
        """The program's globals; not the compiler's hidden ones (a ring
        buffer's count of lost records, ...), which are read by name."""
        return [v for s in self._sections for v in s.section.variables
                if not v.startswith(HIDDEN_GLOBAL_PREFIX)]

    def __getitem__(self, name: str) -> Any:
        return self._section(name).read(name)

    def __setitem__(self, name: str, value: Any) -> None:
        self._section(name).write(name, value)

    def __contains__(self, name: object) -> bool:
        return any(name in s.section.variables for s in self._sections)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def items(self) -> Iterator[tuple[str, Any]]:
        for name in self.names():
            yield name, self[name]
