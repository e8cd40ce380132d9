"""The types of pybpfc values.

Integers have a fixed width and signedness; an integer literal has no type
of its own until it meets one (``UNTYPED_INT``), and defaults to ``i64``.
Aggregates (structs, arrays, byte buffers) live in memory; the context and
the things reached through it are described by the hook table.
"""
from __future__ import annotations

from typing import Optional

from .. import abi
from ..records import field, record


class Type:
    def __str__(self) -> str:
        return str(getattr(self, "name"))

    @property
    def size(self) -> int:
        raise TypeError(f"{self.name} has no size")

    @property
    def align(self) -> int:
        return self.size


@record(frozen=True, eq=True)
class IntType(Type):
    name: str
    bits: int
    signed: bool
    # Network byte order (be16, be32: packet header fields): such a value
    # meets host-order integers only through ntohs/ntohl and htons/htonl.
    network: bool = False

    @property
    def size(self) -> int:
        return self.bits // 8

    @property
    def min(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    def contains(self, other: "IntType") -> bool:
        """Every value of ``other`` is a value of this type."""
        return (self.network == other.network and self.min <= other.min
                and other.max <= self.max)

    def fits(self, value: int) -> bool:
        return self.min <= value <= self.max

    def __str__(self) -> str:
        return self.name


INT_TYPES = {t.name: t for t in (
    IntType("u8", 8, False), IntType("u16", 16, False), IntType("u32", 32, False),
    IntType("u64", 64, False), IntType("i8", 8, True), IntType("i16", 16, True),
    IntType("i32", 32, True), IntType("i64", 64, True),
    IntType("be16", 16, False, network=True), IntType("be32", 32, False, network=True),
)}
U8, U16, U32, U64 = (INT_TYPES[n] for n in ("u8", "u16", "u32", "u64"))
I32, I64 = INT_TYPES["i32"], INT_TYPES["i64"]
BE16, BE32 = INT_TYPES["be16"], INT_TYPES["be32"]
# The network-order type of each host width, and back.
NETWORK_OF = {16: BE16, 32: BE32}
HOST_OF = {16: U16, 32: U32}
DEFAULT_INT = I64


@record(frozen=True, eq=True)
class _Simple(Type):
    name: str

    @property
    def size(self) -> int:
        if self.name == "bool":
            return 1
        raise TypeError(f"{self.name} has no size")

    def __str__(self) -> str:
        return self.name


BOOL = _Simple("bool")
UNTYPED_INT = _Simple("int literal")
NONE = _Simple("None")


@record(frozen=True, eq=True)
class BytesLitType(Type):
    """A bytes literal: a constant of ``length`` bytes."""
    length: int

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"bytes literal of {self.length} bytes"


@record(frozen=True, eq=True)
class ArrayType(Type):
    """``list[T]`` of a fixed length, or ``bytearray`` (``is_bytes``)."""
    elem: Type
    length: int
    is_bytes: bool = False

    @property
    def name(self) -> str:  # type: ignore[override]
        if self.is_bytes:
            return f"bytearray({self.length})"
        return f"list[{self.elem}] of length {self.length}"

    @property
    def size(self) -> int:
        return self.elem.size * self.length

    @property
    def align(self) -> int:
        return self.elem.align


@record(eq=False)
class StructType(Type):
    name: str
    fields: list[tuple[str, Type, int]] = field(default_factory=list)  # (name, type, offset)
    size_: int = 0
    align_: int = 1

    @property
    def size(self) -> int:
        return self.size_

    @property
    def align(self) -> int:
        return self.align_

    def field(self, name: str) -> Optional[tuple[str, Type, int]]:
        for f in self.fields:
            if f[0] == name:
                return f
        return None

    def __str__(self) -> str:
        return self.name


@record(frozen=True, eq=True)
class ContextType(Type):
    """The hook's context argument (a pointer to the kernel's struct)."""
    context: abi.Context

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.context.python_name


@record(frozen=True, eq=True)
class SockRefType(Type):
    """``ctx.sk``: a read-only ``struct bpf_sock`` reached through a pointer."""
    name: str = "SockContext (through ctx.sk)"


@record(frozen=True, eq=True)
class WindowType(Type):
    """``ctx.optval``: a bounds-checked window on a kernel byte buffer."""
    start: abi.Field
    end: abi.Field
    name: str = "OptvalWindow"


@record(frozen=True, eq=True)
class CtxArrayType(Type):
    """An array member of a context struct (``ctx.cb``, ``ctx.src_ip6``),
    indexed with constants only."""
    field: abi.Field
    through_sock: bool = False

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.field.name} (an array of {self.field.count} {self.field.kind})"


