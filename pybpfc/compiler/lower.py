"""Lowering: the checked program to LLVM IR for the BPF target.

One visitor walks the typed tree.  Before it lowers a node it makes that
node's position the builder's debug location, so every instruction carries
the Python line it came from (and BTF line info points at the ``.py``).
Types come from the checker; nothing here infers one.

Memory model: every local lives in a stack slot (LLVM promotes them to
registers), zeroed at function entry because the verifier refuses reads of
uninitialised stack.  Structs and arrays are byte blocks addressed by offset.

Context access: the verifier allows context and socket fields only at
constant offsets and often only at their exact width.  The context and
socket pointers are marked for LLVM's BPF backend as accessed at static
offsets only, so no optimisation merges two field loads into one from a
computed address.  Stores, and loads of fields the hook may write or whose
narrow reads the verifier refuses, are volatile accesses of exactly the
field's width; reads that cannot change are plain loads, reused where an
earlier one dominates.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional, Union

import llvmlite.ir as ir

from .. import abi as hooks
from . import ast as A
from .checker import (BuiltinSym, CheckedProgram, ConstSym, FuncSym, GlobalVar, HelperSym,
                      LocalVar, MapCall, MapVar, memory_root)
from .debuginfo import DebugInfo
from .errors import CompileError
from .types import (BOOL, NONE, PARSED_TYPES, U8, U32, ArrayType, BytesLitType, ContextType,
                    CtxArrayType,
                    IntType, RefType, SockRefType, StructType, Type, WindowType, int_type,
                    map_key_type)

BPF_TRIPLE = "bpfel"
BPF_DATA_LAYOUT = "e-m:e-p:64:64-i64:64-i128:128-n32:64-S128"

I1, I8, I32, I64 = ir.IntType(1), ir.IntType(8), ir.IntType(32), ir.IntType(64)
PTR = ir.PointerType()


class _VolatileLoad(ir.LoadInstr):
    def descr(self, buf: list[str]) -> None:
        start = len(buf)
        super().descr(buf)
        buf[start] = buf[start].replace("load ", "load volatile ", 1)


class _VolatileStore(ir.StoreInstr):
    def descr(self, buf: list[str]) -> None:
        start = len(buf)
        super().descr(buf)
        buf[start] = buf[start].replace("store ", "store volatile ", 1)


EINVAL = 22


def reg_type(ty: Type) -> ir.Type:
    """How a scalar of type ``ty`` is held in a register."""
    if isinstance(ty, IntType):
        return ir.IntType(ty.bits)
    if ty is BOOL:
        return I1
    if isinstance(ty, RefType):
        return PTR
    raise TypeError(f"{ty} is not a scalar")


def mem_type(ty: Type) -> ir.Type:
    """How a value of type ``ty`` is laid out in memory."""
    if isinstance(ty, IntType):
        return ir.IntType(ty.bits)
    if ty is BOOL:
        return I8
    if isinstance(ty, RefType):
        return PTR
    return ir.ArrayType(I8, ty.size)


# Byte buffers are stored 8-aligned so that comparisons can read them a word
# at a time.
BUFFER_ALIGN = 8


def storage_align(ty: Type) -> int:
    """The alignment of a variable's own storage (a stack slot or a global)."""
    if isinstance(ty, ArrayType) and ty.is_bytes:
        return BUFFER_ALIGN
    return ty.align


def slot_type(var: LocalVar) -> Type:
    """A local's stack slot: its type, doubled for a buffer a helper reads
    from a variable offset (see LocalVar.tail_room)."""
    return ArrayType(U8, var.ty.size * 2) if var.tail_room else var.ty


def set_before_use(body: list[A.Stmt]) -> set[int]:
    """The struct and array locals whose first assignment is a statement of
    the function's own body (not nested in a branch or loop): every path
    runs it before any use, and it zeroes the variable itself, so the
    entry block need not."""
    found = set()
    for s in body:
        if isinstance(s, (A.Assign, A.AnnAssign)) and isinstance(s.target, A.Name) \
                and s.value is not None:
            var = s.target.symbol
            if isinstance(var, LocalVar) and var.pos == s.target.pos \
                    and isinstance(var.ty, (ArrayType, StructType)):
                found.add(id(var))
    return found


