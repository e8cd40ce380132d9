"""Each function's stack frame, planned from the checked program.

Every stack slot lowering makes is planned here first: each parameter and
local variable, and the hidden slots lowering needs (an integer key, value
or record handed to the kernel by address, a ``for`` loop's counter,
``strtoul``'s result).  Lowering allocates exactly these.

The plan also says what the frame costs.  A slot whose address the kernel
is given (a struct, list or bytearray; a value passed by address) stays in
memory; the others hold a scalar LLVM keeps in registers.  Helper
functions are inlined into the hooks that call them, so a hook's frame
holds theirs too.  BPF gives a program 512 bytes of stack; a hook that
needs more is a located error here, for ``check`` and ``build`` alike.
(Values LLVM itself spills are not planned; codegen measures the frame it
emitted, see :func:`.codegen.stack_depths`.)
"""
from __future__ import annotations

from typing import Iterator, Optional

from .. import abi
from ..abi.helpers import FILLS_BUFFER
from ..records import field, fields, record
from . import ast as A
from .contract import (BytesInit, HelperCall, HistogramAdd, KernelField, MapMethodCall,
                       ParseNumber, RangeLoop)
from .errors import CompileError, InternalError
from .kernel_structs import BYTES, EMBEDDED
from .symbols import CheckedProgram, FuncSym, LocalVar
from .types import (I64, U8, U32, U64, ArrayType, ContextType, IntType, StructType, Type,
                    is_aggregate, stack_align, storage_align)

PHASE = "frame planning"

# Values a map method hands the kernel by address, by parameter name.
BY_ADDRESS = ("key", "value", "record")


@record(frozen=True)
class Slot:
    """One stack slot: ``ty`` is what it holds (for a buffer with tail room,
    the larger byte array), ``align`` None for the type's own alignment."""
    name: str
    ty: Type
    align: Optional[int]
    in_memory: bool       # the kernel is given its address: it takes stack
    zeroed: bool          # zeroed at the function's entry
    what: str             # what it is, for messages
    line: int

    @property
    def stack_bytes(self) -> int:
        """What it takes of the stack (slots are laid out 8 bytes apart)."""
        return (self.ty.size + 7) // 8 * 8 if self.in_memory else 0


@record(eq=False)
class Frame:
    function: FuncSym
    params: dict[int, Slot]                 # by id of the LocalVar; scalars only
    locals: dict[int, Slot]                 # by id of the LocalVar, in fn.locals order
    hidden: dict[tuple[int, str], Slot]     # by (id of the node, role)
    total: int = 0                          # stack bytes, called functions included
    # The ``bytearray(N)`` initialisers (by id of the call) whose zeros are
    # never read: a helper that writes the whole buffer runs first.
    filled_first: set[int] = field(default_factory=set)

    @property
    def own(self) -> int:
        return sum(s.stack_bytes for s in self.slots())

    def slots(self) -> Iterator[Slot]:
        yield from self.params.values()
        yield from self.locals.values()
        yield from self.hidden.values()

    def slot(self, node: A.Node, role: str) -> Slot:
        return self.hidden[(id(node), role)]


def plan_frames(program: CheckedProgram) -> dict[int, Frame]:
    """The frame of every function, by id of its FuncSym; raises a
    CompileError for a hook whose frame exceeds the BPF stack."""
    frames = {id(fn): _plan(fn) for fn in program.functions}
    for fn in _callees_first(program.functions):
        frame = frames[id(fn)]
        frame.total = frame.own + sum(frames[id(callee)].total for callee, _ in fn.calls)
    for fn in program.hooks:
        if frames[id(fn)].total > abi.STACK_SIZE:
            raise _too_big(fn, frames)
    return frames


