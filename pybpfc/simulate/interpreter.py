"""The interpreter: a checked program's hook run on an event.

It reads what the checker decided (``Expr.resolved``, a record of
``compiler.contract``, or the node type for an operator), as lowering
does, and gives each construct the meaning the language defines: integer
operations from ``compiler.semantics``, memory as bytes (``memory``), the
context's fields from the hook's table row, maps and helpers with the
kernel's semantics (``maps``, ``helpers``).  Nothing of the user's module
is imported or executed.
"""
from __future__ import annotations

from errno import EINVAL
from typing import Any, Callable, Optional

from .. import abi
from ..compiler import ast as A
from ..compiler import contract as C
from ..compiler import semantics
from ..compiler.dispatch import registrar
from ..compiler.errors import InternalError
from ..compiler.symbols import FuncSym
from ..compiler.types import (BOOL, ArrayType, IntType, RefType, StructType, Type, int_type,
                              is_aggregate, is_scalar)
from .context import Event, SimulationError
from .helpers import HELPERS, MASK64, PARSERS, Fakes
from .memory import Place, encode, load, store
from .trace import Trace

PHASE = "simulate"
# The most statements one run may execute: a program the verifier accepts
# ends well before, so more is a loop the kernel would refuse.
STEP_LIMIT = 1_000_000


class _Return(Exception):
    def __init__(self, value: Any):
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class PacketEnd(Exception):
    """A packet load outside the packet: the program ends, returning 0."""


EXPRESSIONS: dict[type, Callable[["Run", Any], Any]] = {}
STATEMENTS: dict[type, Callable[["Run", Any], None]] = {}


expression = registrar(EXPRESSIONS)
statement = registrar(STATEMENTS)


