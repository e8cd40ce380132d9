"""Maps with the kernel's semantics, for the interpreter and for the test
that reads and sets them.

What each kind does is the kernel's (``kernel/bpf/hashtab.c``,
``arraymap.c``, ``bpf_sk_storage.c``, ``local_storage.c``,
``ringbuf.c``) as far as a program can observe it:

- hash maps hold at most ``max_entries`` keys: a new key in a full map is
  ``-E2BIG``, except in an LRU map, which evicts the least recently used
  key (the kernel's LRU is approximate and per CPU; the simulation evicts
  exactly the least recently looked up or updated key);
- update flags: ``BPF_NOEXIST`` on a present key is ``-EEXIST``,
  ``BPF_EXIST`` on a missing one ``-ENOENT``, other flags ``-EINVAL``; an
  array's elements always exist (``BPF_NOEXIST`` is ``-EEXIST``) and an
  index past the end is ``-E2BIG`` (a lookup there finds nothing);
- per-CPU maps keep one value per CPU; a program reads and updates the
  slot of the CPU it runs on (``Fakes.cpu``); a new per-CPU hash key has
  zeros on the other CPUs;
- socket storage keeps one value per socket, cgroup storage one per
  cgroup (``Fakes.cgroup_id``);
- a ring buffer keeps its records until the test drains them; a record
  that does not fit is ``-EAGAIN``;
- a longest-prefix-match trie (``lpm_trie.c``) finds, for a key's
  address, the stored prefix of most bits that holds it (no more bits
  than the key's own prefixlen); a key is its prefix: one with the same
  prefixlen and the same first bits replaces it; a prefixlen longer than
  the address is ``-EINVAL``, and a full trie ``-ENOSPC``.

Keys and values are bytes inside; the test sees them decoded
(``memory.decode``): ints, dicts of struct fields, lists, bytes.
"""
from __future__ import annotations

import errno
from collections import OrderedDict
from typing import Any, Optional

from .. import abi
from ..compiler.symbols import MapVar
from ..compiler.types import Type, map_key_type
from .memory import Place, decode, to_bytes

_BPF_EXIST = abi.kernel.BPF_EXIST
_BPF_NOEXIST = abi.kernel.BPF_NOEXIST
_RINGBUF_FLAGS = abi.kernel.BPF_RB_NO_WAKEUP | abi.kernel.BPF_RB_FORCE_WAKEUP
_RINGBUF_HEADER = 8


def _hashable(value: Any) -> Any:
    """A decoded key as a dict key: a struct's fields as a tuple."""
    if isinstance(value, dict):
        return tuple(_hashable(v) for v in value.values())
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