def _plan(fn: FuncSym) -> Frame:
    frame = Frame(fn, {}, {}, {})
    node: A.Node = fn.node
    try:
        for p in fn.params:
            if not isinstance(p.ty, (ContextType, StructType)):
                frame.params[id(p)] = Slot(p.name, p.ty, None, False, False,
                                           f"parameter '{p.name}'", p.pos.line)
        tail_room = set()
        for node in fn.kernel_calls:
            r = node.resolved
            if isinstance(r, ParseNumber):
                buf = node.args[0]
                assert isinstance(buf, A.Name)     # the checker's rule for strtoul
                tail_room.add(id(buf.symbol))
                frame.hidden[(id(node), "parsed")] = Slot(
                    "parsed", I64, None, True, False, f"the value {r.helper.name}() parses",
                    node.pos.line)
            elif isinstance(r, KernelField) and not r.trusted \
                    and r.member.kind not in (BYTES, EMBEDDED):
                frame.hidden[(id(node), "kernel_read")] = Slot(
                    "kernel_read", node.ty if isinstance(node.ty, IntType) else U64, None,
                    True, False, f"{r.struct}.{r.member.name} read from the kernel",
                    node.pos.line)
            elif isinstance(r, MapMethodCall):
                for role in BY_ADDRESS:
                    operand = r.args.get(role)
                    if operand is not None and not is_aggregate(operand.ty):
                        frame.hidden[(id(node), role)] = Slot(
                            role, operand.ty, None, True, False,
                            f"the {role} of {r.map.name}.{r.method}()", node.pos.line)
                if isinstance(r, HistogramAdd):
                    frame.hidden[(id(node), "key")] = Slot(
                        "key", U32, None, True, False,
                        f"the bucket of {r.map.name}.{r.method}()", node.pos.line)
        for node in _loops(fn.node.body):
            loop = node.iter.resolved
            assert isinstance(loop, RangeLoop)
            frame.hidden[(id(node), "range")] = Slot(
                "range", loop.ty, None, False, False, "a loop counter", node.pos.line)
        node = fn.node
        frame.filled_first = _filled_before_read(fn.node.body, tail_room)
        first_set = _set_before_use(fn.node.body)
        for var in fn.locals.values():
            if var.is_param:
                continue
            frame.locals[id(var)] = _local_slot(var, id(var) in tail_room,
                                                zeroed=id(var) not in first_set)
    except (CompileError, InternalError):
        raise
    except Exception as err:
        raise InternalError(PHASE, err, node.pos) from err
    return frame


def _local_slot(var: LocalVar, tail_room: bool, zeroed: bool) -> Slot:
    """A local's slot.  A bytearray a helper reads from a variable offset
    (strtoul) is followed by as many zero bytes, so that the verifier,
    which pairs the largest offset with the largest length, sees the read
    fit."""
    ty = ArrayType(U8, var.ty.size * 2) if tail_room else var.ty
    in_memory = is_aggregate(var.ty)
    what = f"'{var.name}' ({var.ty})" + (", with as many bytes after it for strtoul()"
                                         if tail_room else "")
    return Slot(var.name, ty, stack_align(var.ty), in_memory, zeroed, what, var.pos.line)


def _loops(body: list[A.Stmt]) -> Iterator[A.For]:
    """The `for` loops of a function body, at any depth (without
    recursion: nesting may be deep)."""
    pending = list(reversed(body))
    while pending:
        s = pending.pop()
        if isinstance(s, A.For):
            yield s
        for inner in (getattr(s, "orelse", None), getattr(s, "body", None)):
            if inner:
                pending.extend(reversed(inner))


def _set_before_use(body: list[A.Stmt]) -> set[int]:
    """The struct and array locals whose first assignment is a statement of
    the function's own body (not nested in a branch or loop): every path
    runs it before any use, and it zeroes the variable itself, so the
    entry block need not."""
    found = set()
    for s in body:
        if isinstance(s, (A.Assign, A.AnnAssign)) and isinstance(s.target, A.Name) \
                and s.value is not None:
            var = s.target.symbol
            if isinstance(var, LocalVar) and var.pos == s.target.pos and is_aggregate(var.ty):
                found.add(id(var))
    return found


