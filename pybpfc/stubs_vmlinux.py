"""``vmlinux.pyi``: kernel structs and unions as classes, from the running
kernel's BTF, for type checkers and editors (``pybpfc stubs``; the module is
``pybpfc.vmlinux``).

A field's annotation is pybpfc's type for it: integers and enums as
``u8`` .. ``i64`` of their size and sign, a pointer to a struct or union as
that class (``task.real_parent.tgid``), other pointers as the u64 address,
``char`` arrays as ``bytearray``, other arrays as lists, embedded structs as
their class; anonymous members are flattened into their parent, as C reads
them.

By default the stub holds the structs tracing programs start from
(``ROOTS``, and any ``--struct``) and every struct they reach through
members and pointers: on Linux 6.18 that is about 1,200 of vmlinux's 10,000
structs and unions, 390 kB, which add about a second to a first mypy or
pyright run of a small program (all of them, 2 MB: about 2 s).  ``depth``
cuts the walk that many pointers from the roots; a struct past it, or one
the BTF only declares, is a class without fields that accepts any
attribute (typed ``Any``).
"""
from __future__ import annotations

import inspect
import keyword
import os
from collections import deque
from typing import Any, Iterable, Optional

from pybpfc.runtime.btf_types import INT_BOOL, Kind
from pybpfc.stubs_text import alias_text, class_text
from pybpfc.vmlinux import KernelStruct

# The structs tracing programs most often start from.
ROOTS = ("task_struct", "file", "inode", "dentry", "path", "linux_binprm", "mm_struct",
         "cred", "sk_buff", "sock", "sock_common", "socket", "inet_sock", "tcp_sock",
         "net_device")
# The methods of pybpfc/vmlinux.py's classes, as they are there:
# ``task_struct(address)`` reads a kernel address as a pointer to the
# struct, ``u64(task)`` the address back.
METHODS = tuple(f"def {name}{inspect.signature(getattr(KernelStruct, name), eval_str=True)}: ..."
                for name in ("__init__", "__int__"))
# Names the stub's annotations use, which no class may take.
RESERVED = frozenset({"Any", "bool", "bytearray", "float", "int", "list",
                      "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"})


class UnknownStruct(Exception):
    """A struct asked for that the kernel's BTF does not have."""


