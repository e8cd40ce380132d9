"""Lowering kernel struct reads with CO-RE relocations.

Each kernel struct a program reads becomes a named LLVM struct type and a
debug-info struct of the kernel's name and size holding only the members
the program reads, at this kernel's offsets (with padding between).  A
member's address is ``llvm.preserve.struct.access.index`` on that type,
which the BPF backend turns into a field-offset relocation in .BTF.ext,
as clang does for ``__attribute__((preserve_access_index))``: the loader
(pybpfc's runtime through the kernel, or libbpf) matches the struct and
member by name in the running kernel's BTF and puts in its offset.

Through a BTF-typed pointer the member is loaded directly (the verifier
checks the load against BTF); otherwise it is copied with
bpf_probe_read_kernel into a stack slot the frame planned."""
from __future__ import annotations

import itertools

import llvmlite.ir as ir

from ... import abi
from .. import ast as A
from ..contract import (KernelAddress, KernelArgument, KernelBytesCopy, KernelField,
                        KernelPointerCast)
from ..kernel_structs import ADDRESS, BYTES, EMBEDDED, POINTER, KernelMember
from . import context, memory
from .calls import call_helper
from .state import I8, I64, PTR, Lowering, expression

_ACCESS_INDEX = "llvm.preserve.struct.access.index.p0.p0"
# LLVM's BPF backend keeps the globals it makes for relocations in a map
# for the whole process, by struct name and access: a second module with
# the same struct name would get the first one's (freed) globals and crash
# LLVM.  So each module after the first in a process names its structs
# with a flavor suffix (``task_struct___2``), which libbpf and the kernel
# ignore when they match names; ``pybpfc build`` compiles one module and
# keeps the kernel's names.
_MODULES_WITH_KERNEL_TYPES = itertools.count()


class _AccessIndex(ir.CallInstr):
    """The intrinsic's call, its base argument marked with the struct's
    element type (``elementtype(%struct.task_struct)``), which LLVM
    requires and llvmlite cannot write."""

    def __init__(self, block: ir.Block, fn: ir.Function, args: list[ir.Value],
                 element: ir.Type):
        super().__init__(block, fn, args, "")
        self.element = element

    def descr(self, buf: list[str]) -> None:
        start = len(buf)
        super().descr(buf)
        base = self.args[0]
        buf[start] = buf[start].replace(
            f"(ptr {base.get_reference()}",
            f"(ptr elementtype({self.element}) {base.get_reference()}", 1)


class KernelTypes:
    """The LLVM and debug types of the program's kernel structs, each
    made on first use from the members the checker found read."""

    def __init__(self, lw: Lowering):
        self.lw = lw
        self.made: dict[str, tuple[ir.Type, ir.DIValue, dict[str, tuple[int, int]]]] = {}
        self._fwd: dict[str, ir.DIValue] = {}
        self._basic: dict[tuple[str, int, bool], ir.DIValue] = {}
        number = next(_MODULES_WITH_KERNEL_TYPES)
        self.flavor = f"___{number}" if number else ""

    def struct(self, name: str) -> tuple[ir.Type, ir.DIValue, dict[str, tuple[int, int]]]:
        """The LLVM type, the debug type and each member's (LLVM field
        index, debug member index)."""
        found = self.made.get(name)
        if found is None:
            found = self.made[name] = self._make(name)
        return found

    def _make(self, name: str) -> tuple[ir.Type, ir.DIValue, dict[str, tuple[int, int]]]:
        from ..kernel_structs import kernel_struct
        lw = self.lw
        m = lw.module
        members = sorted(lw.program.kernel_members.get(name, {}).values(),
                         key=lambda mb: mb.offset)
        size = kernel_struct(name).size
        body: list[ir.Type] = []
        indexes: dict[str, tuple[int, int]] = {}
        di_members: list[ir.DIValue] = []
        at = 0
        for member in members:
            if member.offset < at:
                raise ValueError(f"{name}.{member.name} overlaps another member read")
            if member.offset > at:
                body.append(ir.ArrayType(I8, member.offset - at))
            indexes[member.name] = (len(body), len(di_members))
            body.append(_llvm_type(member))
            di_members.append(m.add_debug_info("DIDerivedType", {
                "tag": ir.DIToken("DW_TAG_member"), "name": member.name, "file": lw.di.file,
                "baseType": self._di_type(member), "size": member.size * 8,
                "offset": member.offset * 8}))
            at = member.offset + member.size
        if size > at:
            body.append(ir.ArrayType(I8, size - at))
        ty = m.context.get_identified_type("struct." + name)
        ty.set_body(*body)
        ty.packed = True
        di = m.add_debug_info("DICompositeType", {
            "tag": ir.DIToken("DW_TAG_structure_type"), "name": name + self.flavor,
            "file": lw.di.file,
            "size": size * 8, "elements": m.add_metadata(di_members)})
        return ty, di, indexes

    def _di_type(self, member: KernelMember) -> ir.DIValue:
        m = self.lw.module
        if member.kind == EMBEDDED:
            # CO-RE matches a struct member only with a struct.
            return self.struct(member.target)[1]
        if member.kind == POINTER:
            if member.target not in self._fwd:
                self._fwd[member.target] = m.add_debug_info("DICompositeType", {
                    "tag": ir.DIToken("DW_TAG_structure_type"), "name": member.target,
                    "file": self.lw.di.file, "flags": ir.DIToken("DIFlagFwdDecl")})
            return m.add_debug_info("DIDerivedType", {
                "tag": ir.DIToken("DW_TAG_pointer_type"), "baseType": self._fwd[member.target],
                "size": 64})
        if member.kind == ADDRESS:
            return m.add_debug_info("DIDerivedType", {
                "tag": ir.DIToken("DW_TAG_pointer_type"), "baseType": None, "size": 64})
        if member.kind == BYTES:
            sub = m.add_debug_info("DISubrange", {"count": member.size})
            return m.add_debug_info("DICompositeType", {
                "tag": ir.DIToken("DW_TAG_array_type"), "baseType": self._int("char", 1, True),
                "size": member.size * 8, "elements": m.add_metadata([sub])})
        if member.enum:
            # CO-RE matches an enum member only with an enum.
            return m.add_debug_info("DICompositeType", {
                "tag": ir.DIToken("DW_TAG_enumeration_type"), "name": member.c_type,
                "file": self.lw.di.file, "size": member.size * 8,
                "baseType": self._int("int", member.size, member.signed),
                "elements": m.add_metadata([])})
        return self._int(member.c_type, member.size, member.signed)

    def _int(self, name: str, size: int, signed: bool) -> ir.DIValue:
        key = (name, size, signed)
        if key not in self._basic:
            self._basic[key] = self.lw.module.add_debug_info("DIBasicType", {
                "name": name, "size": size * 8,
                "encoding": ir.DIToken("DW_ATE_signed" if signed else "DW_ATE_unsigned")})
        return self._basic[key]


