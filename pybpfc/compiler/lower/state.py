"""Lowering's state, its dispatch, and the small IR tools every topic uses.

:class:`Lowering` holds the module being built and, while a function is
lowered, its builder, stack slots and frame plan.  ``expr`` and ``stmt``
dispatch on what the checker recorded (an expression's ``resolved``
record, else its node type; a statement's node type) to the functions the
topic modules beside this one register.  Before a node is lowered its
position becomes the builder's debug location, so every instruction
carries the Python line it came from.  Any exception other than a
CompileError is a bug in pybpfc, raised as an InternalError at the node.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

import llvmlite.ir as ir

from .. import ast as A
from ..debuginfo import DebugInfo
from ..errors import CompileError, InternalError
from ..frame import Frame
from ..symbols import CheckedProgram, FuncSym
from ..types import BOOL, IntType, KernelPtrType, RefType, Type, is_aggregate, is_scalar
from .tails import tail_keys

PHASE = "lowering"

I1, I8, I32, I64 = ir.IntType(1), ir.IntType(8), ir.IntType(32), ir.IntType(64)
PTR = ir.PointerType()


class VolatileLoad(ir.LoadInstr):
    def descr(self, buf: list[str]) -> None:
        start = len(buf)
        super().descr(buf)
        buf[start] = buf[start].replace("load ", "load volatile ", 1)


class VolatileStore(ir.StoreInstr):
    def descr(self, buf: list[str]) -> None:
        start = len(buf)
        super().descr(buf)
        buf[start] = buf[start].replace("store ", "store volatile ", 1)


def reg_type(ty: Type) -> ir.Type:
    """How a scalar of type ``ty`` is held in a register."""
    if isinstance(ty, IntType):
        return ir.IntType(ty.bits)
    if ty is BOOL:
        return I1
    if isinstance(ty, (RefType, KernelPtrType)):
        return PTR
    raise TypeError(f"{ty} is not a scalar")


def mem_type(ty: Type) -> ir.Type:
    """How a value of type ``ty`` is laid out in memory: a bool is a byte,
    a struct or array its bytes, anything else as in a register."""
    if ty is BOOL:
        return I8
    if is_aggregate(ty):
        return ir.ArrayType(I8, ty.size)
    return reg_type(ty)


if TYPE_CHECKING:    # (typing's objects are not made at run time: imports stay quick)
    from typing import TypeVar
    Lower = Callable[["Lowering", A.Expr], ir.Value]
    LowerStmt = Callable[["Lowering", A.Stmt], None]
    _F = TypeVar("_F", bound=Callable[..., object])

EXPRESSIONS: dict[type, Lower] = {}
STATEMENTS: dict[type, LowerStmt] = {}


def expression(*kinds: type) -> Callable[[_F], _F]:
    """Register how to lower expressions of these record or node types."""
    def register(lower: _F) -> _F:
        for kind in kinds:
            EXPRESSIONS[kind] = lower  # type: ignore[assignment]
        return lower
    return register


def statement(*kinds: type) -> Callable[[_F], _F]:
    def register(lower: _F) -> _F:
        for kind in kinds:
            STATEMENTS[kind] = lower  # type: ignore[assignment]
        return lower
    return register


class Lowering:
    def __init__(self, program: CheckedProgram, frames: dict[int, Frame], module: ir.Module):
        self.program = program
        self.frames = frames
        self.module = module
        self.di = DebugInfo(module, program.source)
        self.globals: dict[int, ir.GlobalVariable] = {}
        self.maps: dict[int, ir.GlobalVariable] = {}
        self.lost_counters: dict[int, ir.GlobalVariable] = {}    # ring buffers' (module.py)
        self.record_types: dict[int, list[Any]] = {}     # ring buffer -> its record structs
        self.kept_globals: list[ir.GlobalVariable] = []    # hidden ones (module.py)
        self.print_formats: dict[bytes, ir.GlobalVariable] = {}
        self.functions: dict[int, ir.Function] = {}
        self.passthroughs = 0       # sequence numbers of context.kept_apart's copies
        self.kernel_types: Any = None     # kstructs.KernelTypes, made on first use
        # Per-function state.
        self.fn: Optional[FuncSym] = None
        self.frame: Optional[Frame] = None
        self.builder: ir.IRBuilder = ir.IRBuilder()
        self.scope: Optional[ir.DIValue] = None
        self.slots: dict[int, ir.Value] = {}
        self.ctx: Optional[ir.Value] = None
        self.loops: list[tuple[ir.Block, ir.Block]] = []   # (continue target, break target)
        # Each loop over the option buffer's address of its round's byte, by node.
        self.loop_cursors: dict[int, ir.Value] = {}
        self.entry_end: Optional[ir.Instruction] = None    # where stack slots are added
        # Context reads that cannot change, already made on every path to
        # where lowering is: one dict per enclosing conditional region.
        self.stable_reads: list[dict[tuple[int, int, int], ir.Value]] = [{}]
        # Statement sequences ending the function, lowered once (tails.py).
        self.tails: dict[tuple[object, ...], ir.Block] = {}
        self.repeated_tails: set[tuple[object, ...]] = set()

    # ---------------------------------------------------------- dispatch

    def expr(self, e: A.Expr) -> ir.Value:
        builder = self.builder
        saved = builder.debug_metadata
        builder.debug_metadata = self.di.location(e.pos.line, e.pos.col, self.scope)
        try:
            if e.const is not None and is_scalar(e.ty):
                ty = reg_type(e.ty)
                return ir.Constant(ty, int(e.const) & ((1 << ty.width) - 1))
            r = e.resolved
            return EXPRESSIONS[type(e) if r is None else type(r)](self, e)
        except (CompileError, InternalError):
            raise
        except Exception as err:
            raise InternalError(PHASE, err, e.pos) from err
        finally:
            builder.debug_metadata = saved

    def block(self, stmts: list[A.Stmt]) -> None:
        saved_reads = self.stable_reads
        try:
            for s, tail in zip(stmts, tail_keys(stmts)):
                self.ensure_open_block()
                if tail is not None and self.share_tail(tail):
                    return
                self.statement(s)
        finally:
            self.stable_reads = saved_reads

    def share_tail(self, key: tuple[object, ...]) -> bool:
        """Jump to the code of an equal sequence of statements ending the
        function, if one was lowered (True); else start this one in a
        block of its own that later equal ones jump to (False)."""
        if key not in self.repeated_tails:
            return False
        shared = self.tails.get(key)
        if shared is not None:
            self.builder.branch(shared)
            return True
        start = self.new_block("tail")
        self.builder.branch(start)
        self.builder.position_at_end(start)
        self.tails[key] = start
        # Other paths will jump here: no read made on this one is reusable.
        self.stable_reads = [{}]
        return False

    def statement(self, s: A.Stmt) -> None:
        builder = self.builder
        saved = builder.debug_metadata
        builder.debug_metadata = self.di.location(s.pos.line, s.pos.col, self.scope)
        try:
            STATEMENTS[type(s)](self, s)
        except (CompileError, InternalError):
            raise
        except Exception as err:
            raise InternalError(PHASE, err, s.pos) from err
        finally:
            builder.debug_metadata = saved

    @contextmanager
    def at(self, node: A.Node) -> Iterator[None]:
        """Attribute the instructions emitted inside to ``node``'s line."""
        saved = self.builder.debug_metadata
        self.builder.debug_metadata = self.di.location(node.pos.line, node.pos.col, self.scope)
        try:
            yield
        finally:
            self.builder.debug_metadata = saved

    # ------------------------------------------------------------ blocks

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

    def guarded(self, ok: ir.Value, emit: Callable[[], None]) -> None:
        """Run ``emit`` only when ``ok``: an out-of-range write does nothing."""
        do_bb, end_bb = self.new_block("inbounds"), self.new_block("inbounds.end")
        self.builder.cbranch(ok, do_bb, end_bb)
        self.builder.position_at_end(do_bb)
        with self.conditional():
            emit()
        self.builder.branch(end_bb)
        self.builder.position_at_end(end_bb)

    def guarded_value(self, ok: ir.Value, make: Callable[[], ir.Value], otherwise: int,
                      name: str) -> ir.Value:
        """``make()`` when ``ok``, else the constant ``otherwise``; the
        blocks are named ``name`` and ``name.end``."""
        before = self.builder.block
        do_bb, end_bb = self.new_block(name), self.new_block(name + ".end")
        self.builder.cbranch(ok, do_bb, end_bb)
        self.builder.position_at_end(do_bb)
        with self.conditional():
            value = make()
        made_in = self.builder.block
        self.builder.branch(end_bb)
        self.builder.position_at_end(end_bb)
        phi = self.builder.phi(value.type)
        phi.add_incoming(ir.Constant(value.type, otherwise), before)
        phi.add_incoming(value, made_in)
        return phi

    # ------------------------------------------------------------ memory

    def stack_slot(self, node: A.Node, role: str) -> ir.Value:
        """The planned hidden slot of ``node`` (see :mod:`..frame`),
        allocated in the entry block."""
        assert self.frame is not None and self.entry_end is not None
        slot = self.frame.slot(node, role)
        entry = ir.IRBuilder(self.entry_end.parent)
        entry.position_before(self.entry_end)
        entry.debug_metadata = self.builder.debug_metadata
        return entry.alloca(mem_type(slot.ty), name=slot.name)

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

    # -------------------------------------------------- context memory

    def context_scope(self) -> ir.MDValue:
        """The alias scope of the context and of the socket behind it:
        kernel memory that no variable, global, map value or packet
        address of the program reaches."""
        domain = self.module.add_metadata(["pybpfc.memory"])
        scope = self.module.add_metadata(["pybpfc.context", domain])
        return self.module.add_metadata([scope])

    def in_context(self, access: ir.Instruction) -> None:
        access.set_metadata("alias.scope", self.context_scope())

    def apart_from_context(self, access: ir.Instruction) -> ir.Instruction:
        """``access`` marked as one that cannot touch context memory, so
        that LLVM keeps a value it read across a context access (volatile
        ones, which it must otherwise treat as writing anywhere)."""
        access.set_metadata("noalias", self.context_scope())
        return access

    def zero(self, slot: ir.Value, ty: Type) -> None:
        if is_scalar(ty):
            self.mem_store(ir.Constant(mem_type(ty), 0), slot)
        else:
            store = self.mem_store(ir.Constant(mem_type(ty), None), slot)
            # With the slot's alignment LLVM keeps its zeroing in whole
            # words when later stores overwrite the first bytes.
            store.align = getattr(slot, "align", None)

    def to_memory(self, value: ir.Value, ty: Type) -> ir.Value:
        return self.builder.zext(value, I8) if ty is BOOL else value

    def from_memory(self, value: ir.Value, ty: Type) -> ir.Value:
        return self.builder.icmp_unsigned("!=", value, ir.Constant(I8, 0)) if ty is BOOL else value

    # ----------------------------------------------------------- scalars

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

    def extend_to64(self, value: ir.Value) -> ir.Value:
        return value if value.type.width == 64 else self.builder.zext(value, I64)

    def compare(self, op: str, a: ir.Value, b: ir.Value, ty: Type) -> ir.Value:
        if isinstance(ty, IntType) and ty.signed:
            return self.builder.icmp_signed(op, a, b)
        return self.builder.icmp_unsigned(op, a, b)

    def opaque(self, value: ir.Value) -> ir.Value:
        """``value`` through an empty inline assembly: the same register,
        but LLVM cannot see through it to rewrite what follows."""
        asm = ir.InlineAsm(ir.FunctionType(value.type, [value.type]), "", "=r,0",
                           side_effect=True)
        return self.builder.call(asm, [value])