class Lowering:
    def __init__(self, program: CheckedProgram):
        self.program = program
        self.module = ir.Module(name=program.source.path)
        self.module.triple = BPF_TRIPLE
        self.module.data_layout = BPF_DATA_LAYOUT
        self.di = DebugInfo(self.module, program.source)
        self.globals: dict[int, ir.GlobalVariable] = {}
        self.maps: dict[int, ir.GlobalVariable] = {}
        self.print_formats: dict[bytes, ir.GlobalVariable] = {}
        self.functions: dict[int, ir.Function] = {}
        # Per-function state.
        self.fn: Optional[FuncSym] = None
        self.builder: ir.IRBuilder = ir.IRBuilder()
        self.scope: Optional[ir.DIValue] = None
        self.slots: dict[int, ir.Value] = {}
        self.ctx: Optional[ir.Value] = None
        self.loops: list[tuple[ir.Block, ir.Block]] = []   # (continue target, break target)
        self.entry_end: Optional[ir.Instruction] = None    # where stack slots are added
        # Context reads that cannot change, already made on every path to
        # where lowering is: one dict per enclosing conditional region.
        self.stable_reads: list[dict[tuple[int, int, int], ir.Value]] = [{}]

    # ------------------------------------------------------------ module

    def lower(self) -> ir.Module:
        self.emit_license()
        for gv in self.program.globals:
            self.emit_global(gv)
        for mv in self.program.maps:
            self.emit_map(mv)
        for fn in self.program.functions:
            self.declare(fn)
        for fn in self.program.functions:
            self.define(fn)
        self.di.finish()
        return self.module

    def emit_license(self) -> None:
        data = self.program.license.encode() + b"\0"
        ty = ir.ArrayType(I8, len(data))
        gv = ir.GlobalVariable(self.module, ty, "_license")
        gv.initializer = ir.Constant(ty, bytearray(data))
        gv.section = "license"
        gv.align = 1

    def emit_global(self, var: GlobalVar) -> None:
        ty = mem_type(var.ty)
        gv = ir.GlobalVariable(self.module, ty, var.name)
        gv.initializer = self.constant_memory(var.ty, var.init)
        gv.section = var.section
        gv.global_constant = var.readonly
        gv.align = storage_align(var.ty)
        self.di.global_variable(gv, var.name, var.ty, var.pos.line)
        self.globals[id(var)] = gv

    def emit_map(self, var: MapVar) -> None:
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
        gv = ir.GlobalVariable(self.module, struct, var.name)
        gv.initializer = ir.Constant(struct, None)
        gv.section = ".maps"
        gv.align = 8
        self.di.map_variable(gv, var.name, var.pos.line, members)
        self.maps[id(var)] = gv

    def constant_memory(self, ty: Type, init: object) -> ir.Constant:
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

    def declare(self, fn: FuncSym) -> None:
        params = [PTR if isinstance(p.ty, (ContextType, StructType)) else reg_type(p.ty)
                  for p in fn.params]
        if fn.hook is not None:
            ret: ir.Type = I32
        else:
            ret = ir.VoidType() if fn.ret is NONE else reg_type(fn.ret)
        func = ir.Function(self.module, ir.FunctionType(ret, params), fn.name)
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
        self.functions[id(fn)] = func

    # ---------------------------------------------------------- functions

    def define(self, fn: FuncSym) -> None:
        func = self.functions[id(fn)]
        node = fn.node
        self.fn = fn
        self.scope = self.di.subprogram(
            fn.name, node.pos.line,
            U32 if fn.hook else (None if fn.ret is NONE else fn.ret),
            [(p.name, p.ty, p.pos.line) for p in fn.params], local=fn.hook is None)
        func.set_metadata("dbg", self.scope)
        entry = func.append_basic_block("entry")
        self.builder = ir.IRBuilder(entry)
        self.builder.debug_metadata = self.di.location(node.pos.line, node.pos.col, self.scope)
        self.slots = {}
        self.ctx = None
        self.loops = []
        self.stable_reads = [{}]
        for p, arg in zip(fn.params, func.args):
            arg.name = p.name
            if isinstance(p.ty, ContextType):
                self.ctx = self.static_offsets(arg)
                self.slots[id(p)] = self.ctx
            elif isinstance(p.ty, StructType):
                self.slots[id(p)] = arg          # passed by reference, as in Python
            else:
                slot = self.builder.alloca(mem_type(p.ty), name=p.name)
                self.mem_store(self.to_memory(arg, p.ty), slot)
                self.slots[id(p)] = slot
        set_first = set_before_use(node.body)
        for var in fn.locals.values():
            if var.is_param:
                continue
            room = slot_type(var)
            slot = self.builder.alloca(mem_type(room), name=var.name)
            slot.align = storage_align(var.ty)
            if id(var) not in set_first:
                self.zero(slot, room)
            self.slots[id(var)] = slot
        body = func.append_basic_block("body")
        self.entry_end = self.builder.branch(body)
        self.builder.position_at_end(body)
        self.block(node.body)
        if not self.builder.block.is_terminated:
            if fn.hook is None and fn.ret is NONE:
                self.builder.ret_void()
            else:
                # The checker proved every path returns (e.g. `while True:` with a
                # return inside): the end cannot be reached.
                self.builder.unreachable()
        self.fn = None

    def zero(self, slot: ir.Value, ty: Type) -> None:
        if isinstance(ty, (IntType,)) or ty is BOOL:
            self.mem_store(ir.Constant(mem_type(ty), 0), slot)
        else:
            self.mem_store(ir.Constant(mem_type(ty), None), slot)

    def stack_slot(self, ty: ir.Type, name: str) -> ir.Value:
        """A stack slot for a value handed to the kernel by address,
        allocated once in the entry block."""
        assert self.entry_end is not None
        entry = ir.IRBuilder(self.entry_end.parent)
        entry.position_before(self.entry_end)
        entry.debug_metadata = self.builder.debug_metadata
        return entry.alloca(ty, name=name)

    @contextmanager
    def at(self, node: A.Node) -> Iterator[None]:
        """Attribute the instructions emitted inside to ``node``'s line."""
        saved = self.builder.debug_metadata
        self.builder.debug_metadata = self.di.location(node.pos.line, node.pos.col, self.scope)
        try:
            yield
        except CompileError:
            raise
        finally:
            self.builder.debug_metadata = saved

    @contextmanager
    def conditional(self) -> Iterator[None]:
        """Code that runs on some paths only: the context reads it makes
        cannot be reused after it."""
        self.stable_reads.append({})
        try:
            yield
        finally:
            self.stable_reads.pop()

    def new_block(self, name: str) -> ir.Block:
        return self.builder.append_basic_block(name)

    def ensure_open_block(self) -> None:
        """Code after a return or break is unreachable but still lowered."""
        if self.builder.block.is_terminated:
            self.builder.position_at_end(self.new_block("dead"))

    # -------------------------------------------------------- statements

    def block(self, stmts: list[A.Stmt]) -> None:
        for s in stmts:
            self.ensure_open_block()
            with self.at(s):
                self.stmt(s)

    def stmt(self, s: A.Stmt) -> None:
        method = getattr(self, "stmt_" + type(s).__name__, None)
        if method is None:
            raise CompileError(f"{type(s).__name__} statements are not supported", s.pos)
        method(s)

    def stmt_Pass(self, s: A.Pass) -> None:
        pass

    def stmt_Global(self, s: A.Global) -> None:
        pass

    def stmt_ExprStmt(self, s: A.ExprStmt) -> None:
        if isinstance(s.value, A.StrLit):
            return
        e = s.value
        if (isinstance(e, A.Call) and isinstance(e.func, A.Name)
                and isinstance(e.func.symbol, BuiltinSym) and e.func.symbol.name == "atomic_add"):
            with self.at(e):
                self.atomic_add(e, old_value_used=False)
            return
        self.expr(e)

    def stmt_Return(self, s: A.Return) -> None:
        fn = self.fn
        assert fn is not None
        if s.value is None or isinstance(s.value, A.NoneLit):
            self.builder.ret_void()
            return
        value = self.expr(s.value)
        if fn.hook is not None:
            if value.type != I32:
                value = self.builder.zext(value, I32)
            if fn.hook.returns.kind == "verdict" and not isinstance(value, ir.Constant):
                # A verdict is one of the table's values (0 or 1), which LLVM
                # may compute with wider arithmetic it knows stays in range
                # (`(v >> 15) & 1` became `v >> 15` for a v it knew was
                # 16-bit) where the verifier cannot follow; masked on a copy
                # LLVM cannot see through, the verifier finds it in range.
                top = max(v for _, v in fn.hook.returns.values)
                assert top & (top + 1) == 0, "verdicts 0 .. 2**n - 1 can be masked"
                value = self.builder.and_(self.opaque(value), ir.Constant(I32, top))
        self.builder.ret(value)

    def stmt_Assign(self, s: A.Assign) -> None:
        self.store(s.target, s.value)

    def stmt_AnnAssign(self, s: A.AnnAssign) -> None:
        if s.value is not None:
            self.store(s.target, s.value)

    def stmt_AugAssign(self, s: A.AugAssign) -> None:
        t = s.target
        ty = t.ty
        assert isinstance(ty, IntType)
        # Evaluate the target's address once, as Python does.
        if isinstance(t, A.Attribute) and isinstance(t.value.ty, ContextType):
            f = self.ctx_field_of(t)
            old = self.ctx_load(self.expr(t.value), f)
            new = self.arith(s.op, old, self.expr(s.value), ty, s.value.ty)
            self.ctx_store(self.expr(t.value), f, new)
            return
        if isinstance(t, A.Subscript) and isinstance(t.value.ty, (WindowType, CtxArrayType)):
            old = self.expr(t)
            new = self.arith(s.op, old, self.expr(s.value), ty, s.value.ty)
            self.store_value(t, new)
            return
        addr = self.address(t)
        if isinstance(addr, tuple):
            ptr, ok = addr
            self.guarded(ok, lambda: self.mem_store(
                self.arith(s.op, self.builder.load(ptr, typ=mem_type(ty)),
                           self.expr(s.value), ty, s.value.ty), ptr))
            return
        old = self.from_memory(self.builder.load(addr, typ=mem_type(ty)), ty)
        self.mem_store(self.to_memory(self.arith(s.op, old, self.expr(s.value), ty, s.value.ty), ty), addr)

    def stmt_If(self, s: A.If) -> None:
        if s.test.const is not None:
            # A constant condition: lower only the branch that can run.
            self.block(s.body if s.test.const else s.orelse)
            return
        then_bb, else_bb, end_bb = self.new_block("if.then"), self.new_block("if.else"), \
            self.new_block("if.end")
        self.builder.cbranch(self.expr(s.test), then_bb, else_bb)
        for bb, stmts in ((then_bb, s.body), (else_bb, s.orelse)):
            self.builder.position_at_end(bb)
            with self.conditional():
                self.block(stmts)
            if not self.builder.block.is_terminated:
                self.builder.branch(end_bb)
        self.builder.position_at_end(end_bb)

    def stmt_While(self, s: A.While) -> None:
        cond_bb, body_bb, end_bb = self.new_block("while.cond"), self.new_block("while.body"), \
            self.new_block("while.end")
        self.builder.branch(cond_bb)
        self.builder.position_at_end(cond_bb)
        with self.at(s.test):
            self.builder.cbranch(self.expr(s.test), body_bb, end_bb)
        self.builder.position_at_end(body_bb)
        self.loops.append((cond_bb, end_bb))
        with self.conditional():
            self.block(s.body)
        self.loops.pop()
        if not self.builder.block.is_terminated:
            self.builder.branch(cond_bb)
        self.builder.position_at_end(end_bb)

    def stmt_For(self, s: A.For) -> None:
        """``for i in range(start, stop, step)``.  A hidden counter drives
        the loop, so assigning ``i`` in the body does not change the
        iteration (as in Python), and the counter never wraps past ``stop``."""
        it = s.iter
        assert isinstance(it, A.Call) and isinstance(it.ty, IntType)
        ty = it.ty
        args = [self.expr(a) for a in it.args]
        if len(args) == 1:
            start, stop, step = ir.Constant(reg_type(ty), 0), args[0], 1
        else:
            start, stop = args[0], args[1]
            step = it.args[2].const if len(args) == 3 else 1
        counter = self.stack_slot(reg_type(ty), "range")
        self.mem_store(start, counter)
        target = self.address(s.target)
        assert not isinstance(target, tuple)
        cond_bb, body_bb, step_bb, end_bb = (self.new_block("for.cond"), self.new_block("for.body"),
                                             self.new_block("for.step"), self.new_block("for.end"))
        self.builder.branch(cond_bb)
        self.builder.position_at_end(cond_bb)
        cur = self.builder.load(counter)
        going = self.compare("<" if step > 0 else ">", cur, stop, ty)
        self.builder.cbranch(going, body_bb, end_bb)
        self.builder.position_at_end(body_bb)
        self.mem_store(self.to_memory(cur, ty), target)
        self.loops.append((step_bb, end_bb))
        with self.conditional():
            self.block(s.body)
        self.loops.pop()
        if not self.builder.block.is_terminated:
            self.builder.branch(step_bb)
        self.builder.position_at_end(step_bb)
        cur = self.builder.load(counter)
        magnitude = ir.Constant(reg_type(ty), abs(step))
        if abs(step) == 1:
            nxt = (self.builder.add if step > 0 else self.builder.sub)(cur, magnitude)
            self.mem_store(nxt, counter)
            self.builder.branch(cond_bb)
        else:
            # Stop when fewer than |step| values remain, before the add can wrap.
            remaining = self.builder.sub(stop, cur) if step > 0 else self.builder.sub(cur, stop)
            more = self.builder.icmp_unsigned(">", remaining, magnitude)
            nxt = (self.builder.add if step > 0 else self.builder.sub)(cur, magnitude)
            self.mem_store(nxt, counter)
            self.builder.cbranch(more, cond_bb, end_bb)
        self.builder.position_at_end(end_bb)

    def stmt_Break(self, s: A.Break) -> None:
        self.builder.branch(self.loops[-1][1])

    def stmt_Continue(self, s: A.Continue) -> None:
        self.builder.branch(self.loops[-1][0])

    # -------------------------------------------------------- assignment

    def store(self, target: A.Expr, value: A.Expr) -> None:
        ty = target.ty
        if isinstance(ty, (ArrayType, StructType)):
            self.initialise(target, value)
            return
        self.store_value(target, self.expr(value))

    def store_value(self, target: A.Expr, value: ir.Value) -> None:
        ty = target.ty
        if isinstance(target, A.Attribute) and isinstance(target.value.ty, ContextType):
            self.ctx_store(self.expr(target.value), self.ctx_field_of(target), value)
            return
        if isinstance(target, A.Subscript) and isinstance(target.value.ty, WindowType):
            self.window_store(target.value.ty, target.index, value, U8)
            return
        if isinstance(target, A.Subscript) and isinstance(target.value.ty, CtxArrayType):
            f = target.value.ty.field
            offset = f.offset + target.index.const * f.size
            self.ctx_store_at(self.ctx_base(target.value), offset, f.size, value)
            return
        addr = self.address(target)
        if isinstance(addr, tuple):
            ptr, ok = addr
            self.guarded(ok, lambda: self.mem_store(self.to_memory(value, ty), ptr))
            return
        self.mem_store(self.to_memory(value, ty), addr)

    def initialise(self, target: A.Expr, value: A.Expr) -> None:
        """Give a struct or array variable its initial value."""
        addr = self.address(target)
        assert not isinstance(addr, tuple)
        ty = target.ty
        sym = getattr(target, "symbol", None)
        self.zero(addr, slot_type(sym) if isinstance(sym, LocalVar) else ty)
        if isinstance(value, A.Call) and isinstance(getattr(value.func, "symbol", None), HelperSym):
            self.parse_number(value.func.symbol.helper, value.args, addr)  # type: ignore[attr-defined]
            return
        if isinstance(ty, ArrayType):
            if ty.is_bytes:
                arg = value.args[0]  # type: ignore[attr-defined]
                if isinstance(arg.const, bytes):
                    for i, b in enumerate(arg.const):
                        if b:
                            self.mem_store(ir.Constant(I8, b), self.offset(addr, i))
                return
            elts = value.left.elts if isinstance(value, A.BinOp) else value.elts  # type: ignore[attr-defined]
            repeat = value.right.const if isinstance(value, A.BinOp) else 1  # type: ignore[attr-defined]
            for r in range(repeat):
                for i, e in enumerate(elts):
                    if e.const is not None and not e.const:
                        continue
                    slot = self.offset(addr, (r * len(elts) + i) * ty.elem.size)
                    self.mem_store(self.to_memory(self.expr(e), ty.elem), slot)

    def address(self, e: A.Expr) -> Union[ir.Value, tuple[ir.Value, ir.Value]]:
        """The memory address of an lvalue; for a variable index, the
        address and the in-bounds condition."""
        if isinstance(e, A.Name):
            sym = e.symbol
            if isinstance(sym, GlobalVar):
                return self.globals[id(sym)]
            assert isinstance(sym, LocalVar), sym
            return self.slots[id(sym)]
        if isinstance(e, A.Attribute) and isinstance(e.value.ty, RefType):
            return self.expr(e.value)            # the reference is the address
        if isinstance(e, A.Attribute):
            st = e.value.ty
            assert isinstance(st, StructType)
            base = self.address(e.value)
            assert not isinstance(base, tuple)
            f = st.field(e.attr)
            assert f is not None
            return self.offset(base, f[2])
        if isinstance(e, A.Subscript):
            arr = e.value.ty
            assert isinstance(arr, ArrayType)
            base = self.address(e.value)
            assert not isinstance(base, tuple)
            if e.index.const is not None:
                return self.offset(base, e.index.const * arr.elem.size)
            index = self.expr(e.index)
            index_ty = e.index.ty
            assert isinstance(index_ty, IntType)
            wide = self.extend(index, index_ty, 64)
            length = ir.Constant(I64, arr.length)
            ok = self.builder.icmp_unsigned("<", wide, length)
            if e.in_range:
                # The checker proved the index in range (a loop variable over a
                # constant range): a plain address LLVM can fold once unrolled.
                scaled = self.builder.mul(wide, ir.Constant(I64, arr.elem.size))
                return self.builder.gep(base, [scaled], source_etype=I8)
            # The access happens only when ``ok``.  The verifier checks the
            # address itself, and LLVM rewrites index arithmetic in ways its
            # range tracking cannot follow (moving the scaling above a clamp,
            # turning ~x < n into x >= m), so the byte offset is clamped once
            # more on a copy LLVM cannot see through: that compare and the
            # addition are then on one register.
            # (The last element's offset is the bound: the verifier does not
            # round a bound down to the element size.)
            clamped = self.builder.select(ok, wide, ir.Constant(I64, 0))
            last = ir.Constant(I64, arr.size - arr.elem.size)
            offset = self.opaque(self.builder.mul(clamped, ir.Constant(I64, arr.elem.size)))
            offset = self.builder.select(self.builder.icmp_unsigned("<=", offset, last), offset,
                                         ir.Constant(I64, 0))
            return self.builder.gep(base, [offset], source_etype=I8), ok
        raise CompileError("cannot take the address of this expression", e.pos)

    def offset(self, base: ir.Value, offset: int) -> ir.Value:
        if offset == 0:
            return base
        return self.builder.gep(base, [ir.Constant(I64, offset)], source_etype=I8)

    def mem_store(self, value: ir.Value, ptr: ir.Value) -> ir.StoreInstr:
        """A store through any pointer: memory here is bytes addressed by
        offset, so the pointer's element type says nothing (llvmlite's
        typed-pointer check would refuse it)."""
        instr = ir.StoreInstr(self.builder.block, value, ptr)
        instr.align = None
        self.builder._insert(instr)
        return instr

    def guarded(self, ok: ir.Value, emit) -> None:  # type: ignore[no-untyped-def]
        """Run ``emit`` only when ``ok``: an out-of-range write does nothing."""
        do_bb, end_bb = self.new_block("inbounds"), self.new_block("inbounds.end")
        self.builder.cbranch(ok, do_bb, end_bb)
        self.builder.position_at_end(do_bb)
        with self.conditional():
            emit()
        self.builder.branch(end_bb)
        self.builder.position_at_end(end_bb)

    def guarded_load(self, ok: ir.Value, load) -> ir.Value:  # type: ignore[no-untyped-def]
        """``load()`` when ``ok``, else zero: an out-of-range read gives 0."""
        before = self.builder.block
        do_bb, end_bb = self.new_block("inbounds"), self.new_block("inbounds.end")
        self.builder.cbranch(ok, do_bb, end_bb)
        self.builder.position_at_end(do_bb)
        with self.conditional():
            value = load()
        loaded_in = self.builder.block
        self.builder.branch(end_bb)
        self.builder.position_at_end(end_bb)
        phi = self.builder.phi(value.type)
        phi.add_incoming(ir.Constant(value.type, 0), before)
        phi.add_incoming(value, loaded_in)
        return phi

    def to_memory(self, value: ir.Value, ty: Type) -> ir.Value:
        return self.builder.zext(value, I8) if ty is BOOL else value

    def from_memory(self, value: ir.Value, ty: Type) -> ir.Value:
        return self.builder.icmp_unsigned("!=", value, ir.Constant(I8, 0)) if ty is BOOL else value

    # ------------------------------------------------------- expressions

    def expr(self, e: A.Expr) -> ir.Value:
        with self.at(e):
            if e.const is not None and (isinstance(e.ty, IntType) or e.ty is BOOL):
                return ir.Constant(reg_type(e.ty), int(e.const) & ((1 << reg_type(e.ty).width) - 1))
            method = getattr(self, "expr_" + type(e).__name__, None)
            if method is None:
                raise CompileError(f"{type(e).__name__} expressions are not supported", e.pos)
            return method(e)

    def expr_Name(self, e: A.Name) -> ir.Value:
        sym = e.symbol
        if isinstance(sym, ConstSym):
            return ir.Constant(reg_type(e.ty), sym.value)
        if isinstance(e.ty, ContextType):
            assert self.ctx is not None
            return self.slots[id(sym)]
        if isinstance(e.ty, (StructType, ArrayType)):
            raise CompileError("a struct or list is not a value here", e.pos)
        addr = self.address(e)
        assert not isinstance(addr, tuple)
        return self.load_value(e, addr)

    def load_value(self, e: A.Expr, addr: ir.Value) -> ir.Value:
        """Read the lvalue ``e`` at ``addr``.  A ReadOnly global is read with
        a volatile load: its initialiser is only a default that user space
        may replace before loading, so LLVM must not fold it in."""
        root = memory_root(e)
        if isinstance(root, A.Name) and isinstance(root.symbol, GlobalVar) and root.symbol.readonly:
            load: ir.LoadInstr = _VolatileLoad(self.builder.block, addr, typ=mem_type(e.ty))
            self.builder._insert(load)
        else:
            load = self.builder.load(addr, typ=mem_type(e.ty))
        return self.from_memory(load, e.ty)

    def expr_Cast(self, e: A.Cast) -> ir.Value:
        inner = e.value
        value = self.expr(inner)
        src, dst = inner.ty, e.ty
        if dst is BOOL:
            if src is BOOL:
                return value
            if isinstance(src, RefType):
                return self.builder.icmp_unsigned("!=", value, ir.Constant(PTR, None))
            return self.builder.icmp_unsigned("!=", value, ir.Constant(value.type, 0))
        assert isinstance(dst, IntType)
        return self.convert(value, src, dst)

    def convert(self, value: ir.Value, src: Type, dst: IntType) -> ir.Value:
        if src is BOOL:
            return self.builder.zext(value, ir.IntType(dst.bits))
        assert isinstance(src, IntType)
        if dst.bits == src.bits:
            return value
        if dst.bits < src.bits:
            return self.builder.trunc(value, ir.IntType(dst.bits))
        return self.extend(value, src, dst.bits)

    def extend(self, value: ir.Value, src: IntType, bits: int) -> ir.Value:
        if src.bits == bits:
            return value
        target = ir.IntType(bits)
        return self.builder.sext(value, target) if src.signed else self.builder.zext(value, target)

    def expr_UnaryOp(self, e: A.UnaryOp) -> ir.Value:
        value = self.expr(e.operand)
        if e.op == "not":
            return self.builder.not_(value)
        if e.op == "-":
            return self.builder.neg(value)
        if e.op == "~":
            return self.builder.not_(value)
        return value

    def expr_BinOp(self, e: A.BinOp) -> ir.Value:
        assert isinstance(e.ty, IntType)
        return self.arith(e.op, self.expr(e.left), self.expr(e.right), e.ty,
                          right_ty=e.right.ty)

    def arith(self, op: str, a: ir.Value, b: ir.Value, ty: IntType,
              right_ty: Optional[Type] = None) -> ir.Value:
        """``a op b`` with the semantics of pybpfc.compiler.semantics."""
        bld = self.builder
        if op in ("<<", ">>"):
            count_ty = right_ty if isinstance(right_ty, IntType) else ty
            if b.type != a.type:
                b = bld.trunc(b, a.type) if count_ty.bits > ty.bits else bld.zext(b, a.type)
            b = bld.and_(b, ir.Constant(a.type, ty.bits - 1))
            if op == "<<":
                return bld.shl(a, b)
            return bld.ashr(a, b) if ty.signed else bld.lshr(a, b)
        simple = {"+": bld.add, "-": bld.sub, "*": bld.mul, "&": bld.and_, "|": bld.or_,
                  "^": bld.xor}
        if op in simple:
            return simple[op](a, b)
        if op == "//":
            return self.floordiv(a, b, ty)
        if op == "%":
            return bld.sub(a, bld.mul(self.floordiv(a, b, ty), b))
        raise CompileError(f"operator '{op}' is not supported", None)

    def floordiv(self, a: ir.Value, b: ir.Value, ty: IntType) -> ir.Value:
        """Python's floor division; 0 when dividing by zero.  Signed
        division is done on magnitudes with unsigned instructions, which
        every BPF CPU version has."""
        bld = self.builder
        zero = ir.Constant(a.type, 0)
        one = ir.Constant(a.type, 1)
        by_zero = bld.icmp_unsigned("==", b, zero)
        divisor = bld.select(by_zero, one, b)
        if not ty.signed:
            return bld.select(by_zero, zero, bld.udiv(a, divisor))
        a_neg = bld.icmp_signed("<", a, zero)
        b_neg = bld.icmp_signed("<", divisor, zero)
        ua = bld.select(a_neg, bld.neg(a), a)
        ub = bld.select(b_neg, bld.neg(divisor), divisor)
        uq = bld.udiv(ua, ub)
        ur = bld.sub(ua, bld.mul(uq, ub))
        # Opposite signs round toward minus infinity: -(uq + (remainder != 0)).
        opposite = bld.xor(a_neg, b_neg)
        rounded = bld.neg(bld.add(uq, bld.zext(bld.icmp_unsigned("!=", ur, zero), a.type)))
        q = bld.select(opposite, rounded, uq)
        return bld.select(by_zero, zero, q)

    def compare(self, op: str, a: ir.Value, b: ir.Value, ty: Type) -> ir.Value:
        if isinstance(ty, IntType) and ty.signed:
            return self.builder.icmp_signed(op, a, b)
        return self.builder.icmp_unsigned(op, a, b)

    def expr_Compare(self, e: A.Compare) -> ir.Value:
        """``a < b < c``: each operand evaluated once, short-circuiting."""
        if e.ops[0] in ("is", "is not"):
            ref = next(o for o in e.operands if not isinstance(o, A.NoneLit))
            op = "==" if e.ops[0] == "is" else "!="
            return self.builder.icmp_unsigned(op, self.expr(ref), ir.Constant(PTR, None))
        window_test = self.window_length_test(e)
        if window_test is not None:
            return window_test
        if isinstance(e.operands[1].ty, BytesLitType):
            same = self.startswith(e.operands[0], e.operands[1].const)
            return same if e.ops[0] == "==" else self.builder.not_(same)
        left = self.expr(e.operands[0])
        if len(e.ops) == 1:
            return self.compare(e.ops[0], left, self.expr(e.operands[1]), e.operands[0].ty)
        operands = iter(e.operands[1:])
        state = {"left": left}

        def step(i: int) -> ir.Value:
            right = self.expr(next(operands))
            result = self.compare(e.ops[i], state["left"], right, e.operands[i].ty)
            state["left"] = right
            return result
        return self.short_circuit(len(e.ops), step, stop_when=False)

    def window_length_test(self, e: A.Compare) -> Optional[ir.Value]:
        """``len(ctx.optval) >= N`` (or >, <, <=) as the pointer comparison
        ``start + N <= end``: the form the verifier tracks, and the same test
        an access of the window makes, so LLVM can share the two."""
        if len(e.ops) != 1 or e.ops[0] not in (">=", ">", "<", "<="):
            return None
        length, bound = e.operands
        while isinstance(length, A.Cast):
            length = length.value
        window = length.args[0].ty if isinstance(length, A.Call) and length.args else None
        n = bound.const
        if not (isinstance(window, WindowType) and isinstance(n, int)
                and 0 <= n <= hooks.PAGE_SIZE):
            return None
        start, end = self.window_bounds(self.ctx_base(length.args[0]), window)
        need = n if e.ops[0] in (">=", "<") else n + 1
        fits = self.builder.icmp_unsigned("<=", self.offset(start, need), end)
        return fits if e.ops[0] in (">=", ">") else self.builder.not_(fits)

    def expr_BoolOp(self, e: A.BoolOp) -> ir.Value:
        return self.short_circuit(len(e.values), lambda i: self.expr(e.values[i]),
                                  stop_when=e.op == "or")

    def short_circuit(self, count: int, step, stop_when: bool) -> ir.Value:  # type: ignore[no-untyped-def]
        """Evaluate ``step(0) ... step(count - 1)`` in order, stopping at the
        first bool equal to ``stop_when``; the result is the last evaluated."""
        end_bb = self.new_block("bool.end")
        incoming: list[tuple[ir.Value, ir.Block]] = []
        for i in range(count):
            if i == 0:
                value = step(i)
            else:
                with self.conditional():
                    value = step(i)
            if i == count - 1:
                incoming.append((value, self.builder.block))
                self.builder.branch(end_bb)
                break
            next_bb = self.new_block("bool.next")
            incoming.append((ir.Constant(I1, int(stop_when)), self.builder.block))
            if stop_when:
                self.builder.cbranch(value, end_bb, next_bb)
            else:
                self.builder.cbranch(value, next_bb, end_bb)
            self.builder.position_at_end(next_bb)
        self.builder.position_at_end(end_bb)
        phi = self.builder.phi(I1)
        for value, block in incoming:
            phi.add_incoming(value, block)
        return phi

    def expr_IfExp(self, e: A.IfExp) -> ir.Value:
        then_bb, else_bb, end_bb = self.new_block("ifexp.then"), self.new_block("ifexp.else"), \
            self.new_block("ifexp.end")
        self.builder.cbranch(self.expr(e.test), then_bb, else_bb)
        self.builder.position_at_end(then_bb)
        with self.conditional():
            a = self.expr(e.body)
        a_bb = self.builder.block
        self.builder.branch(end_bb)
        self.builder.position_at_end(else_bb)
        with self.conditional():
            b = self.expr(e.orelse)
        b_bb = self.builder.block
        self.builder.branch(end_bb)
        self.builder.position_at_end(end_bb)
        phi = self.builder.phi(a.type)
        phi.add_incoming(a, a_bb)
        phi.add_incoming(b, b_bb)
        return phi

    def expr_Attribute(self, e: A.Attribute) -> ir.Value:
        base = e.value.ty
        if isinstance(base, ContextType):
            f = self.ctx_field_of(e)
            if f.kind == "sock":
                return self.static_offsets(
                    self.ctx_load_at(self.expr(e.value), f.offset, 8, PTR, stable=True))
            return self.ctx_load(self.expr(e.value), f, stable=self.stable_field(f))
        if isinstance(base, SockRefType):
            f = hooks.BPF_SOCK.field(e.attr)
            assert f is not None
            return self.ctx_load(self.expr(e.value), f, stable=hooks.BPF_SOCK.narrow_reads)
        addr = self.address(e)
        assert not isinstance(addr, tuple)
        return self.load_value(e, addr)

    def expr_Subscript(self, e: A.Subscript) -> ir.Value:
        base = e.value.ty
        if isinstance(base, WindowType):
            return self.window_load(base, e.index, U8)
        if isinstance(base, CtxArrayType):
            f = base.field
            offset = f.offset + e.index.const * f.size
            stable = base.through_sock or self.stable_field(f)
            return self.ctx_load_at(self.ctx_base(e.value), offset, f.size,
                                    ir.IntType(f.size * 8), stable=stable)
        addr = self.address(e)
        if isinstance(addr, tuple):
            ptr, ok = addr
            return self.guarded_load(ok, lambda: self.load_value(e, ptr))
        return self.load_value(e, addr)

    def expr_Call(self, e: A.Call) -> ir.Value:
        f = e.func
        if isinstance(e.target, MapCall):
            return self.map_call(e.target)
        if isinstance(f, A.Attribute) and isinstance(f.value.ty, WindowType):
            return self.window_call(e, f)
        if isinstance(f, A.Attribute) and isinstance(f.value.ty, ArrayType):
            return self.startswith(f.value, e.args[0].const)
        if isinstance(f, A.Attribute) and isinstance(f.value.ty, ContextType):
            return self.packet_load(e, f)
        assert isinstance(f, A.Name)
        sym = f.symbol
        if isinstance(sym, HelperSym):
            return self.helper_call(sym.helper, e.args)
        if isinstance(sym, FuncSym):
            args = []
            for a, p in zip(e.args, sym.params):
                if isinstance(p.ty, StructType):
                    addr = self.address(a)
                    assert not isinstance(addr, tuple)
                    args.append(addr)
                else:
                    args.append(self.expr(a))
            return self.builder.call(self.functions[id(sym)], args)
        name = sym.name if isinstance(sym, BuiltinSym) else ""
        if name == "print":
            return self.print_call(e)
        if name == "atomic_add":
            return self.atomic_add(e)
        if name in ("min", "max"):
            a, b = (self.expr(x) for x in e.args)
            ty = e.ty
            assert isinstance(ty, IntType)
            less = self.compare("<", a, b, ty)
            return self.builder.select(less, a, b) if name == "min" else \
                self.builder.select(less, b, a)
        if name in ("htons", "ntohs", "htonl", "ntohl"):
            value = self.expr(e.args[0])
            bswap = self.module.declare_intrinsic("llvm.bswap", [value.type])
            return self.builder.call(bswap, [value])
        if name == "len":
            window = e.args[0].ty
            assert isinstance(window, WindowType)
            start, end = self.window_bounds(self.ctx_base(e.args[0]), window)
            diff = self.builder.sub(self.builder.ptrtoint(end, I64),
                                    self.builder.ptrtoint(start, I64))
            # Narrowed later, LLVM would subtract the pointers in 32 bits,
            # which the verifier refuses: the difference is taken whole first.
            return self.builder.trunc(self.opaque(diff), I32)
        # A conversion: u32(x), bool(x), int(x).
        arg = e.args[0]
        value = self.expr(arg)
        if e.ty is BOOL:
            return value
        assert isinstance(e.ty, IntType)
        return self.convert(value, arg.ty, e.ty)

    def helper_call(self, helper: hooks.Helper, args: list[A.Expr]) -> ir.Value:
        """A call of a kernel helper a program calls as a function."""
        values: list[ir.Value] = []
        # A variable length of 0 for a buffer: the kernel refuses an empty
        # buffer, so the call is skipped and gives -EINVAL.
        nonzero: Optional[ir.Value] = None
        for arg, kind in zip(args, helper.params):
            if kind in ("ctx", "sock"):
                values.append(self.expr(arg))
            elif kind in ("buffer", "buffer_start"):
                addr = self.address(arg)
                assert not isinstance(addr, tuple)
                values.append(addr)
                if kind == "buffer":
                    values.append(ir.Constant(I64, arg.ty.size))
            else:
                value = self.expr(arg)
                ty = arg.ty
                assert isinstance(ty, IntType)
                if values and helper.params[len(values) - 1] == "buffer_start":
                    # A length between 1 and what the buffer holds (the verifier
                    # checks both ends).
                    buf = args[helper.params.index("buffer_start")].ty
                    value = self.extend(value, ty, 64)
                    if arg.const is None:
                        nonzero = self.builder.icmp_unsigned("!=", value, ir.Constant(I64, 0))
                        value = self.length_from_one(value, buf.size)
                    else:
                        limit = ir.Constant(I64, buf.size)
                        value = self.builder.select(
                            self.builder.icmp_unsigned("<", value, limit), value, limit)
                else:
                    value = self.extend(value, ty, 64)
                values.append(value)
        if nonzero is not None:
            return self.helper_result(helper, self.call_if(
                nonzero, lambda: self.call_helper(helper, values), -EINVAL))
        return self.helper_result(helper, self.call_helper(helper, values))

    def length_from_one(self, length: ir.Value, size: int) -> ir.Value:
        """min(length, size) for a length of at least 1, computed as
        min(length - 1, size - 1) + 1 on a copy LLVM cannot see through, so
        that the verifier finds it between 1 and ``size`` on every path.
        Clamping the length itself from both sides lets the verifier combine
        what it knows of the length's bits (``x << 14`` has its low bits
        clear) with a range on a path it cannot rule out (``1 < x < size``):
        the two contradict, and the length it tracks there collapses to 0."""
        one = ir.Constant(I64, 1)
        less = self.opaque(self.builder.sub(length, one))
        last = ir.Constant(I64, size - 1)
        less = self.builder.select(self.builder.icmp_unsigned("<", less, last), less, last)
        return self.builder.add(less, one)

    def call_if(self, ok: ir.Value, call, otherwise: int) -> ir.Value:  # type: ignore[no-untyped-def]
        """``call()`` when ``ok``, else the constant ``otherwise``."""
        before = self.builder.block
        do_bb, end_bb = self.new_block("call"), self.new_block("call.end")
        self.builder.cbranch(ok, do_bb, end_bb)
        self.builder.position_at_end(do_bb)
        with self.conditional():
            result = call()
        called_in = self.builder.block
        self.builder.branch(end_bb)
        self.builder.position_at_end(end_bb)
        phi = self.builder.phi(result.type)
        phi.add_incoming(ir.Constant(result.type, otherwise), before)
        phi.add_incoming(result, called_in)
        return phi

    def helper_result(self, helper: hooks.Helper, result: ir.Value) -> ir.Value:
        if helper.returns == "None":
            return ir.Constant(I32, 0)
        bits = int_type(helper.returns).bits
        return result if bits == 64 else self.builder.trunc(result, ir.IntType(bits))

    def call_helper(self, helper: hooks.Helper, values: list[ir.Value]) -> ir.Value:
        """BPF calls helpers by number, which LLVM spells as a call through
        the number cast to a function pointer.  Integers travel as 64 bits;
        a helper that returns a reference returns a pointer."""
        params = [v.type if v.type.is_pointer else I64 for v in values]
        values = [v if v.type.is_pointer else self.extend_to64(v) for v in values]
        if helper.returns == "None":
            ret: ir.Type = ir.VoidType()
        else:
            ret = PTR if helper.returns == "ref" else I64
        fnty = ir.FunctionType(ret, params)
        callee = ir.Constant(I64, helper.func_id).inttoptr(fnty.as_pointer())
        callee.function_type = fnty     # what llvmlite's call() reads off a callee
        return self.builder.call(callee, values)

    def parse_number(self, helper: hooks.Helper, args: list[A.Expr], result: ir.Value) -> None:
        """``parsed = strtoul(buf, offset, base)``: the helper reads the
        buffer from the offset on and writes the value into ``parsed``.  An
        offset past the end gives length -EINVAL without a call."""
        buf, offset, base = args
        size = buf.ty.size
        start = self.address(buf)
        assert not isinstance(start, tuple)
        index_ty = offset.ty
        assert isinstance(index_ty, IntType)
        wide = self.extend(self.expr(offset), index_ty, 64)
        limit = ir.Constant(I64, size)
        inside = self.builder.icmp_unsigned("<", wide, limit)
        flags = self.extend_to64(self.expr(base))
        # The call happens only when ``inside``; the offset is also clamped
        # where it is used, so the verifier sees it bounded there.
        safe = self.builder.select(inside, wide, ir.Constant(I64, 0))
        parsed = PARSED_TYPES[helper.returns]
        value_field = parsed.field("value")
        assert value_field is not None

        def call() -> None:
            # The helper writes the value into a slot of its own, so the
            # variable itself never has its address taken and LLVM can keep
            # its fields in registers.
            parsed_value = self.stack_slot(I64, "parsed")
            self.mem_store(ir.Constant(I64, 0), parsed_value)
            length = self.call_helper(helper, [
                self.builder.gep(start, [safe], source_etype=I8),
                self.builder.sub(limit, safe), flags, parsed_value])
            self.mem_store(length, result)
            self.mem_store(self.builder.load(parsed_value, typ=I64),
                           self.offset(result, value_field[2]))

        self.mem_store(ir.Constant(I64, -EINVAL), result)
        self.guarded(inside, call)

    # ------------------------------------------------------------- maps

    def map_call(self, call: MapCall) -> ir.Value:
        """A map method: the kernel helper it stands for, with the map, keys
        and values passed by address."""
        mv, helper, args = call.map, call.helper, call.args
        values: list[ir.Value] = [self.maps[id(mv)]]
        if "sk" in args:
            values.append(self.expr(args["sk"]))  # type: ignore[arg-type]
        if helper.name == "sk_storage_get":
            create = args["create"]
            values.append(ir.Constant(PTR, None))       # no initial value: zeroes
            values.append(ir.Constant(I64, 1 if create is not None and create.const else 0))
        for name in ("key", "value", "record"):
            operand = args.get(name)
            if operand is not None:
                values.append(self.by_address(operand, name))
                if name == "record":
                    values.append(ir.Constant(I64, operand.ty.size))
        if "flags" in args:
            flags = args["flags"]
            values.append(self.extend_to64(self.expr(flags)) if flags is not None
                          else ir.Constant(I64, 0))
        if helper.name == "get_local_storage":
            values.append(ir.Constant(I64, 0))
        return self.call_helper(helper, values)

    def by_address(self, operand: A.Expr, role: str) -> ir.Value:
        """The address of a key, value or record: a variable's own memory,
        or a stack slot the integer is stored into."""
        if isinstance(operand.ty, (StructType, ArrayType)):
            addr = self.address(operand)
            assert not isinstance(addr, tuple)
            return addr
        ty = operand.ty
        slot = self.stack_slot(mem_type(ty), role)
        self.mem_store(self.to_memory(self.expr(operand), ty), slot)
        return slot

    # --------------------------------------------------- pybpfc builtins

    def print_call(self, e: A.Call) -> ir.Value:
        fmt = e.target + b"\0"
        gv = self.print_formats.get(fmt)
        if gv is None:
            ty = ir.ArrayType(I8, len(fmt))
            gv = ir.GlobalVariable(self.module, ty, f".print.{len(self.print_formats)}")
            gv.initializer = ir.Constant(ty, bytearray(fmt))
            gv.global_constant = True
            gv.linkage = "private"
            gv.section = ".rodata"
            gv.align = 1
            self.print_formats[fmt] = gv
        values: list[ir.Value] = [gv, ir.Constant(I64, len(fmt))]
        for a in e.args:
            value = self.expr(a)
            ty = a.ty
            values.append(self.builder.zext(value, I64) if ty is BOOL
                          else self.extend(value, ty, 64))  # type: ignore[arg-type]
        self.call_helper(hooks.HELPERS["trace_printk"], values)
        return ir.Constant(I32, 0)

    def atomic_add(self, e: A.Call, old_value_used: bool = True) -> ir.Value:
        target, amount = e.args
        addr = self.address(target)
        assert not isinstance(addr, tuple)
        # An add whose old value is not used is monotonic: indivisible and no
        # more, which LLVM emits as BPF's plain atomic add (`lock +=`).  The
        # BPF backend emits that for every monotonic add, even one whose old
        # value is used (it then reads a register the add never set), so an
        # add whose value is used is seq_cst: the fetching atomic add.
        ordering = "seq_cst" if old_value_used else "monotonic"
        rmw = ir.instructions.AtomicRMW(self.builder.block, "add", addr, self.expr(amount),
                                        ordering, "")
        self.builder._insert(rmw)
        return rmw

    def packet_load(self, e: A.Call, f: A.Attribute) -> ir.Value:
        """``ctx.load_u16(offset)``: the classic packet load (LD_ABS/LD_IND),
        which reads network byte order and gives the value in host order."""
        intrinsic = {"load_u8": "llvm.bpf.load.byte", "load_u16": "llvm.bpf.load.half",
                     "load_u32": "llvm.bpf.load.word"}[f.attr]
        fn = self.module.globals.get(intrinsic)
        if fn is None:
            fn = ir.Function(self.module, ir.FunctionType(I64, [PTR, I64]), intrinsic)
        offset = self.extend_to64(self.expr(e.args[0]))
        loaded = self.builder.call(fn, [self.expr(f.value), offset])
        ty = e.ty
        assert isinstance(ty, IntType)
        return self.builder.trunc(loaded, ir.IntType(ty.bits))

    def extend_to64(self, value: ir.Value) -> ir.Value:
        return value if value.type.width == 64 else self.builder.zext(value, I64)

    def startswith(self, buf: A.Expr, prefix: bytes) -> ir.Value:
        """``buf.startswith(b"...")``: the prefix compared in the widest
        aligned pieces the buffer allows (a variable's own buffer is 8-aligned;
        a struct member may not be), all of them, with no early exit."""
        addr = self.address(buf)
        assert not isinstance(addr, tuple)
        whole = isinstance(buf, A.Name)
        result: ir.Value = ir.Constant(I1, 1)
        at = 0
        while at < len(prefix):
            width = next(w for w in (8, 4, 2, 1)
                         if (w == 1 or whole) and at % w == 0 and at + w <= len(prefix))
            piece = int.from_bytes(prefix[at:at + width], "little")
            loaded = self.builder.load(self.offset(addr, at), typ=ir.IntType(width * 8))
            loaded.align = width
            same = self.builder.icmp_unsigned("==", loaded, ir.Constant(ir.IntType(width * 8),
                                                                         piece))
            result = self.builder.and_(result, same)
            at += width
        return result

    # ----------------------------------------------------------- context

    def ctx_field_of(self, e: A.Attribute) -> hooks.Field:
        ctx_ty = e.value.ty
        assert isinstance(ctx_ty, ContextType)
        f = ctx_ty.context.field(e.attr)
        assert f is not None
        return f

    def ctx_base(self, e: A.Expr) -> ir.Value:
        """The pointer a context member is reached through: the context, or
        the socket for ``ctx.sk.<array>``."""
        if isinstance(e, A.Attribute):
            return self.expr(e.value)
        return self.expr(e)

    def static_offsets(self, pointer: ir.Value) -> ir.Value:
        """``pointer`` marked for LLVM's BPF backend as one that is only ever
        accessed at constant offsets (a context or a socket): until
        instruction selection its loads and stores are kept whole, so no
        optimisation turns two field loads into one load from a computed
        address, which the verifier refuses."""
        marker = self.module.globals.get("llvm.preserve.static.offset")
        if marker is None:
            marker = ir.Function(self.module, ir.FunctionType(PTR, [PTR]),
                                 "llvm.preserve.static.offset")
        return self.builder.call(marker, [pointer])

    def stable_field(self, f: hooks.Field) -> bool:
        """Whether the current hook's reads of ``f`` may be plain loads:
        the hook cannot write it, and the verifier accepts whatever width
        LLVM makes of the load."""
        hook = self.fn.hook if self.fn is not None else None
        return hook is not None and hook.context.narrow_reads and f.name not in hook.writable

    def ctx_load(self, base: ir.Value, f: hooks.Field, stable: bool = False) -> ir.Value:
        return self.ctx_load_at(base, f.offset, f.size, ir.IntType(f.size * 8), stable)

    def ctx_load_at(self, base: ir.Value, offset: int, size: int, ty: ir.Type,
                    stable: bool = False) -> ir.Value:
        """A context read.  Volatile by default, so LLVM keeps its exact
        width (the verifier refuses others); a ``stable`` read (a pointer, or
        a field no one writes while the hook runs that may be read narrower)
        is a plain load that LLVM may reuse."""
        key = (id(base), offset, size)
        if stable:
            for known in reversed(self.stable_reads):
                if key in known:
                    return known[key]
        ptr = self.offset(base, offset)
        if stable:
            instr: ir.LoadInstr = self.builder.load(ptr, typ=ty)
            self.stable_reads[-1][key] = instr
            # It cannot change while the hook runs, even across a helper call
            # or an atomic operation, which LLVM must otherwise assume do.
            instr.set_metadata("invariant.load", self.module.add_metadata([]))
        else:
            instr = _VolatileLoad(self.builder.block, ptr, typ=ty)
            self.builder._insert(instr)
        instr.align = size
        return instr

    def ctx_store(self, base: ir.Value, f: hooks.Field, value: ir.Value) -> None:
        self.ctx_store_at(base, f.offset, f.size, value)

    def ctx_store_at(self, base: ir.Value, offset: int, size: int, value: ir.Value) -> None:
        instr = _VolatileStore(self.builder.block, value, self.offset(base, offset))
        instr.align = size
        self.builder._insert(instr)

    # ------------------------------------------------------ optval window

    def window_bounds(self, ctx: ir.Value, w: WindowType) -> tuple[ir.Value, ir.Value]:
        start = self.ctx_load_at(ctx, w.start.offset, 8, PTR, stable=True)
        end = self.ctx_load_at(ctx, w.end.offset, 8, PTR, stable=True)
        return start, end

    def window_access(self, w: WindowType, index: A.Expr, size: int) -> tuple[ir.Value, ir.Value]:
        """The address of ``size`` bytes at ``index`` in the window, and
        whether they lie inside it.  The comparison is written the way the
        verifier tracks packet bounds: (start + offset + size) <= end."""
        assert self.ctx is not None
        start, end = self.window_bounds(self.ctx, w)
        if index.const is not None:
            ptr = self.offset(start, index.const)
            last = self.offset(start, index.const + size)
            return ptr, self.builder.icmp_unsigned("<=", last, end)
        index_ty = index.ty
        assert isinstance(index_ty, IntType)
        wide = self.extend(self.expr(index), index_ty, 64)
        # The verifier needs the variable offset bounded: the window is at most a
        # page, so mask to a page after an opaque copy (which LLVM cannot see through).
        small = self.builder.icmp_unsigned("<", wide, ir.Constant(I64, hooks.PAGE_SIZE))
        masked = self.builder.and_(self.opaque(wide), ir.Constant(I64, hooks.PAGE_SIZE - 1))
        ptr = self.builder.gep(start, [masked], source_etype=I8)
        last = self.offset(ptr, size)
        inside = self.builder.icmp_unsigned("<=", last, end)
        return ptr, self.builder.and_(small, inside)

    def opaque(self, value: ir.Value) -> ir.Value:
        asm = ir.InlineAsm(ir.FunctionType(value.type, [value.type]), "", "=r,0",
                           side_effect=True)
        return self.builder.call(asm, [value])

    @staticmethod
    def window_align(index: A.Expr, ty: IntType) -> int:
        """The kernel's option buffer starts aligned, so an access at a
        constant multiple of its width is aligned; anything else may not be
        (and LLVM then splits it into byte accesses)."""
        if index.const is not None and index.const % ty.size == 0:
            return ty.size
        return 1

    def window_load(self, w: WindowType, index: A.Expr, ty: IntType) -> ir.Value:
        ptr, ok = self.window_access(w, index, ty.size)

        def load() -> ir.Value:
            loaded = self.builder.load(ptr, typ=ir.IntType(ty.bits))
            loaded.align = self.window_align(index, ty)
            return loaded
        return self.guarded_load(ok, load)

    def window_store(self, w: WindowType, index: A.Expr, value: ir.Value, ty: IntType) -> None:
        ptr, ok = self.window_access(w, index, ty.size)

        def emit() -> None:
            store = self.mem_store(value, ptr)
            store.align = self.window_align(index, ty)
        self.guarded(ok, emit)

    def window_call(self, e: A.Call, f: A.Attribute) -> ir.Value:
        from .checker import WINDOW_METHODS
        ty, is_write = WINDOW_METHODS[f.attr]
        w = f.value.ty
        assert isinstance(w, WindowType)
        if is_write:
            self.window_store(w, e.args[0], self.expr(e.args[1]), ty)
            return ir.Constant(I32, 0)
        return self.window_load(w, e.args[0], ty)


def lower(program: CheckedProgram) -> ir.Module:
    return Lowering(program).lower()