class Run:
    """One run of a hook: the program's state (globals, maps), the event,
    the fakes, and the frames of the functions being run."""

    def __init__(self, state: Any, event: Event, fakes: Fakes, trace: Optional[Trace]):
        self.state = state
        self.event = event
        self.fakes = fakes
        self.trace = trace
        self.frames: list[dict[int, Any]] = []
        self.printed: list[str] = []
        self.socket_options: dict[tuple[int, int, int], bytes] = state.socket_options
        self.new_value_set = False
        self.bound: Optional[bytes] = None     # the struct sockaddr bind() bound
        self.steps = 0

    # --------------------------------------------------------- running

    def hook(self, fn: FuncSym) -> int:
        assert fn.hook is not None
        try:
            value = self.call(fn, [Place(self.event.context.block)])
        except PacketEnd:
            if self.trace is not None:
                self.trace.note("a packet load outside the packet ends the program: 0")
            return 0
        value = int(value) & 0xFFFFFFFF
        if fn.hook.returns.kind == "verdict":
            # Lowering keeps a computed verdict to the table's values.
            value &= max(v for _, v in fn.hook.returns.values)
        return value

    def call(self, fn: FuncSym, args: list[Any]) -> Any:
        frame: dict[int, Any] = {}
        for p, a in zip(fn.params, args):
            frame[id(p)] = a
        self.frames.append(frame)
        if self.trace is not None:
            self.trace.enter(fn.name)
        try:
            self.block(fn.node.body)
        except _Return as r:
            return r.value
        finally:
            self.frames.pop()
            if self.trace is not None:
                self.trace.leave()
        return None

    def block(self, stmts: list[A.Stmt]) -> None:
        for s in stmts:
            self.steps += 1
            if self.steps > STEP_LIMIT:
                raise SimulationError(f"more than {STEP_LIMIT} statements in one run, at line "
                                      f"{s.pos.line}: the verifier refuses a loop this long")
            if self.trace is not None:
                self.trace.statement(s)
            try:
                STATEMENTS[type(s)](self, s)
            except (_Return, _Break, _Continue, PacketEnd, SimulationError, InternalError):
                raise
            except Exception as err:        # a bug in the simulation, not the program's
                raise InternalError(PHASE, err, s.pos) from err

    def expr(self, e: A.Expr) -> Any:
        if e.const is not None and is_scalar(e.ty):
            return bool(e.const) if e.ty is BOOL else semantics.wrap(int(e.const), e.ty)
        r = e.resolved
        return EXPRESSIONS[type(e) if r is None else type(r)](self, e)

    def produced(self, what: str, value: Any) -> None:
        if self.trace is not None:
            self.trace.value(what, value)

    # ----------------------------------------------------------- memory

    def local(self, var: Any) -> Any:
        frame = self.frames[-1]
        if id(var) not in frame:
            ty = var.ty
            frame[id(var)] = Place(bytearray(ty.size)) if is_aggregate(ty) else (
                False if ty is BOOL else None if isinstance(ty, RefType) else 0)
        return frame[id(var)]

    def address(self, e: A.Expr) -> Optional[Place]:
        """Where an lvalue is; None for an element past the end."""
        r = e.resolved
        if isinstance(r, C.GlobalVariable):
            return Place(self.state.globals.blocks[r.var.name])
        if isinstance(r, (C.LocalVariable, C.ContextArgument)):
            own = self.local(r.var)
            assert isinstance(own, Place)
            return own
        if isinstance(r, C.RefValue):
            assert isinstance(e, A.Attribute)
            ref: Optional[Place] = self.expr(e.value)
            return ref
        if isinstance(r, C.StructField):
            assert isinstance(e, A.Attribute)
            base = self.address(e.value)
            return None if base is None else base.at(r.offset)
        if isinstance(r, C.PacketField):
            # A header (proven not None) is a place in the packet.
            assert isinstance(e, A.Attribute)
            header: Place = self.expr(e.value)
            return header.at(r.offset)
        assert isinstance(r, C.ArrayElement) and isinstance(e, A.Subscript), r
        base = self.address(e.value)
        index = e.index.const if e.index.const is not None else self.expr(e.index)
        if base is None or not 0 <= index < r.length:
            return None
        return base.at(index * r.elem_size)

    def read(self, e: A.Expr) -> Any:
        """The value of an lvalue in memory (0 past the end)."""
        place = self.address(e)
        if is_aggregate(e.ty):
            return place
        if place is None:
            return False if e.ty is BOOL else 0
        return load(place, e.ty)

    def write_context(self, base: Place, offset: int, size: int, value: int) -> None:
        base.at(offset).write((value & ((1 << size * 8) - 1)).to_bytes(size, "little"))
        if base.block is self.event.context.block:
            self.event.wrote(base.offset + offset)


# ------------------------------------------------------------ statements

@statement(A.Pass, A.Global)
def run_nothing(run: Run, s: A.Stmt) -> None:
    pass


@statement(A.ExprStmt)
def run_expr_statement(run: Run, s: A.ExprStmt) -> None:
    if isinstance(s.value.resolved, C.Docstring):
        return
    value = run.expr(s.value)
    if value is not None and isinstance(s.value, A.Call) and not isinstance(
            s.value.resolved, C.Print):
        run.produced("", value)


@statement(A.Return)
def run_return(run: Run, s: A.Return) -> None:
    value = None if s.value is None else run.expr(s.value)
    if value is not None:
        run.produced("return", value)
    raise _Return(value)


@statement(A.Assign, A.AnnAssign)
def run_assign(run: Run, s: Any) -> None:
    if isinstance(getattr(s, "resolved", None), C.KernelBytesCopy):
        from .kernel_structs import bytes_copy
        bytes_copy(run, s)
        return
    if s.value is not None:
        assign(run, s.target, s.value)