@record(frozen=True, eq=True)
class KernelPtrType(Type):
    """A pointer to a kernel struct (``task_struct``), described by the
    kernel's BTF.  ``trusted``: the verifier knows what it points to (from
    ``get_current_task_btf()`` or a tp_btf argument), so its fields are
    plain loads; otherwise each field is read with bpf_probe_read_kernel."""
    struct: str
    trusted: bool

    @property
    def size(self) -> int:
        return 8

    @property
    def name(self) -> str:  # type: ignore[override]
        how = "BTF-typed" if self.trusted else "probe-read"
        return f"struct {self.struct} * ({how})"


@record(frozen=True, eq=True)
class KernelBytesType(Type):
    """A byte array member of a kernel struct (``task.comm``): copied whole
    into a bytearray of the program's."""
    struct: str
    member: str
    length: int

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.struct}.{self.member} (char[{self.length}] in the kernel)"


@record(frozen=True, eq=False)
class MapType(Type):
    """A map declared at module level; only its methods are used."""
    name: str
    kind: abi.MapKind
    key: Optional[Type]       # None: the kind fixes the key (index, socket, cgroup, none)
    value: Optional[Type]     # None: a ring buffer's records
    max_entries: int
    map_flags: int

    def __str__(self) -> str:
        return f"{self.kind.python_name} '{self.name}'"


@record(frozen=True, eq=True)
class RefType(Type):
    """A reference to a value in kernel memory, returned by a map lookup.
    ``maybe_none``: the lookup may have found nothing; the program must
    check ``is not None`` before using it.  ``shared``: every CPU reaches
    the same value (not a per-CPU map, nor a socket's own storage), so an
    update must be indivisible."""
    value: Type
    maybe_none: bool
    shared: bool = True
    # A header in the packet (``ctx.header(T, offset)``), whose fields are
    # reached directly: ``ip.protocol``.  The packet is this program's alone.
    packet: bool = False

    @property
    def size(self) -> int:
        return 8          # a pointer

    @property
    def name(self) -> str:  # type: ignore[override]
        ref = f"{self.value} in the packet" if self.packet else f"Ref[{self.value}]"
        return f"Optional[{ref}]" if self.maybe_none else ref


def _builtin_struct(name: str, value: IntType) -> StructType:
    return StructType(name, [("length", INT_TYPES["i64"], 0), ("value", value, 8)], 16, 8)


# What strtol() and strtoul() return (pybpfc.lang.ParsedInt / ParsedUint).
PARSED_TYPES = {"parsed_i64": _builtin_struct("ParsedInt", INT_TYPES["i64"]),
                "parsed_u64": _builtin_struct("ParsedUint", INT_TYPES["u64"])}


def _header_struct(header: abi.Header) -> StructType:
    """A packet header as a struct, its fields at their natural alignment
    (where the wire formats put them)."""
    st = StructType(header.python_name)
    offset, align = 0, 1
    for f in header.fields:
        elem = INT_TYPES[f.type]
        ty: Type = elem if f.count == 1 else ArrayType(elem, f.count)
        offset = (offset + elem.align - 1) // elem.align * elem.align
        st.fields.append((f.name, ty, offset))
        offset += ty.size
        align = max(align, elem.align)
    st.size_ = (offset + align - 1) // align * align
    st.align_ = align
    assert st.size_ == header.size, header.python_name
    return st


# The headers programs import from pybpfc (EthHdr, Ipv4Hdr, ...).
HEADER_TYPES = {h.python_name: _header_struct(h) for h in abi.HEADERS}


def map_key_type(ty: MapType) -> Optional[Type]:
    """The key a map is created with, as the kernel sees it."""
    if ty.key is not None:
        return ty.key
    return INT_TYPES[ty.kind.key_type] if ty.kind.key_type else None


# Byte buffers (a bytearray variable's own storage, on the stack or global)
# start 8-aligned so that comparisons can read them a word at a time.
BUFFER_ALIGN = 8


def storage_align(ty: Type) -> int:
    """The alignment of a variable's own storage (a stack slot or a global)."""
    if isinstance(ty, ArrayType) and ty.is_bytes:
        return BUFFER_ALIGN
    return ty.align


# A struct or array on the stack of at least a word starts 8-aligned, as
# clang places them, so that LLVM zeroes and copies it a word at a time.
WORD = 8


def stack_align(ty: Type) -> int:
    """The alignment of a variable's stack slot."""
    if is_aggregate(ty) and ty.size >= WORD:
        return max(storage_align(ty), WORD)
    return storage_align(ty)


def int_type(name: str) -> IntType:
    return INT_TYPES[name]


def is_int(t: Type) -> bool:
    return isinstance(t, IntType) or t is UNTYPED_INT


def is_scalar(t: Type) -> bool:
    return isinstance(t, IntType) or t is BOOL


def is_aggregate(t: Type) -> bool:
    return isinstance(t, (StructType, ArrayType))


def common_int_type(a: IntType, b: IntType) -> Optional[IntType]:
    """The type both operands convert to without losing a value, if any."""
    if a.contains(b):
        return a
    if b.contains(a):
        return b
    return None
