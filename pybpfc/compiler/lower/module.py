"""Lowering the module: the license, globals and maps, and each function
with the stack slots its frame plan gives it."""
from __future__ import annotations

import llvmlite.ir as ir

from ...abi.maps import lost_records_global, record_type_global
from ..errors import CompileError, InternalError
from ..symbols import LICENSE_SECTION, LICENSE_SYMBOL, FuncSym, GlobalVar, MapVar
from ..types import (BOOL, NONE, U32, U64, ArrayType, ContextType, IntType, StructType, Type,
                     map_key_type, storage_align)
from . import context
from .state import I8, I32, PHASE, PTR, Lowering, mem_type, reg_type
from .tails import repeated_tails


def lower_module(lw: Lowering) -> ir.Module:
    program = lw.program
    emit_license(lw)
    for gv in program.globals:
        emit_global(lw, gv)
    for mv in program.maps:
        emit_map(lw, mv)
    for fn in program.functions:
        declare(lw, fn)
    for fn in program.functions:
        try:
            define(lw, fn)
        except (CompileError, InternalError):
            raise
        except Exception as err:
            raise InternalError(PHASE, err, fn.node.pos) from err
    emit_kept_globals(lw)
    lw.di.finish()
    return lw.module


def emit_license(lw: Lowering) -> None:
    data = lw.program.license.encode() + b"\0"
    ty = ir.ArrayType(I8, len(data))
    gv = ir.GlobalVariable(lw.module, ty, LICENSE_SYMBOL)
    gv.initializer = ir.Constant(ty, bytearray(data))
    gv.section = LICENSE_SECTION
    gv.align = 1


def emit_global(lw: Lowering, var: GlobalVar) -> None:
    ty = mem_type(var.ty)
    gv = ir.GlobalVariable(lw.module, ty, var.name)
    gv.initializer = constant_memory(var.ty, var.init)
    gv.section = var.section
    gv.global_constant = var.readonly
    gv.align = storage_align(var.ty)
    lw.di.global_variable(gv, var.name, var.ty, var.pos.line)
    lw.globals[id(var)] = gv


def emit_map(lw: Lowering, var: MapVar) -> None:
    """A map definition in ``.maps``, the way libbpf and the runtime read
    it: all its facts are in the BTF of the variable's type."""
    ty = var.ty
    members: list[tuple[str, object]] = [("type", ty.kind.map_type_id)]
    if ty.map_flags:
        members.append(("map_flags", ty.map_flags))
    if ty.max_entries:
        members.append(("max_entries", ty.max_entries))
    key = map_key_type(ty)
    if key is not None:
        members.append(("key", key))
    if ty.value is not None:
        members.append(("value", ty.value))
    struct = ir.LiteralStructType([PTR] * len(members))
    gv = ir.GlobalVariable(lw.module, struct, var.name)
    gv.initializer = ir.Constant(struct, None)
    gv.section = ".maps"
    gv.align = 8
    lw.di.map_variable(gv, var.name, var.pos.line, members)
    lw.maps[id(var)] = gv
    if ty.kind.map_type == "BPF_MAP_TYPE_RINGBUF":
        emit_lost_counter(lw, var)


def emit_lost_counter(lw: Lowering, var: MapVar) -> None:
    """The hidden .bss count of the ring buffer's records lost for room
    (pybpfc.abi.maps.lost_records_global), which output() increments."""
    name = lost_records_global(var.name)
    gv = ir.GlobalVariable(lw.module, ir.IntType(64), name)
    gv.initializer = ir.Constant(ir.IntType(64), 0)
    hide(lw, gv, 8)
    lw.di.global_variable(gv, name, U64, var.pos.line)
    lw.lost_counters[id(var)] = gv


def hide(lw: Lowering, gv: ir.GlobalVariable, align: int) -> None:
    """A compiler's global in .bss: a local symbol (the program's globals
    are the global ones), kept even when nothing uses it."""
    gv.section = ".bss"
    gv.align = align
    gv.linkage = "internal"
    lw.kept_globals.append(gv)


def emit_kept_globals(lw: Lowering) -> None:
    """``llvm.compiler.used``: the hidden globals survive optimization."""
    if not lw.kept_globals:
        return
    ty = ir.ArrayType(PTR, len(lw.kept_globals))
    used = ir.GlobalVariable(lw.module, ty, "llvm.compiler.used")
    used.linkage = "appending"
    used.section = "llvm.metadata"
    used.initializer = ir.Constant(ty, [g.bitcast(PTR) if g.type != PTR else g
                                        for g in lw.kept_globals])