@statement(A.AugAssign)
def run_augassign(run: Run, s: A.AugAssign) -> None:
    target, op, value = s.target, s.op, s.value
    ty = target.ty
    assert isinstance(ty, IntType)
    r = target.resolved
    if isinstance(r, (C.ContextField, C.OptvalByte, C.ContextArrayElement)):
        new = semantics.binary(op, run.expr(target), run.expr(value), ty)
        store_value(run, target, new)
        return
    if isinstance(r, C.LocalVariable) and not is_aggregate(ty):
        new = semantics.binary(op, run.local(r.var), run.expr(value), ty)
        run.frames[-1][id(r.var)] = new
        run.produced(_text(run, target), new)
        return
    place = run.address(target)
    if place is None:
        # An element past the end: the statement does nothing, its value
        # is not even computed (Python would stop at reading the element).
        return
    new = semantics.binary(op, load(place, ty), run.expr(value), ty)
    store(place, new, ty)
    run.produced(_text(run, target), new)


@statement(A.If)
def run_if(run: Run, s: A.If) -> None:
    if s.test.const is not None:
        run.block(s.body if s.test.const else s.orelse)
        return
    test = run.expr(s.test)
    run.produced("", bool(test))
    run.block(s.body if test else s.orelse)


@statement(A.While)
def run_while(run: Run, s: A.While) -> None:
    first = True
    while True:
        if not first and run.trace is not None:
            run.trace.statement(s)
        first = False
        test = run.expr(s.test)
        run.produced("", bool(test))
        if not test or not body_once(run, s.body):
            return


@statement(A.For)
def run_for(run: Run, s: A.For) -> None:
    it = s.iter
    loop = it.resolved
    assert isinstance(loop, C.RangeLoop) and isinstance(it, A.Call)
    args = [run.expr(a) for a in it.args]
    start, stop = (0, args[0]) if len(args) == 1 else (args[0], args[1])
    for n, i in enumerate(range(start, stop, loop.step)):
        if n and run.trace is not None:
            run.trace.statement(s)
        store_value(run, s.target, i)
        if not body_once(run, s.body):
            return


def body_once(run: Run, body: list[A.Stmt]) -> bool:
    """A loop's body, once; False when it breaks out of the loop."""
    try:
        run.block(body)
    except _Break:
        return False
    except _Continue:
        pass
    return True


@statement(A.Break)
def run_break(run: Run, s: A.Break) -> None:
    raise _Break()


@statement(A.Continue)
def run_continue(run: Run, s: A.Continue) -> None:
    raise _Continue()


# ----------------------------------------------------------- assignments

def assign(run: Run, target: A.Expr, value: A.Expr) -> None:
    if isinstance(target.ty, (ArrayType, StructType)):
        initialise(run, target, value)
        return
    store_value(run, target, run.expr(value))


def store_value(run: Run, target: A.Expr, value: Any) -> None:
    r = target.resolved
    if isinstance(r, C.ContextField):
        f = r.field
        assert isinstance(target, A.Attribute)
        run.write_context(run.expr(target.value), f.offset, f.size, value)
    elif isinstance(r, C.OptvalByte):
        window_store(run, target.index, value, int_type("u8"))  # type: ignore[attr-defined]
    elif isinstance(r, C.ContextArrayElement):
        run.write_context(run.expr(r.base), r.offset, r.field.size, value)
    elif isinstance(r, C.LocalVariable) and not is_aggregate(target.ty):
        run.frames[-1][id(r.var)] = value
    else:
        place = run.address(target)
        if place is not None:
            store(place, value, target.ty)
    run.produced(_text(run, target), value)


def initialise(run: Run, target: A.Expr, value: A.Expr) -> None:
    place = run.address(target)
    assert place is not None
    ty = target.ty
    place.write(bytes(ty.size))
    init = value.resolved
    if isinstance(init, C.ParseNumber):
        assert isinstance(value, A.Call)
        parse_number(run, value, place)
    elif isinstance(init, C.BytesInit):
        if init.data is not None:
            place.write(init.data)
    elif isinstance(init, C.ListInit):
        assert isinstance(ty, ArrayType)
        elements = [run.expr(e) for e in init.elements]
        size = ty.elem.size
        for i, v in enumerate(elements * init.repeat):
            store(place.at(i * size), v, ty.elem)
    run.produced(_text(run, target), _shown(place, ty))


