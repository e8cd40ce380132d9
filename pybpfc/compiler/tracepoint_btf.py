"""A tracepoint's context derived from the kernel's BTF, for when its
tracefs format file cannot be read (tracefs not mounted, or readable only
by root).  The result is the context parse_format() would give.

- ``syscalls/sys_enter_NAME``: the common header, ``int __syscall_nr`` at
  8, then each parameter of ``__do_sys_NAME`` (or ``__se_sys_NAME``) in an
  unsigned 8-byte slot from 16, in declaration order;
- ``syscalls/sys_exit_NAME``: the header, ``__syscall_nr``, ``long ret`` at
  16, for a syscall whose definition BTF has;
- any other tracepoint NAME with a ``struct trace_event_raw_NAME`` (its
  event class has the tracepoint's name): the header fields, then the
  struct's members (``u32 __data_loc_X`` is the ``__data_loc`` field X).

Anything else raises TracepointUnknown rather than guess: a syscall whose
definition the compiler inlined away (no FUNC in BTF), an event whose class
has another name, a member of a shape the format file would show otherwise.

BTF cannot tell which category an event is in, nor whether a syscall
defined in the kernel has a tracepoint (those only in another ABI's table,
``getuid16``, have none): such a program compiles and its loader then
finds no tracepoint to attach to.
"""
from __future__ import annotations

from typing import Any, Optional

from .. import abi
from .tracepoint_format import DATA_LOC, TracefsUnreadable, TracepointUnknown, format_context

SYSCALL_CATEGORY = "syscalls"
# Functions whose parameters are a syscall's, as SYSCALL_DEFINEn declares
# them (the compiler often inlines them away: then BTF lacks them).
SYSCALL_DEFINITIONS = ("__do_sys_", "__se_sys_")
# The members of struct trace_entry appear in every format with this prefix.
COMMON_PREFIX = "common_"
HEADER_STRUCT = "trace_entry"
# x86's SYSCALL_DEFINE0 entry takes the registers under this name.
SYSCALL_DEFINE0_PARAM = "__unused"
SYSCALL_DEFINE0_TYPE = "const struct pt_regs *"
HEADER_MEMBER = "ent"
DATA_LOC_PREFIX = "__data_loc_"
# The trailing flexible array holding __data_loc data: not a format field.
DYNAMIC_DATA = "__data"


def tracepoint_context(category: str, name: str) -> abi.Context:
    """The context of tracepoint ``category/name`` in the running kernel:
    from its format file, or from BTF when tracefs cannot be read, with
    tracefs's reason when BTF cannot tell either."""
    try:
        return format_context(category, name)
    except TracefsUnreadable as unreadable:
        try:
            return btf_context(category, name)
        except TracepointUnknown:
            raise TracepointUnknown(str(unreadable)) from None


