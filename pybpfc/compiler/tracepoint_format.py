"""A tracepoint's context as the running kernel lays it out, read from its
tracefs format file when a program naming it is compiled.

Each ``field:TYPE NAME; offset:N; size:N; signed:N;`` line becomes a
context field: an integer of its size and sign; a pointer as the u64
address it holds (read what it points to with ``probe_read_user`` or
``probe_read_kernel``); ``char comm[16]`` an array read with constant
indexes; ``__data_loc char[] name`` the kernel address of the data it
locates (inside the event record).  The first 8 bytes (``common_*``) are
described but never readable: the verifier refuses them.
"""
from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Any, Callable, ContextManager, Optional

from .. import abi

_LINE = re.compile(r"\s*field:(?P<decl>[^;]+);\s*offset:(?P<offset>\d+);\s*size:(?P<size>\d+);"
                   r"\s*signed:(?P<signed>\d);")
_DECL = re.compile(r"(?P<type>.*?)\s*\b(?P<name>[A-Za-z_]\w*)\s*(?:\[(?P<count>\d*)\])?$")
FIRST_READABLE_OFFSET = abi.TRACEPOINT_FIRST_READABLE
DATA_LOC = "data_loc"     # the Field kind of a __data_loc member


class TracepointUnknown(Exception):
    """The kernel has no such tracepoint, or its format cannot be read; the
    message says which and what to do."""


class TracefsUnreadable(TracepointUnknown):
    """tracefs is not mounted or not readable here, so the format file
    cannot say whether the tracepoint exists."""


def parse_format(text: str, category: str, name: str) -> abi.Context:
    fields: list[abi.Field] = []
    end = 0
    for line in text.splitlines():
        m = _LINE.match(line)
        if m is None:
            continue
        offset, size, signed = int(m["offset"]), int(m["size"]), m["signed"] == "1"
        end = max(end, offset + size)
        decl = m["decl"].strip()
        data_loc = decl.startswith("__data_loc")
        d = _DECL.match(decl.removeprefix("__data_loc").strip().replace("[]", "", 1)
                        if data_loc else decl)
        if d is None:
            continue
        field_name, count = d["name"], d["count"]
        if data_loc:
            fields.append(abi.Field(field_name, offset, DATA_LOC, 4,
                                    f"{decl}: the kernel address of its data"))
        elif count:
            elem = size // int(count)
            if elem in (1, 2, 4, 8) and elem * int(count) == size:
                fields.append(abi.Field(field_name, offset, _int_kind(elem, signed), elem, decl,
                                        count=int(count)))
        elif size in (1, 2, 4, 8):
            what = "an address" if "*" in d["type"] else decl
            fields.append(abi.Field(field_name, offset, _int_kind(size, signed), size, what))
    return abi.Context(abi.TRACEPOINT.python_name, f"trace_event_raw_{name}",
                       (end + 7) // 8 * 8, tuple(fields), narrow_reads=True)


def _int_kind(size: int, signed: bool) -> str:
    return f"{'i' if signed else 'u'}{size * 8}"


def readable(ctx: abi.Context) -> frozenset[str]:
    return frozenset(f.name for f in ctx.fields if f.offset >= FIRST_READABLE_OFFSET)


def format_context(category: str, name: str) -> abi.Context:
    """The context of tracepoint ``category/name`` from its format file
    (tracepoint_btf.tracepoint_context falls back to BTF)."""
    for part in (category, name):
        if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", part):
            raise TracepointUnknown(f"'{part}' is not a tracepoint's category or name")
    return parse_format(format_text(category, name), category, name)


def format_text(category: str, name: str) -> str:
    """The text of tracepoint ``category/name``'s format file."""
    from ..runtime.errors import BpfError
    from ..runtime.tracepoint_events import event_file
    try:
        with contextlib.ExitStack() as stack:
            try:
                root = stack.enter_context(readable_tracefs())
            except BpfError as err:     # root, but tracefs cannot be mounted
                raise TracefsUnreadable(str(err)) from None
            return event_file(root, category, name, "format", "@tracepoint")
    except BpfError as err:
        raise TracepointUnknown(str(err)) from None


def readable_tracefs() -> ContextManager[Path]:
    """tracefs, mounted for the read if it is not (as root), through the
    runtime's mount, which unmounts again what it mounted."""
    from ..runtime import tracepoint_events
    mounted: Optional[Path] = tracepoint_events.tracefs_mount()
    if mounted is None and os.geteuid() != 0:
        raise TracefsUnreadable("tracefs is not mounted, so the tracepoint's fields cannot be "
                                "read: mount it (mount -t tracefs none /sys/kernel/tracing) or "
                                "compile as root")
    if mounted is not None and not os.access(mounted / "events", os.R_OK | os.X_OK):
        # tracefs is mode 0700: mounted, but only root may read the formats
        raise TracefsUnreadable(f"tracefs at {mounted} is readable only by root, so the "
                                "tracepoint's fields cannot be read: compile as root")
    opener: Callable[[], ContextManager[Path]] = tracepoint_events.mounted_tracefs
    return opener()


def btf_tracepoint_context(name: str) -> abi.Context:
    """The arguments of BTF-typed tracepoint ``name``: as many u64 as its
    ``btf_trace_NAME`` prototype has after the tracepoint's data pointer
    (the verifier refuses a read past them)."""
    from ..runtime.btf_types import Kind
    from ..runtime.errors import BpfError
    from ..runtime.kernel_btf import vmlinux_btf
    try:
        btf = vmlinux_btf()
        found = btf.find("btf_trace_" + name, Kind.TYPEDEF)
    except (BpfError, OSError) as err:
        raise TracepointUnknown(f"cannot read the kernel's BTF: {err}") from None
    if found is None:
        raise TracepointUnknown(f"this kernel has no tracepoint {name} (its BTF has no "
                                f"btf_trace_{name})")
    proto = btf.types[btf.types[btf.types[found].type].type]
    params = proto.members[1:]
    pointers = []
    for index, param in enumerate(params):
        what = _pointee(btf, param.type)
        if what is not None:
            pointers.append(("args", index, what))
    args = abi.RAW_TRACEPOINT_ARGS
    field = args.fields[0]._replace(count=len(params))
    return args._replace(size=8 * len(params), fields=(field,), typed_pointers=tuple(pointers))


def _pointee(btf: Any, type_id: int) -> Optional[str]:
    """What a pointer type points to (``struct task_struct``), or None for
    a type that is not a pointer."""
    from ..runtime.btf_types import Kind
    t = btf.types[type_id]
    while t.kind in (Kind.TYPEDEF, Kind.CONST, Kind.VOLATILE, Kind.RESTRICT, Kind.TYPE_TAG):
        t = btf.types[t.type]
    if t.kind != Kind.PTR:
        return None
    target = btf.types[t.type]
    while target.kind in (Kind.CONST, Kind.VOLATILE, Kind.RESTRICT, Kind.TYPE_TAG):
        target = btf.types[target.type]
    kind = {Kind.STRUCT: "struct ", Kind.UNION: "union "}.get(target.kind, "")
    return f"{kind}{target.name or 'void'}"