def parse_number(run: Run, e: A.Call, result: Place) -> None:
    """``parsed = strtoul(buf, offset, base)``: -EINVAL for an offset past
    the end, without a call."""
    helper = e.resolved.helper
    buf, offset, base = e.args
    size = buf.ty.size
    start = run.address(buf)
    at = run.expr(offset) & MASK64
    flags = run.expr(base) & MASK64
    length, value = -EINVAL, 0
    if at < size:
        assert start is not None
        length, value = PARSERS[helper.name](start.at(at).read(size - at), flags)
    store(result, length, int_type("i64"))
    store(result.at(8), value, int_type("i64" if helper.returns == "parsed_i64" else "u64"))


def _text(run: Run, e: A.Expr) -> str:
    return run.trace.text(e) if run.trace is not None else ""


def _shown(place: Place, ty: Type) -> Any:
    from .memory import decode
    return decode(place.read(ty.size), ty)


# --------------------------------------------------------- option window

def window_inside(run: Run, index: A.Expr, size: int) -> Optional[int]:
    """The offset of ``size`` bytes at ``index`` when inside the window."""
    window = run.event.window
    assert window is not None
    at = index.const if index.const is not None else run.expr(index)
    if at < 0 or at >= abi.PAGE_SIZE or at + size > len(window):
        return None
    return at


def window_load(run: Run, index: A.Expr, ty: IntType) -> int:
    at = window_inside(run, index, ty.size)
    if at is None:
        return 0
    return load(Place(run.event.window, at), ty)  # type: ignore[arg-type]


def window_store(run: Run, index: A.Expr, value: int, ty: IntType) -> None:
    at = window_inside(run, index, ty.size)
    if at is not None:
        store(Place(run.event.window, at), value, ty)  # type: ignore[arg-type]


def helper_arguments(run: Run, e: A.Call, helper: abi.Helper) -> Optional[list[Any]]:
    """A helper's arguments as lowering passes them; None when a variable
    length of 0 skips the call (it gives -EINVAL)."""
    values: list[Any] = []
    kinds = helper.params
    for i, (arg, kind) in enumerate(zip(e.args, kinds)):
        if kind == "ctx_or_null" and isinstance(arg, A.NoneLit):
            values.append(None)         # the kernel's NULL
        elif kind in ("ctx", "ctx_or_null", "sock"):
            values.append(run.expr(arg))
        elif kind in abi.MAP_PARAMS:
            assert isinstance(arg, A.Name)
            values.append(run.state.maps[arg.id])     # the map itself
        elif kind in ("buffer", "buffer_start"):
            values.append(run.address(arg))
            if kind == "buffer":
                values.append(arg.ty.size)
        else:
            value = run.expr(arg) & MASK64
            if i > 0 and kinds[i - 1] == "buffer_start":
                size = e.args[i - 1].ty.size
                if arg.const is None and value == 0:
                    return None
                value = min(value, size)
            values.append(value)
    return values


def call_helper(run: Run, e: A.Call, helper: abi.Helper) -> int:
    simulated = HELPERS.get(helper.name)
    if simulated is None:
        raise SimulationError(f"line {e.pos.line}: {helper.name}() is not simulated yet; "
                              "run the program in the kernel")
    args = helper_arguments(run, e, helper)
    result = -EINVAL if args is None else simulated(run, args)
    if helper.returns == "None":
        return 0
    return semantics.wrap(result, int_type(helper.returns))


def encode_operand(run: Run, operand: A.Expr) -> bytes:
    """A key, value or record as the bytes the kernel gets."""
    if is_aggregate(operand.ty):
        place = run.address(operand)
        assert place is not None
        return place.read(operand.ty.size)
    return encode(run.expr(operand), operand.ty)