def _llvm_type(member: KernelMember) -> ir.Type:
    if member.kind == POINTER:
        return PTR
    if member.kind in (BYTES, EMBEDDED):
        return ir.ArrayType(I8, member.size)
    return ir.IntType(member.size * 8)


def kernel_types(lw: Lowering) -> KernelTypes:
    if lw.kernel_types is None:
        lw.kernel_types = KernelTypes(lw)
    found: KernelTypes = lw.kernel_types
    return found


def member_address(lw: Lowering, base: ir.Value, struct: str, member: str) -> ir.Value:
    """The address of ``member`` of the struct at ``base``, relocated."""
    ty, di, indexes = kernel_types(lw).struct(struct)
    gep_index, di_index = indexes[member]
    fn = lw.module.globals.get(_ACCESS_INDEX)
    if fn is None:
        fn = ir.Function(lw.module, ir.FunctionType(PTR, [PTR, ir.IntType(32), ir.IntType(32)]),
                         _ACCESS_INDEX)
    args = [base, ir.Constant(ir.IntType(32), gep_index), ir.Constant(ir.IntType(32), di_index)]
    call = _AccessIndex(lw.builder.block, fn, args, ty)
    lw.builder._insert(call)
    call.set_metadata("llvm.preserve.access.index", di)
    return call


def probe_read(lw: Lowering, dst: ir.Value, size: int, src: ir.Value) -> None:
    call_helper(lw, abi.HELPERS["probe_read_kernel"], [dst, ir.Constant(I64, size), src])


@expression(KernelField)
def lower_kernel_field(lw: Lowering, e: A.Attribute) -> ir.Value:
    r = e.resolved
    addr = member_address(lw, lw.expr(e.value), r.struct, r.member.name)
    if r.member.kind == EMBEDDED:
        return addr
    ty = _llvm_type(r.member)
    if r.trusted:
        # A load through a BTF pointer must stay one of its own: merged
        # with a load of other memory on another branch, the verifier
        # refuses it.
        return context.kept_apart(lw, lw.builder.load(addr, typ=ty))
    slot = lw.stack_slot(e, "kernel_read")
    probe_read(lw, slot, r.member.size, addr)
    value = lw.builder.load(slot, typ=ir.IntType(r.member.size * 8))
    return lw.builder.inttoptr(value, PTR) if r.member.kind == POINTER else value


def lower_bytes_copy(lw: Lowering, s: A.Assign) -> None:
    """``ev.comm = task.comm``."""
    r = s.resolved
    assert isinstance(r, KernelBytesCopy) and isinstance(s.value, A.Attribute)
    field = s.value.resolved
    assert isinstance(field, KernelField)
    src = member_address(lw, lw.expr(s.value.value), field.struct, field.member.name)
    probe_read(lw, memory.address_of(lw, s.target), r.length, src)


@expression(KernelArgument)
def lower_kernel_argument(lw: Lowering, e: A.Subscript) -> ir.Value:
    r = e.resolved
    return context.ctx_load_at(lw, lw.expr(r.base), r.offset, 8, PTR, stable=True)


@expression(KernelAddress)
def lower_kernel_address(lw: Lowering, e: A.Call) -> ir.Value:
    return lw.builder.ptrtoint(lw.expr(e.args[0]), I64)


@expression(KernelPointerCast)
def lower_pointer_cast(lw: Lowering, e: A.Call) -> ir.Value:
    value = lw.expr(e.args[0])
    return value if value.type.is_pointer else lw.builder.inttoptr(value, PTR)