class SimMap:
    """One map of a loaded program."""

    def __init__(self, var: MapVar, cpus: int):
        self.name = var.name
        self.kind: abi.MapKind = var.ty.kind
        self.key_type: Optional[Type] = map_key_type(var.ty)
        self.value_type: Optional[Type] = var.ty.value
        self.max_entries = var.ty.max_entries
        self.cpus = cpus
        # key bytes -> one block per CPU (a single block for other maps).
        self.entries: "OrderedDict[bytes, list[bytearray]]" = OrderedDict()
        self.records: list[bytes] = []        # a ring buffer's
        if self.kind.key == "index" and not self.sparse:
            for i in range(self.max_entries):
                self.entries[self._key_bytes(i)] = self._fresh()

    # ------------------------------------------------------------ layout

    @property
    def per_cpu(self) -> bool:
        return self.kind.per_cpu

    def _key_bytes(self, key: Any) -> bytes:
        assert self.key_type is not None
        return to_bytes(key, self.key_type, f"key of map '{self.name}'")

    def _fresh(self) -> list[bytearray]:
        size = self.value_type.size if self.value_type is not None else 0
        return [bytearray(size) for _ in range(self.cpus if self.per_cpu else 1)]

    def _slot(self, blocks: list[bytearray], cpu: int) -> bytearray:
        return blocks[cpu if self.per_cpu else 0]

    # ------------------------------------------------- what programs call

    @property
    def sparse(self) -> bool:
        """A map whose slots hold nothing until user space or the kernel
        stores something (a device, a program, a stack): only those exist
        (a DevMapHash's under any u32 keys, up to max_entries of them)."""
        return self.kind.starts_empty

    @property
    def lpm(self) -> bool:
        return self.kind.map_type == "BPF_MAP_TYPE_LPM_TRIE"

    def _prefix(self, key: bytes) -> Optional[bytes]:
        """The stored key that is the same prefix as ``key``, if any."""
        length = _prefixlen(key)
        for stored in self.entries:
            if _prefixlen(stored) == length and _common_bits(stored, key) >= length:
                return stored
        return None

    def lookup(self, key: bytes, cpu: int) -> Optional[Place]:
        if self.lpm:
            best: Optional[bytes] = None
            limit = _prefixlen(key)
            for stored in self.entries:
                length = _prefixlen(stored)
                if length <= limit and _common_bits(stored, key) >= length and (
                        best is None or length > _prefixlen(best)):
                    best = stored
            return None if best is None else Place(self._slot(self.entries[best], cpu))
        blocks = self.entries.get(key)
        if blocks is None:
            return None
        if self.kind.map_type == "BPF_MAP_TYPE_LRU_HASH":
            self.entries.move_to_end(key)
        return Place(self._slot(blocks, cpu))

    def update(self, key: bytes, value: bytes, flags: int, cpu: int) -> int:
        if flags > _BPF_EXIST:
            return -errno.EINVAL
        if self.lpm:
            return self._lpm_update(key, value, flags)
        present = key in self.entries
        if self.kind.key == "index":
            if not present:
                return -errno.E2BIG
            if flags == _BPF_NOEXIST:
                return -errno.EEXIST
        elif present and flags == _BPF_NOEXIST:
            return -errno.EEXIST
        elif not present and flags == _BPF_EXIST:
            return -errno.ENOENT
        if not present:
            if len(self.entries) >= self.max_entries:
                if self.kind.map_type != "BPF_MAP_TYPE_LRU_HASH":
                    return -errno.E2BIG
                self.entries.popitem(last=False)
            self.entries[key] = self._fresh()
        elif self.kind.map_type == "BPF_MAP_TYPE_LRU_HASH":
            self.entries.move_to_end(key)
        self._slot(self.entries[key], cpu)[:] = value
        return 0

    def _lpm_update(self, key: bytes, value: bytes, flags: int) -> int:
        if _prefixlen(key) > (len(key) - 4) * 8:
            return -errno.EINVAL
        old = self._prefix(key)
        if old is not None and flags == _BPF_NOEXIST:
            return -errno.EEXIST
        if old is None:
            if flags == _BPF_EXIST:
                return -errno.ENOENT
            if len(self.entries) >= self.max_entries:
                return -errno.ENOSPC
        else:
            del self.entries[old]       # the new node, with the key as given, replaces it
        self.entries[key] = [bytearray(value)]
        return 0

    def delete(self, key: bytes) -> int:
        if self.lpm:
            if _prefixlen(key) > (len(key) - 4) * 8:
                return -errno.EINVAL
            key = self._prefix(key) or key
        if self.kind.key == "index":
            return -errno.EINVAL
        if self.entries.pop(key, None) is None:
            return -errno.ENOENT
        return 0

    def storage(self, owner: int, create: bool) -> Optional[Place]:
        """Socket or cgroup storage: ``owner``'s value, made zero when
        missing and ``create``."""
        key = owner.to_bytes(8, "little", signed=owner < 0)
        blocks = self.entries.get(key)
        if blocks is None:
            if not create:
                return None
            blocks = self.entries[key] = self._fresh()
        return Place(blocks[0])

    def delete_storage(self, owner: int) -> int:
        key = owner.to_bytes(8, "little", signed=owner < 0)
        return 0 if self.entries.pop(key, None) is not None else -errno.ENOENT

    def output(self, record: bytes, flags: int) -> int:
        if flags & ~_RINGBUF_FLAGS:
            return -errno.EINVAL
        pending = sum(_ringbuf_room(len(r)) for r in self.records)
        if pending + _ringbuf_room(len(record)) > self.max_entries - 1:
            return -errno.EAGAIN
        self.records.append(bytes(record))
        return 0

    # --------------------------------------------------- what tests call

    def _owner_key(self, key_bytes: bytes) -> int:
        return int.from_bytes(key_bytes, "little", signed=True)

    def _decoded_key(self, key_bytes: bytes) -> Any:
        if self.kind.key in ("socket", "cgroup"):
            return self._owner_key(key_bytes)
        assert self.key_type is not None
        return _hashable(decode(key_bytes, self.key_type))

    def _decoded_value(self, blocks: list[bytearray]) -> Any:
        assert self.value_type is not None
        values = [decode(bytes(b), self.value_type) for b in blocks]
        return values if self.per_cpu else values[0]

    def contents(self) -> dict[Any, Any]:
        """Every key and its value, decoded (a per-CPU value is the list of
        every CPU's; a struct key is the tuple of its fields).  Socket and
        cgroup storage are keyed by the socket's or the cgroup's id; a ring
        buffer has its records under their index."""
        if self.kind.key == "none":
            return dict(enumerate(self.records))
        return {self._decoded_key(k): self._decoded_value(v) for k, v in self.entries.items()}

    def __getitem__(self, key: Any) -> Any:
        blocks = self.entries.get(self._test_key(key))
        if blocks is None:
            raise KeyError(key)
        return self._decoded_value(blocks)

    def __contains__(self, key: Any) -> bool:
        return self._test_key(key) in self.entries

    def __len__(self) -> int:
        return len(self.records) if self.kind.key == "none" else len(self.entries)

    def __setitem__(self, key: Any, value: Any) -> None:
        """Set a value as user space would (BPF_ANY; a per-CPU value is a
        list with one value per CPU, or one value for every CPU)."""
        if self.value_type is None:
            raise TypeError(f"map '{self.name}' ({self.kind.python_name}) has no values to set")
        k = self._test_key(key)
        # A DevMapHash takes any key; every other array an index below max_entries.
        indexed = self.kind.map_type != "BPF_MAP_TYPE_DEVMAP_HASH"
        if self.kind.key == "index" and k not in self.entries and indexed and (
                not self.sparse or int(key) >= self.max_entries):
            raise KeyError(f"index {key} is past the end of map '{self.name}' "
                           f"({self.max_entries} entries)")
        values = value if self.per_cpu and isinstance(value, list) else [value] * (
            self.cpus if self.per_cpu else 1)
        if len(values) != (self.cpus if self.per_cpu else 1):
            raise ValueError(f"map '{self.name}' is per CPU: give one value, or a list of "
                             f"{self.cpus}")
        if self.lpm:
            if self._lpm_update(k, to_bytes(value, self.value_type, f"value of map "
                                                                   f"'{self.name}'"), 0):
                raise ValueError(f"map '{self.name}': a prefix longer than the address, or the "
                                 f"trie is full ({self.max_entries} entries)")
            return
        if self.sparse and value == 0:
            self.entries.pop(k, None)       # no device: the slot is empty
            return
        if k not in self.entries and len(self.entries) >= self.max_entries \
                and (self.kind.key == "declared" or self.sparse):
            raise ValueError(f"map '{self.name}' is full ({self.max_entries} entries)")
        self.entries[k] = [bytearray(to_bytes(v, self.value_type, f"value of map '{self.name}'"))
                           for v in values]

    def _test_key(self, key: Any) -> bytes:
        if self.kind.key in ("socket", "cgroup"):
            return int(key).to_bytes(8, "little", signed=key < 0)
        if self.kind.key == "none":
            raise TypeError(f"map '{self.name}' is a ring buffer: read its records")
        return self._key_bytes(key)

    def drain(self) -> list[bytes]:
        """A ring buffer's records, in order, emptying it."""
        out, self.records = self.records, []
        return out


def _ringbuf_room(length: int) -> int:
    return (length + _RINGBUF_HEADER + 7) // 8 * 8


def _prefixlen(key: bytes) -> int:
    """An LPM key's prefixlen, its first u32."""
    return int.from_bytes(key[:4], "little")


def _common_bits(a: bytes, b: bytes) -> int:
    """How many leading bits two LPM keys' addresses share (most
    significant bit of each byte first)."""
    bits = 0
    for x, y in zip(a[4:], b[4:]):
        diff = x ^ y
        if diff:
            return bits + 8 - diff.bit_length()
        bits += 8
    return bits
