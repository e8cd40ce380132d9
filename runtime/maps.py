"""Live maps: a file descriptor plus the BTF that says what its keys and
values mean.  A ``Map`` reads like a dict; ``Globals`` reads and writes a
program's global variables by name."""
from __future__ import annotations

from typing import Any, Iterator, Optional

from . import bpf
from .btf import Btf
from .errors import BpfError
from .owned import OwnedFd
from .spec import DataSectionSpec, MapSpec


class Map(OwnedFd):
    """A map the process holds open.  Keys and values are decoded through
    BTF when the map has types (ints, struct objects, lists, bytes), and
    are raw bytes otherwise."""

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

    # ------------------------------------------------------ dict protocol

    def get(self, key: Any, default: Any = None) -> Any:
        raw = bpf.map_lookup_elem(self.fd, self.encode_key(key), self.spec.value_size,
                                  what=self.what)
        return default if raw is None else self._decode(self.spec.value_type_id, raw)

    def __getitem__(self, key: Any) -> Any:
        raw = bpf.map_lookup_elem(self.fd, self.encode_key(key), self.spec.value_size,
                                  what=self.what)
        if raw is None:
            raise KeyError(key)
        return self._decode(self.spec.value_type_id, raw)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.update(key, value)

    def update(self, key: Any, value: Any, flags: int = bpf.BPF_ANY) -> None:
        bpf.map_update_elem(self.fd, self.encode_key(key), self.encode_value(value), flags,
                            what=self.what)

    def __delitem__(self, key: Any) -> None:
        if not bpf.map_delete_elem(self.fd, self.encode_key(key), what=self.what):
            raise KeyError(key)

    def raw_keys(self) -> Iterator[bytes]:
        key: Optional[bytes] = None
        while True:
            key = bpf.map_get_next_key(self.fd, key, self.spec.key_size, what=self.what)
            if key is None:
                return
            yield key

    def keys(self) -> Iterator[Any]:
        for raw in self.raw_keys():
            yield self._decode(self.spec.key_type_id, raw)

    __iter__ = keys

    def items(self) -> Iterator[tuple[Any, Any]]:
        for raw in self.raw_keys():
            value = bpf.map_lookup_elem(self.fd, raw, self.spec.value_size, what=self.what)
            if value is not None:
                yield (self._decode(self.spec.key_type_id, raw),
                       self._decode(self.spec.value_type_id, value))

    def __len__(self) -> int:
        return sum(1 for _ in self.raw_keys())

    def __contains__(self, key: Any) -> bool:
        return bpf.map_lookup_elem(self.fd, self.encode_key(key), self.spec.value_size,
                                   what=self.what) is not None

    def __repr__(self) -> str:
        return f"<Map {self.spec.name!r} fd={self.fd}>"


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
        return [v for s in self._sections for v in s.section.variables]

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
