"""Checking kernel structs read through BTF: names imported from
``pybpfc.vmlinux``, pointers to kernel structs (from
``get_current_task()``, ``get_current_task_btf()``, a tp_btf argument or
``task_struct(addr)``) and their fields.

Each field read is resolved against the build machine's kernel BTF and
recorded (``KernelField``) with the member's offset and type; the program
keeps the members it reads per struct (``kernel_members``), from which
lowering describes the struct to the object's BTF for CO-RE."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from ... import abi
from .. import ast as A
from ..contract import (KernelAddress, KernelArgument, KernelBytesCopy, KernelField,
                        KernelPointerCast)
from ..kernel_structs import (ADDRESS, BYTES, EMBEDDED, INTEGER, POINTER, KernelMember, KernelStruct,
                              KernelTypesUnknown, close_member_names, kernel_struct)
from ..symbols import KernelStructSym
from ..types import U64, ArrayType, KernelBytesType, KernelPtrType, Type, int_type
from .expressions import coerce
from .state import Checker, arity, error

MODULE = "pybpfc.vmlinux"
# What a helper's ``returns`` says of the pointer it gives (abi/helpers.py).
_POINTER_RETURNS = {"kernel:": False, "btf:": True}


def struct_named(name: str, at: A.Node | A.Pos) -> KernelStruct:
    try:
        return kernel_struct(name)
    except KernelTypesUnknown as err:
        raise error(str(err), at, note=err.note) from None


def import_symbol(name: str, at: A.Node | A.Pos) -> KernelStructSym:
    """``from pybpfc.vmlinux import task_struct``."""
    return KernelStructSym(struct_named(name, at))


def helper_pointer(helper: abi.Helper) -> KernelPtrType | None:
    """The kernel pointer a helper returns, if it returns one."""
    for prefix, trusted in _POINTER_RETURNS.items():
        if helper.returns.startswith(prefix):
            return KernelPtrType(helper.returns.removeprefix(prefix), trusted)
    return None


def pointer_cast(ck: Checker, e: A.Call, sym: KernelStructSym) -> None:
    """``task_struct(addr)``: an address (an integer) as a pointer whose
    fields are probe-read; of a pointer to one already, that pointer."""
    arity(e, 1, sym.struct.name)
    with pointer_wanted(ck, e.args[0]):
        ck.expr(e.args[0])
    arg = e.args[0].ty
    if isinstance(arg, KernelPtrType):
        # task_struct(ctx.args[0]): what it is already, said for type checkers.
        if arg.struct != sym.struct.name:
            raise error(f"this is {arg}, not a pointer to struct {sym.struct.name}", e.args[0])
        e.ty = arg
        e.resolved = KernelPointerCast()
        return
    e.args[0] = coerce(e.args[0], U64, f"the address of a {sym.struct.name}")
    e.ty = KernelPtrType(sym.struct.name, trusted=False)
    e.resolved = KernelPointerCast()


def address_of(e: A.Call, to: Type) -> bool:
    """``u64(task)``: the address a kernel pointer holds (True when ``e``
    is such a conversion)."""
    arg = e.args[0]
    if not isinstance(arg.ty, KernelPtrType):
        return False
    if to != U64:
        raise error(f"a kernel pointer converts to u64 only, not {to}", e)
    e.ty = U64
    e.resolved = KernelAddress()
    return True


def member_of(ptr: KernelPtrType, e: A.Attribute) -> KernelMember:
    struct = struct_named(ptr.struct, e.value)
    member = struct.members.get(e.attr)
    if member is None:
        close = close_member_names(struct, e.attr)
        raise error(f"struct {struct.name} has no field '{e.attr}'", e.attr_pos,
                    note=("close names: " + ", ".join(close)) if close else None)
    return member


def kernel_field(ck: Checker, e: A.Attribute) -> None:
    """``task.pid``: an integer; ``task.real_parent``: a pointer of the same
    kind (BTF-typed or probe-read); ``task.comm``: bytes to copy."""
    ptr = e.value.ty
    assert isinstance(ptr, KernelPtrType)
    member = member_of(ptr, e)
    where = f"{ptr.struct}.{member.name}"
    if member.kind == INTEGER:
        e.ty = int_type(f"{'i' if member.signed else 'u'}{member.size * 8}")
    elif member.kind in (POINTER, EMBEDDED):
        e.ty = KernelPtrType(member.target, ptr.trusted)
    elif member.kind == ADDRESS:
        e.ty = U64
    elif member.kind == BYTES:
        e.ty = KernelBytesType(ptr.struct, member.name, member.size)
    elif member.bitfield:
        raise error(f"{where} is a bitfield ({member.c_type}), which pybpfc does not read",
                    e.attr_pos)
    else:
        raise error(f"{where} is {member.c_type}: pybpfc reads integers, pointers to "
                    "structs and byte arrays of kernel structs", e.attr_pos)
    if (not ptr.trusted or member.kind == BYTES) and member.kind != EMBEDDED:
        # Read with bpf_probe_read_kernel, which the hook must be able to call.
        ck.helper_called(e, abi.HELPERS["probe_read_kernel"], e.attr_pos,  # type: ignore[arg-type]
                         f"reading {where}")
    read = ck.kernel_members.setdefault(ptr.struct, {})
    for other in read.values():
        if other.name != member.name and other.offset < member.offset + member.size \
                and member.offset < other.offset + other.size:
            # The object describes the struct with the members read, side by side.
            raise error(f"{where} shares its bytes with {ptr.struct}.{other.name} (a union "
                        "in the kernel), which this program reads too: read one of them",
                        e.attr_pos)
    read[member.name] = member
    e.resolved = KernelField(ptr.struct, member, ptr.trusted)


@contextmanager
def pointer_wanted(ck: Checker, e: A.Expr) -> Iterator[None]:
    """Check ``e`` where a kernel pointer may stand."""
    saved, ck.pointer_wanted = ck.pointer_wanted, e
    try:
        yield
    finally:
        ck.pointer_wanted = saved


def typed_argument(ck: Checker, e: A.Subscript, what: str, offset: int,
                   base: A.Expr) -> bool:
    """``ctx.args[0]`` of a tp_btf hook, a pointer to ``what`` (``struct
    task_struct``): a BTF-typed pointer where one may stand (True)."""
    if ck.pointer_wanted is not e or not what.startswith("struct "):
        return False
    e.ty = KernelPtrType(what.removeprefix("struct "), trusted=True)
    e.resolved = KernelArgument(offset, base)
    return True


def refuse_write(e: A.Attribute) -> None:
    ptr = e.value.ty
    assert isinstance(ptr, KernelPtrType)
    raise error(f"{ptr.struct}.{e.attr} is the kernel's: a program only reads kernel structs",
                e.attr_pos)


def bytes_copy(s: A.Assign) -> None:
    """``ev.comm = task.comm``: into a bytearray, as much as fits."""
    src = s.value.ty
    assert isinstance(src, KernelBytesType)
    dst = s.target.ty
    if not (isinstance(dst, ArrayType) and dst.is_bytes):
        raise error(f"{src.struct}.{src.member} is copied into a bytearray, not {dst}", s.target,
                    note=f"declare the target as bytearray({src.length})")
    s.resolved = KernelBytesCopy(min(src.length, dst.length))


def is_kernel_value(ty: Type) -> bool:
    return isinstance(ty, (KernelPtrType, KernelBytesType))