def emit_record_type(lw: Lowering, var: MapVar, ty: StructType) -> None:
    """A hidden zeroed .bss global of a struct the program puts in ring
    buffer ``var``, once per struct: it puts the struct in BTF, where the
    runtime finds it to decode the records."""
    known = lw.record_types.setdefault(id(var), [])
    if any(seen is ty for seen in known):
        return
    name = record_type_global(var.name, len(known))
    gv = ir.GlobalVariable(lw.module, mem_type(ty), name)
    gv.initializer = ir.Constant(mem_type(ty), None)
    hide(lw, gv, storage_align(ty))
    lw.di.global_variable(gv, name, ty, var.pos.line)
    known.append(ty)


def constant_memory(ty: Type, init: object) -> ir.Constant:
    """The bytes of a global's initial value."""
    if isinstance(ty, IntType):
        return ir.Constant(ir.IntType(ty.bits), int(init or 0) & ((1 << ty.bits) - 1))
    if ty is BOOL:
        return ir.Constant(I8, 1 if init else 0)
    data = bytearray(ty.size)
    if isinstance(ty, ArrayType) and init is not None:
        if isinstance(init, bytes):
            data[:len(init)] = init
        else:
            size = ty.elem.size
            for i, v in enumerate(init):  # type: ignore[arg-type]
                bits = size * 8
                data[i * size:(i + 1) * size] = (int(v) & ((1 << bits) - 1)).to_bytes(
                    size, "little")
    return ir.Constant(ir.ArrayType(I8, ty.size), data)


def declare(lw: Lowering, fn: FuncSym) -> None:
    params = [PTR if isinstance(p.ty, (ContextType, StructType)) else reg_type(p.ty)
              for p in fn.params]
    if fn.hook is not None:
        ret: ir.Type = I32
    else:
        # A bool comes back as a byte, as it is kept in memory: returned as
        # an i1, LLVM replaces the inlined function's phi of true and false
        # with its condition computed again after the branches, where a
        # byte leaves a constant on each path.
        ret = ir.VoidType() if fn.ret is NONE else mem_type(fn.ret) if fn.ret is BOOL \
            else reg_type(fn.ret)
    func = ir.Function(lw.module, ir.FunctionType(ret, params), fn.name)
    func.attributes.add("nounwind")
    if fn.hook is not None:
        func.section = fn.hook.section
        # No global or stack object is the context: stores to them leave
        # the context's fields as they were.
        func.args[0].add_attribute("noalias")
    else:
        # Helpers are inlined into the hooks that call them.
        func.linkage = "internal"
        func.attributes.add("alwaysinline")
    lw.functions[id(fn)] = func


def define(lw: Lowering, fn: FuncSym) -> None:
    func = lw.functions[id(fn)]
    node = fn.node
    frame = lw.frames[id(fn)]
    lw.fn, lw.frame = fn, frame
    lw.scope = lw.di.subprogram(
        fn.name, node.pos.line,
        U32 if fn.hook else (None if fn.ret is NONE else fn.ret),
        [(p.name, p.ty, p.pos.line) for p in fn.params], local=fn.hook is None)
    func.set_metadata("dbg", lw.scope)
    entry = func.append_basic_block("entry")
    lw.builder = ir.IRBuilder(entry)
    lw.builder.debug_metadata = lw.di.location(node.pos.line, node.pos.col, lw.scope)
    lw.slots = {}
    lw.ctx = None
    lw.loops = []
    lw.stable_reads = [{}]
    lw.tails = {}
    lw.repeated_tails = repeated_tails(node.body)
    for p, arg in zip(fn.params, func.args):
        arg.name = p.name
        if isinstance(p.ty, ContextType):
            lw.ctx = context.static_offsets(lw, arg)
            lw.slots[id(p)] = lw.ctx
        elif isinstance(p.ty, StructType):
            lw.slots[id(p)] = arg          # passed by reference, as in Python
        else:
            planned = frame.params[id(p)]
            slot = lw.builder.alloca(mem_type(planned.ty), name=planned.name)
            lw.mem_store(lw.to_memory(arg, p.ty), slot)
            lw.slots[id(p)] = slot
    for key, planned in frame.locals.items():
        slot = lw.builder.alloca(mem_type(planned.ty), name=planned.name)
        slot.align = planned.align
        if planned.zeroed:
            lw.zero(slot, planned.ty)
        lw.slots[key] = slot
    body = func.append_basic_block("body")
    lw.entry_end = lw.builder.branch(body)
    lw.builder.position_at_end(body)
    lw.block(node.body)
    if not lw.builder.block.is_terminated:
        if fn.hook is None and fn.ret is NONE:
            lw.builder.ret_void()
        else:
            # The checker proved every path returns (e.g. `while True:` with a
            # return inside): the end cannot be reached.
            lw.builder.unreachable()
    lw.fn = lw.frame = None