def _filled_before_read(body: list[A.Stmt], tail_room: set[int]) -> set[int]:
    """The zero-filled ``x = bytearray(N)`` initialisers whose very next
    statement first of all calls a helper that writes all of ``x`` on every
    path (``FILLS_BUFFER``), so no one can read the zeros.  Not for a
    buffer with tail room, whose extra zeros a helper reads."""
    found: set[int] = set()
    for stmts in A.statement_lists(body):
        for s, after in zip(stmts, stmts[1:]):
            if not (isinstance(s, (A.Assign, A.AnnAssign)) and isinstance(s.target, A.Name)
                    and s.value is not None and isinstance(s.value.resolved, BytesInit)
                    and s.value.resolved.data is None):
                continue
            var = s.target.symbol
            call = _first_call(after)
            if not isinstance(var, LocalVar) or id(var) in tail_room or call is None:
                continue
            r = call.resolved
            if not isinstance(r, HelperCall) or r.helper.name not in FILLS_BUFFER \
                    or call.keywords or len(call.args) != len(r.helper.signature):
                continue
            buffers = [a for a, p in zip(call.args, r.helper.signature)
                       if p.kind == "buffer" and isinstance(a, A.Name) and a.symbol is var]
            others = [a for a, p in zip(call.args, r.helper.signature)
                      if not (p.kind == "buffer" and isinstance(a, A.Name) and a.symbol is var)]
            if buffers and not any(_mentions(a, var) for a in others):
                found.add(id(s.value))
    return found


def _first_call(s: A.Stmt) -> Optional[A.Call]:
    """The call a statement makes before it evaluates anything else, if
    any: down the first operand of plain operators (a comparison the
    checker gave a meaning of its own may evaluate in another order)."""
    if isinstance(s, (A.ExprStmt, A.Return)):
        e = s.value
    elif isinstance(s, (A.Assign, A.AnnAssign)) and isinstance(s.target, A.Name):
        e = s.value
    elif isinstance(s, (A.If, A.While)):
        e = s.test
    else:
        return None
    while e is not None:
        if isinstance(e, A.Call):
            return e
        if e.resolved is not None:
            return None
        if isinstance(e, A.Compare):
            e = e.operands[0]
        elif isinstance(e, A.BoolOp):
            e = e.values[0]
        elif isinstance(e, A.UnaryOp):
            e = e.operand
        elif isinstance(e, A.BinOp):
            e = e.left
        else:
            return None
    return None


def _mentions(node: object, var: LocalVar) -> bool:
    """Whether ``var`` is named anywhere in the expression ``node``."""
    if isinstance(node, A.Name):
        return node.symbol is var
    if isinstance(node, list):
        return any(_mentions(n, var) for n in node)
    if isinstance(node, A.Node):
        return any(_mentions(getattr(node, f.name), var) for f in fields(node)
                   if f.name != "pos")
    return False


def _callees_first(functions: list[FuncSym]) -> list[FuncSym]:
    """The functions, each after every function it calls (the call graph
    has no cycles; the walk does not recurse)."""
    order: list[FuncSym] = []
    done: set[int] = set()
    for root in functions:
        if id(root) in done:
            continue
        done.add(id(root))
        pending = [(root, iter(root.calls))]
        while pending:
            fn, calls = pending[-1]
            step = next(calls, None)
            if step is None:
                pending.pop()
                order.append(fn)
            elif id(step[0]) not in done:
                done.add(id(step[0]))
                pending.append((step[0], iter(step[0].calls)))
    return order


def _too_big(hook: FuncSym, frames: dict[int, Frame]) -> CompileError:
    total = frames[id(hook)].total
    parts = [(s.stack_bytes, f"{s.what}, line {s.line}") for s in frames[id(hook)].slots()
             if s.stack_bytes]
    for callee, call in hook.calls:
        if frames[id(callee)].total:
            parts.append((frames[id(callee)].total,
                          f"{callee.name}() called at line {call.pos.line}"))
    parts.sort(key=lambda p: -p[0])    # the largest first; equal ones in plan order
    shown = "; ".join(f"{size} bytes: {what}" for size, what in parts[:4])
    more = f"; and {len(parts) - 4} more" if len(parts) > 4 else ""
    return CompileError(
        f"hook '{hook.name}' needs {total} bytes of stack (helper functions included); "
        f"BPF allows {abi.STACK_SIZE}", hook.node.name_pos,
        note=f"{shown}{more}. A large buffer can live in a map instead, e.g. a "
             "PerCpuArrayMap with one entry")