def btf_context(category: str, name: str) -> abi.Context:
    """The context of tracepoint ``category/name`` from the kernel's BTF,
    or TracepointUnknown when BTF does not tell it for certain."""
    btf = _kernel_btf()
    header = _header(btf)
    if category == SYSCALL_CATEGORY:
        fields = header + _syscall_fields(btf, name)
        end = max(f.offset + f.size * f.count for f in fields)
    else:
        fields, end = _class_fields(btf, name)
        fields = header + fields
        end = max([end] + [f.offset + f.size for f in header])
    return abi.Context(abi.TRACEPOINT.python_name, f"trace_event_raw_{name}",
                       (end + 7) // 8 * 8, tuple(fields), narrow_reads=True)


def _kernel_btf() -> Any:
    from ..runtime.errors import BpfError
    from ..runtime.kernel_btf import vmlinux_btf
    try:
        return vmlinux_btf()
    except (BpfError, OSError) as err:
        raise TracepointUnknown(f"cannot read the kernel's BTF: {err}") from None


def _struct(btf: Any, name: str) -> Optional[Any]:
    from ..runtime.btf_types import Kind
    found = btf.find(name, Kind.STRUCT)
    return None if found is None else btf.types[found]


def _header(btf: Any) -> tuple[abi.Field, ...]:
    entry = _struct(btf, HEADER_STRUCT)
    if entry is None:
        raise TracepointUnknown(f"the kernel's BTF has no struct {HEADER_STRUCT}")
    fields = tuple(_member_field(btf, m, COMMON_PREFIX + m.name) for m in entry.members)
    if any(f is None for f in fields):
        raise TracepointUnknown(f"struct {HEADER_STRUCT} has a member of no format shape")
    return tuple(f for f in fields if f is not None)


def _syscall_fields(btf: Any, name: str) -> tuple[abi.Field, ...]:
    if name.startswith("sys_enter_"):
        syscall = name.removeprefix("sys_enter_")
        entry = _first_func(btf, SYSCALL_DEFINITIONS, syscall)
        if entry is None:
            raise TracepointUnknown(f"the kernel's BTF has no __do_sys_{syscall} or "
                                    f"__se_sys_{syscall} to name the syscall's arguments")
        params = btf.types[btf.types[entry].type].members
        return (abi.SYSCALL_TRACEPOINT_NR,) + _syscall_args(btf, params)
    if name.startswith("sys_exit_"):
        syscall = name.removeprefix("sys_exit_")
        if _first_func(btf, SYSCALL_DEFINITIONS, syscall) is None:
            raise TracepointUnknown(f"the kernel's BTF has no syscall {syscall}")
        return (abi.SYSCALL_TRACEPOINT_NR, abi.SYSCALL_TRACEPOINT_RET)
    raise TracepointUnknown(f"'{name}' is neither sys_enter_NAME nor sys_exit_NAME")


def _first_func(btf: Any, prefixes: tuple[str, ...], name: str) -> Optional[int]:
    from ..runtime.btf_types import Kind
    for prefix in prefixes:
        found = btf.find(prefix + name, Kind.FUNC)
        if found is not None:
            return int(found)
    return None


def _syscall_args(btf: Any, params: list[Any]) -> tuple[abi.Field, ...]:
    if len(params) == 1 and params[0].name == SYSCALL_DEFINE0_PARAM \
            and _type_name(btf, params[0].type) == SYSCALL_DEFINE0_TYPE:
        return ()       # the registers, not an argument
    fields = []
    for index, param in enumerate(params):
        if not param.name:
            raise TracepointUnknown("the syscall's entry in BTF has an unnamed parameter")
        fields.append(abi.Field(param.name, abi.SYSCALL_TRACEPOINT_ARGS + 8 * index, "u64", 8,
                                _doc(btf, param.type, param.name)))
    return tuple(fields)


def _class_fields(btf: Any, name: str) -> tuple[tuple[abi.Field, ...], int]:
    """The fields of an event whose class has its name, and where the last
    member the format shows ends (also one no field is made of)."""
    from ..runtime.btf_types import Kind
    raw = _struct(btf, f"trace_event_raw_{name}")
    if raw is None or btf.find("btf_trace_" + name, Kind.TYPEDEF) is None:
        raise TracepointUnknown(f"the kernel's BTF has no tracepoint {name} with an event "
                                f"class of that name (struct trace_event_raw_{name})")
    members = raw.members
    if not members or members[0].name != HEADER_MEMBER or members[0].bit_offset != 0:
        raise TracepointUnknown(f"struct trace_event_raw_{name} does not start with "
                                f"{HEADER_MEMBER}")
    fields, end = [], 0
    for index, m in enumerate(members[1:], start=1):
        if m.bitfield_size or m.bit_offset % 8:
            raise TracepointUnknown(f"trace_event_raw_{name}.{m.name} is a bit field")
        offset = m.bit_offset // 8
        if m.name == DYNAMIC_DATA and index == len(members) - 1:
            continue
        end = max(end, offset + _size(btf, m.type))
        if m.name.startswith(DATA_LOC_PREFIX):
            if _size(btf, m.type) != 4:
                raise TracepointUnknown(f"trace_event_raw_{name}.{m.name} is not 4 bytes")
            data = m.name.removeprefix(DATA_LOC_PREFIX)
            fields.append(abi.Field(data, offset, DATA_LOC, 4,
                                    f"__data_loc {data}: the kernel address of its data"))
            continue
        if m.name.startswith("__rel_loc_") or not m.name:
            raise TracepointUnknown(f"trace_event_raw_{name} has a member the compiler "
                                    "cannot map to a format field")
        field = _member_field(btf, m, m.name)
        if field is not None:
            fields.append(field)
    return tuple(fields), end


def _member_field(btf: Any, member: Any, name: str) -> Optional[abi.Field]:
    """The field a struct member is in the format, or None where
    parse_format() would leave it out (sizes it cannot read)."""
    from ..runtime.btf_types import Kind
    offset = member.bit_offset // 8
    t = _resolved(btf, member.type)
    what = _doc(btf, member.type, name)
    if t.kind == Kind.ARRAY:
        elem = _resolved(btf, t.elem_type)
        if elem.kind == Kind.ARRAY:
            raise TracepointUnknown(f"{name} is an array of arrays")
        count, size = t.nelems, _size(btf, t.elem_type)
        if count == 0 or size not in (1, 2, 4, 8):
            return None
        return abi.Field(name, offset, _kind(size, _signed(btf, elem)), size, what, count=count)
    size = _size(btf, member.type)
    if size not in (1, 2, 4, 8):
        return None
    return abi.Field(name, offset, _kind(size, _signed(btf, t)), size, what)


def _kind(size: int, signed: bool) -> str:
    return f"{'i' if signed else 'u'}{size * 8}"


def _resolved(btf: Any, type_id: int) -> Any:
    from ..runtime.btf_types import MODIFIER_KINDS
    t = btf.types[type_id]
    while t.kind in MODIFIER_KINDS:
        t = btf.types[t.type]
    return t


def _doc(btf: Any, type_id: int, name: str) -> str:
    """The field's description as parse_format() writes it, which calls a
    field an address when its type is spelled with a ``*`` (not a pointer
    behind a typedef such as ``initcall_t``)."""
    spelled = _type_name(btf, type_id)
    return "an address" if "*" in spelled else f"{spelled} {name}"


def _signed(btf: Any, t: Any) -> bool:
    from ..runtime.btf_types import Kind
    if t.kind in (Kind.INT, Kind.ENUM, Kind.ENUM64):
        return bool(t.signed)
    if t.kind in (Kind.STRUCT, Kind.UNION, Kind.PTR):
        return False
    raise TracepointUnknown(f"a tracepoint field of BTF kind {t.kind.name} has no known sign")


def _size(btf: Any, type_id: int) -> int:
    from ..runtime.btf_types import Kind
    t = _resolved(btf, type_id)
    if t.kind == Kind.PTR:
        return 8
    if t.kind == Kind.ARRAY:
        return int(t.nelems * _size(btf, t.elem_type))
    if t.kind in (Kind.INT, Kind.ENUM, Kind.ENUM64, Kind.STRUCT, Kind.UNION, Kind.FLOAT):
        return int(t.size)
    raise TracepointUnknown(f"a tracepoint field of BTF kind {t.kind.name} has no known size")


def _type_name(btf: Any, type_id: int) -> str:
    """A C spelling of a type for the field's description."""
    from ..runtime.btf_types import Kind
    t = btf.types[type_id]
    prefix = {Kind.STRUCT: "struct ", Kind.UNION: "union ", Kind.ENUM: "enum ",
              Kind.ENUM64: "enum "}.get(t.kind, "")
    if t.kind == Kind.PTR:
        return _type_name(btf, t.type) + " *"
    if t.kind == Kind.CONST:
        return "const " + _type_name(btf, t.type)
    if t.kind == Kind.ARRAY:
        return _type_name(btf, t.elem_type) + f"[{t.nelems}]"
    if t.kind in (Kind.VOLATILE, Kind.RESTRICT, Kind.TYPE_TAG):
        return _type_name(btf, t.type)
    return prefix + (t.name or "void")