class _Stub:
    """The classes reached from the roots, and their text."""

    def __init__(self, btf: Any, depth: Optional[int]):
        self.btf, self.depth = btf, depth
        self.names: dict[int, str] = {}
        self.taken: set[str] = set(RESERVED)
        self.full: dict[int, int] = {}       # type id -> depth it was reached at
        self.pending: deque[int] = deque()
        self.referenced: set[int] = set()
        self.aliases: set[str] = set()

    # ------------------------------------------------------------ types

    def strip(self, type_id: int) -> tuple[int, str]:
        """The type under modifiers and typedefs, and the last typedef's
        name (which names an anonymous struct)."""
        through = (Kind.CONST, Kind.VOLATILE, Kind.RESTRICT, Kind.TYPE_TAG, Kind.TYPEDEF)
        alias = ""
        for _ in range(64):   # a deeper chain is a loop
            t = self.btf.types[type_id]
            if t.kind not in through:
                break
            if t.kind == Kind.TYPEDEF:
                alias = t.name
            type_id = t.type
        return type_id, alias

    def annotation(self, type_id: int, depth: int, hint: str) -> str:
        type_id, alias = self.strip(type_id)
        t = self.btf.types[type_id]
        if t.kind == Kind.INT:
            if t.encoding & INT_BOOL:
                return "bool"
            return _int(t.size, t.signed) or "int"
        if t.kind in (Kind.ENUM, Kind.ENUM64):
            return _int(t.size, t.signed) or "int"
        if t.kind == Kind.FLOAT:
            return "float"
        if t.kind in (Kind.STRUCT, Kind.UNION):
            return self.class_of(type_id, depth, alias or hint)
        if t.kind == Kind.FWD:
            return self.class_of(self.definition(type_id), depth + 1, alias or hint)
        if t.kind == Kind.PTR:
            target, target_alias = self.strip(t.type)
            if self.btf.types[target].kind == Kind.FWD:
                target = self.definition(target)
            if self.btf.types[target].kind in (Kind.STRUCT, Kind.UNION, Kind.FWD):
                return self.class_of(target, depth + 1, target_alias or hint)
            return "u64"
        if t.kind == Kind.ARRAY:
            elem, _ = self.strip(t.elem_type)
            e = self.btf.types[elem]
            if e.kind == Kind.INT and e.size == 1 and not e.encoding & INT_BOOL:
                return "bytearray"
            return f"list[{self.annotation(t.elem_type, depth, hint)}]"
        return "int"

    def definition(self, fwd_id: int) -> int:
        """The struct or union a forward declaration stands for, if the BTF
        has it."""
        fwd = self.btf.types[fwd_id]
        kind = Kind.UNION if fwd.kind_flag else Kind.STRUCT
        found = self.btf.find(fwd.name, kind) if fwd.name else None
        return found if found is not None else fwd_id

    def class_of(self, type_id: int, depth: int, hint: str) -> str:
        """The class of a struct or union, to write in full if ``depth``
        allows it."""
        name = self.names.get(type_id)
        if name is None:
            base = self.btf.types[type_id].name or hint or f"anon_{type_id}"
            name = base if base not in self.taken and base.isidentifier() and \
                not keyword.iskeyword(base) else f"{base}_{type_id}"
            self.names[type_id] = name
            self.taken.add(name)
        self.referenced.add(type_id)
        if (self.depth is None or depth <= self.depth) and type_id not in self.full and \
                self.btf.types[type_id].kind != Kind.FWD:
            self.full[type_id] = depth
            self.pending.append(type_id)
        return name

    # ----------------------------------------------------------- classes

    def fields(self, type_id: int, depth: int, owner: str) -> Iterable[tuple[str, str]]:
        """Each member's name and annotation; an anonymous member's own
        members in its place."""
        for member in self.btf.types[type_id].members:
            if not member.name:
                inner, _ = self.strip(member.type)
                if self.btf.types[inner].kind in (Kind.STRUCT, Kind.UNION):
                    yield from self.fields(inner, depth, owner)
                continue
            yield member.name, self.annotation(member.type, depth, f"{owner}__{member.name}")

    def class_text(self, type_id: int) -> str:
        t = self.btf.types[type_id]
        what = "union" if t.kind == Kind.UNION else "struct"
        name = self.names[type_id]
        return class_text(name, f"{what} {t.name or '(anonymous)'}, {t.size} bytes",
                          self.fields(type_id, self.full[type_id], name), self.aliases,
                          METHODS)

    def opaque_text(self, type_id: int) -> str:
        t = self.btf.types[type_id]
        name = self.names[type_id]
        if t.kind == Kind.FWD:
            how = "the kernel's BTF only declares it"
        else:
            how = (f"pybpfc stubs --struct {t.name} adds them" if t.name
                   else "reach it from a struct written in full")
        return class_text(name, f"{t.name or '(anonymous)'}: its fields are not in these "
                          f"stubs ({how})", (), self.aliases,
                          METHODS + ("def __getattr__(self, name: str) -> Any: ...",))

    def text(self, release: str) -> str:
        parts = []
        while self.pending:
            parts.append(self.class_text(self.pending.popleft()))
        parts += [self.opaque_text(i) for i in sorted(self.referenced - set(self.full),
                                                       key=lambda i: self.names[i])]
        head = (f'"""Kernel structs of Linux {release}, from /sys/kernel/btf/vmlinux: '
                f'written by `pybpfc stubs` ({len(self.full)} in full)."""\n'
                "from typing import Any\n\n"
                "from pybpfc import i8, i16, i32, i64, u8, u16, u32, u64\n")
        return "\n\n".join([head] + parts + [alias_text(self.aliases)])


def _int(size: int, signed: bool) -> Optional[str]:
    if size not in (1, 2, 4, 8):
        return None
    return f"{'i' if signed else 'u'}{size * 8}"


def vmlinux_stub(btf: Any, structs: Iterable[str] = ROOTS, depth: Optional[int] = None,
                 everything: bool = False) -> tuple[str, int]:
    """The stub's text for these structs (or unions) of ``btf`` and what
    they reach (or for all of them), and how many classes it writes in full."""
    stub = _Stub(btf, depth)
    for name in structs:
        found = btf.find(name, Kind.STRUCT)
        if found is None:
            found = btf.find(name, Kind.UNION)
        if found is None:
            raise UnknownStruct(f"the kernel's BTF has no struct or union '{name}'")
        stub.class_of(found, 0, name)
    if everything:
        for type_id in range(1, len(btf.types)):
            t = btf.types[type_id]
            if t.kind in (Kind.STRUCT, Kind.UNION) and t.name:
                stub.class_of(type_id, 0, t.name)
    return stub.text(os.uname().release), len(stub.full)
