"""Checking statements inside functions, and what a name is assigned: new
locals and their types, globals declared with ``global``, and the values
that make structs and arrays."""
from __future__ import annotations

from typing import Iterator, Optional, Union

from ... import abi
from .. import ast as A
from ..contract import AtomicAdd, AtomicUpdate, Docstring, MinMax, WindowLength, ParseNumber, RangeLoop, StructInit
from ..symbols import BuiltinSym, ConstSym, GlobalVar, HelperSym, LocalVar, MapVar, TypeSym
from ..types import (BOOL, DEFAULT_INT, I32, NONE, PARSED_TYPES, U8, U32, UNTYPED_INT, ArrayType,
                     BytesLitType, ContextType, IntType, KernelBytesType, KernelPtrType, RefType,
                     StructType, Type, is_aggregate,
                     is_int, is_scalar)
from . import access, calls, kstructs, narrowing, packet, sequences, type_names
from .expressions import (binop, coerce, coerce_tree, condition, resolve_variable,
                          uncast, unify_ints)
from .state import Checker, error, statement


@statement(A.UnsupportedStmt)
def check_unsupported(ck: Checker, s: A.UnsupportedStmt) -> None:
    raise error(f"{s.what} is not supported", s)


@statement(A.FunctionDef)
def check_nested_function(ck: Checker, s: A.FunctionDef) -> None:
    raise error("nested functions are not supported: define helpers at module level", s)


@statement(A.ClassDef)
def check_nested_class(ck: Checker, s: A.ClassDef) -> None:
    raise error("classes must be defined at module level", s)


@statement(A.Import, A.ImportFrom)
def check_nested_import(ck: Checker, s: A.Stmt) -> None:
    raise error("imports belong at module level", s)


@statement(A.Pass)
def check_pass(ck: Checker, s: A.Pass) -> None:
    pass


@statement(A.Break)
def check_break(ck: Checker, s: A.Break) -> None:
    if not ck.loop_depth:
        raise error("'break' outside a loop", s)


@statement(A.Continue)
def check_continue(ck: Checker, s: A.Continue) -> None:
    if not ck.loop_depth:
        raise error("'continue' outside a loop", s)


@statement(A.Global)
def check_global(ck: Checker, s: A.Global) -> None:
    fn = ck.current()
    for name in s.names:
        sym = ck.scope.get(name)
        if isinstance(sym, GlobalVar) and sym.readonly:
            raise access.readonly_error(sym, s)
        if not isinstance(sym, GlobalVar):
            if isinstance(sym, ConstSym):
                raise error(f"'{name}' is a constant and cannot be assigned", s)
            raise error(f"'{name}' is not a module-level global variable", s)
        if name in fn.locals or name in fn.globals_used:
            raise error(f"'{name}' is used before its global declaration", s,
                        note="Python requires `global` before any use of the name")
        fn.globals_declared.add(name)


@statement(A.ExprStmt)
def check_expr_statement(ck: Checker, s: A.ExprStmt) -> None:
    if isinstance(s.value, A.StrLit):
        s.value.resolved = Docstring()      # a docstring or comment string
        return
    if not isinstance(s.value, A.Call):
        if isinstance(s.value, A.Unsupported):
            ck.expr(s.value)
        raise error("this expression has no effect", s.value)
    ck.expr(s.value, allow_none=True)
    if isinstance(s.value.resolved, AtomicAdd):
        s.value.resolved = AtomicAdd(old_value_used=False)


@statement(A.Return)
def check_return(ck: Checker, s: A.Return) -> None:
    fn = ck.current()
    if fn.hook is not None:
        hook_return(ck, fn.hook, s)
        return
    if s.value is None or isinstance(s.value, A.NoneLit):
        if fn.ret is not NONE:
            raise error(f"function '{fn.name}' must return {fn.ret}", s)
        s.value = None      # `return None` is `return`
        return
    if fn.ret is NONE:
        raise error(f"function '{fn.name}' is declared `-> None` and returns nothing",
                    s.value)
    ck.expr(s.value)
    s.value = coerce(s.value, fn.ret, "return value")


def hook_return(ck: Checker, hook: abi.Hook, s: A.Return) -> None:
    if s.value is None:
        raise error(f"a @{hook.decorator} hook must return a value: " + hook.returns.doc, s)
    ck.expr(s.value)
    if hook.returns.kind == "action":
        action_return(hook, s)
        return
    if hook.returns.kind == "verdict":
        allowed = {v for _, v in hook.returns.values}
        if s.value.ty is BOOL and {0, 1} <= allowed:
            return
        values = narrowing.possible_values(s.value)
        if values is not None and values <= allowed:
            s.value = coerce_tree(s.value, U32)
            return
        names = " or ".join(f"{n} ({v})" for n, v in hook.returns.values)
        if len(allowed) == 1:
            raise error(f"a @{hook.decorator} hook must return {names}", s.value,
                        note="the kernel refuses to load it otherwise")
        raise error(f"a @{hook.decorator} hook returns {names}, or a bool", s.value)
    s.value = coerce(s.value, U32, "the number of bytes to keep"
                     if hook.returns.kind == "bytes" else "the program's result")


def action_return(hook: abi.Hook, s: A.Return) -> None:
    """An action (XDP_PASS, TC_ACT_SHOT, ...): a constant one of the
    table's values, or any integer computed at run time."""
    assert s.value is not None
    values = narrowing.possible_values(s.value)
    if values is not None:
        allowed = {v for _, v in hook.returns.values}
        if not values <= allowed:
            names = ", ".join(f"{n} ({v})" for n, v in hook.returns.values)
            raise error(f"a @{hook.decorator} hook returns one of {names}", s.value)
        s.value = coerce_tree(s.value, I32)
        return
    if s.value.ty is BOOL or not is_int(s.value.ty):
        raise error(f"a @{hook.decorator} hook returns an action, not {s.value.ty}", s.value,
                    note=hook.returns.doc)
    if isinstance(s.value.ty, IntType) and s.value.ty.bits == 32 and s.value.ty != I32:
        cast = A.Cast(s.value.pos, s.value)    # a u32 holding an action: the same bits
        cast.ty = I32
        s.value = cast
        return
    s.value = coerce(s.value, I32, "the action")


@statement(A.If)
def check_if(ck: Checker, s: A.If) -> None:
    s.test = condition(ck, s.test)
    when_true, when_false = narrowing.facts(s.test)
    before = set(ck.nonnull)
    stale_before = dict(ck.stale)
    ends, stale_ends = [], []
    for branch, known in ((s.body, when_true), (s.orelse, when_false)):
        ck.nonnull = before | known
        ck.stale = dict(stale_before)
        ck.block(branch)
        if not narrowing.always_leaves(branch):
            ends.append(ck.nonnull)
            stale_ends.append(ck.stale)
    # After the if: what holds at the end of every branch that gets there
    # (a header stale at the end of any of them is stale).
    ck.nonnull = set.intersection(*ends) if ends else before
    ck.stale = {k: v for d in stale_ends for k, v in d.items()} if ends else stale_before


def loop_body(ck: Checker, test: Optional[A.Expr], body: list[A.Stmt]) -> Optional[A.Expr]:
    """Check a loop's test and body.  A reference assigned anywhere in
    the body may be None again when the loop comes round."""
    entry = ck.nonnull - narrowing.assigned_names(body)
    ck.nonnull = set(entry)
    moves = packet.moves_packet_in(ck, body)
    if moves:
        # The packet may have moved when the loop comes round.
        packet.packet_moved_in_loop(ck)
    if test is not None:
        test = condition(ck, test)
        ck.nonnull |= narrowing.facts(test)[0]
    ck.loop_depth += 1
    ck.block(body)
    ck.loop_depth -= 1
    ck.nonnull = entry
    if moves:
        packet.packet_moved_in_loop(ck)
    return test


@statement(A.While)
def check_while(ck: Checker, s: A.While) -> None:
    if s.orelse:
        raise error("`while ... else` is not supported", s.else_pos or s.orelse[0],
                    note="set a flag before `break` and test it after the loop")
    test = loop_body(ck, s.test, s.body)
    assert test is not None
    s.test = test


@statement(A.For)
def check_for(ck: Checker, s: A.For) -> None:
    if s.orelse:
        raise error("`for ... else` is not supported", s.else_pos or s.orelse[0],
                    note="set a flag before `break` and test it after the loop")
    sequences.rewrite_sequence_loop(ck, s)
    it = s.iter
    assert isinstance(it, A.Call)
    if it.keywords or not 1 <= len(it.args) <= 3:
        raise error("range() takes one to three arguments", it)
    for a in it.args:
        ck.expr(a)
        if not is_int(a.ty):
            raise error(f"range() needs integers, not {a.ty}", a)
    ty = unify_ints(it.args)
    it.args = [coerce(a, ty, "range() argument") for a in it.args]
    if len(it.args) == 3:
        if it.args[2].const is None or it.args[2].const == 0:
            raise error("range()'s step must be a non-zero constant", it.args[2])
    it.ty = ty
    it.resolved = RangeLoop(ty, it.args[2].const if len(it.args) == 3 else 1)
    if not isinstance(s.target, A.Name):
        raise error("a for loop's variable must be a plain name", s.target)
    assign_name(ck, s.target, ty, s.target)
    saved = dict(ck.loop_ranges)
    ck.loop_ranges.pop(s.target.id, None)
    values = range(*[a.const for a in it.args]) \
        if all(a.const is not None for a in it.args) else range(0)
    if values and s.target.id not in narrowing.assigned_names(s.body):
        ck.loop_ranges[s.target.id] = (min(values[0], values[-1]),
                                        max(values[0], values[-1]))
    saved_windows = dict(ck.window_loops)
    ck.window_loops.pop(s.target.id, None)
    window, to_the_end = window_of_length_loop(it)
    if window is not None and s.target.id not in narrowing.assigned_names(s.body):
        ck.window_loops[s.target.id] = (window, s)
        it.resolved = RangeLoop(ty, 1, window, to_the_end)
        if to_the_end:
            one_branch_a_round(s)
    loop_body(ck, None, s.body)
    ck.loop_ranges = saved
    ck.window_loops = saved_windows


def one_branch_a_round(s: A.For) -> None:
    """A loop over the whole option buffer goes round up to a page's
    bytes, and the verifier follows every round, keeping a path to come
    back to for each branch on its way: one a round fits its limit (8192),
    two do not."""
    branches = list(branching(s.body))
    if len(branches) < 2:
        return
    raise error("a loop over the whole option buffer may go round 4096 times, and the "
                "verifier keeps a path to come back to for every branch of every round: "
                "it takes one `if` a round, not more", branches[1],
                note="bound the loop with a constant, `for i in range(min(len(ctx.optval), "
                     "1024))`, or count without branching (`n += ctx.optval[i] == 47`)")


def branching(body: list[A.Stmt]) -> Iterator[A.Stmt]:
    """The ifs (each elif too) and loops in ``body``, in source order."""
    for st in body:
        if isinstance(st, (A.If, A.While, A.For)):
            yield st
            yield from branching(st.body)
            yield from branching(getattr(st, "orelse", []) or [])


def window_of_length_loop(it: A.Call) -> tuple[Optional[Type], bool]:
    """The window of ``range(len(ctx.optval))`` (or ``range(k, len(...))``
    from a constant k >= 0, step 1; or ``min(len(ctx.optval), n)`` as the
    stop): its variable is always an index into the window.  And whether
    the stop is the window's length itself (not a min())."""
    if len(it.args) == 3 and it.args[2].const != 1:
        return None, False
    if len(it.args) >= 2 and not (isinstance(it.args[0].const, int) and it.args[0].const >= 0):
        return None, False
    stop = it.args[1] if len(it.args) >= 2 else it.args[0]
    while isinstance(stop, A.Cast):
        stop = stop.value
    to_the_end = True
    if isinstance(stop.resolved, MinMax) and stop.resolved.smallest:
        assert isinstance(stop, A.Call)
        lengths = [a for a in map(uncast, stop.args) if isinstance(a.resolved, WindowLength)]
        stop, to_the_end = (lengths[0] if lengths else stop), False
    if isinstance(stop.resolved, WindowLength):
        return stop.resolved.window, to_the_end
    return None, False


@statement(A.Assign)
def check_assign(ck: Checker, s: A.Assign) -> None:
    t = s.target
    if isinstance(t, A.Name):
        existing = lookup_assignable(ck, t)
        if existing is not None and is_aggregate(existing.ty) and isinstance(s.value, A.Attribute):
            # Not a constructor: a kernel struct's bytes, or an error below.
            ck.expr(s.value)
            if isinstance(s.value.ty, KernelBytesType):
                resolve_variable(t, existing)
                kstructs.bytes_copy(s)
                return
        if existing is not None:
            check_aggregate_value(ck, existing.ty, s.value)
            s.value = value_for(ck, existing.ty, s.value)
            if isinstance(existing.ty, RefType) and s.value.ty.shared:
                # References into shared and per-CPU maps in one variable:
                # its updates from here on are indivisible.
                existing.ty = RefType(existing.ty.value, existing.ty.maybe_none, shared=True,
                                      packet=existing.ty.packet)
            resolve_variable(t, existing)
        else:
            ty = infer_new_local(ck, s.value)
            assign_name(ck, t, ty, s.value)
        narrowing.note_reference(ck.nonnull, t, s.value)
        ck.stale.pop(t.id, None)
        return
    if isinstance(s.value, A.Attribute) and isinstance(t, A.Attribute):
        # A kernel struct's bytes copied into a bytearray field (ev.comm):
        # the value says so, and the target is then written whole.
        ck.expr(s.value)
        if isinstance(s.value.ty, KernelBytesType):
            access.store_target(ck, t, whole=True)
            kstructs.bytes_copy(s)
            return
        access.store_target(ck, t)
    else:
        access.store_target(ck, t)
        ck.expr(s.value)
        if isinstance(s.value.ty, KernelBytesType):
            kstructs.bytes_copy(s)
            return
    s.value = coerce(s.value, t.ty, "assigned value")
    access.check_write_bounds(ck, t, s.value)


@statement(A.AnnAssign)
def check_annassign(ck: Checker, s: A.AnnAssign) -> None:
    t = s.target
    if not isinstance(t, A.Name):
        raise error("only a plain name can be annotated", t)
    ty = type_names.resolve_type(ck, s.annotation, s.value)
    if isinstance(ty, ContextType):
        raise error("a context is only a hook's argument", s.annotation)
    existing = lookup_assignable(ck, t)
    if existing is not None and existing.ty != ty:
        raise error(f"'{t.id}' was declared {existing.ty}, not {ty}", s.annotation)
    if s.value is not None:
        check_aggregate_value(ck, ty, s.value)
        s.value = value_for(ck, ty, s.value)
    assign_name(ck, t, ty, s)
    if s.value is not None:
        narrowing.note_reference(ck.nonnull, t, s.value)
        ck.stale.pop(t.id, None)


@statement(A.AugAssign)
def check_augassign(ck: Checker, s: A.AugAssign) -> None:
    t = s.target
    if isinstance(t, A.Name):
        sym = lookup_assignable(ck, t)
        if sym is None:
            raise error(f"'{t.id}' is used before it is assigned", t)
        resolve_variable(t, sym)
    else:
        access.store_target(ck, t)
        access.load_rights(ck, t)
    if not isinstance(t.ty, IntType):
        raise error(f"`{s.op}=` needs an integer target, not {t.ty}", t)
    ck.expr(s.value)
    probe = A.BinOp(s.pos, s.op, t, s.value)
    binop(probe, fold=False)
    if probe.ty != t.ty:
        raise error(f"the result is {probe.ty}, which does not fit back into "
                    f"{t.ty}", s.value, note=f"convert explicitly, e.g. {t.ty}(...)")
    s.value = probe.right
    if s.op in ("+", "-") and t.ty.bits in (32, 64) and access.shared_memory(t):
        s.resolved = AtomicUpdate(subtract=s.op == "-")


# ------------------------------------------------------------ assignment

SHARING = ("assigning a struct or list would share it in Python but copy it in BPF: build a "
           "new one and copy the fields you need")


def lookup_assignable(ck: Checker, t: A.Name) -> Optional[Union[LocalVar, GlobalVar]]:
    """The variable an assignment to ``t`` changes; None for a new local."""
    fn = ck.current()
    if t.id in fn.locals:
        var = fn.locals[t.id]
        if isinstance(var.ty, ContextType):
            raise error(f"the context '{t.id}' cannot be reassigned", t)
        return var
    sym = ck.scope.get(t.id)
    if isinstance(sym, GlobalVar):
        if sym.readonly:
            raise access.readonly_error(sym, t)
        if t.id not in fn.globals_declared:
            raise error(f"'{t.id}' is a module global: add `global {t.id}` to the "
                        "function to assign it", t,
                        note="without it, Python would make a new local variable")
        return sym
    if isinstance(sym, ConstSym):
        raise error(f"'{t.id}' is a constant and cannot be assigned", t)
    if isinstance(sym, MapVar):
        raise error(f"'{t.id}' is a map and cannot be assigned; change its entries with "
                    "its methods", t)
    if sym is not None and not isinstance(sym, BuiltinSym):
        raise error(f"'{t.id}' is not a variable", t)
    return None


def assign_name(ck: Checker, t: A.Name, ty: Type, where: A.Node) -> None:
    """``t`` is assigned a value of type ``ty``: a new local, or one the
    function has (or a global it declared), which must have that type."""
    fn = ck.current()
    existing = fn.locals.get(t.id)
    if existing is None:
        if t.id in fn.globals_declared:
            gv = ck.scope[t.id]
            assert isinstance(gv, GlobalVar)
            if gv.ty != ty:
                raise error(f"'{t.id}' is {gv.ty}, not {ty}", where)
            resolve_variable(t, gv)
            return
        if ty is UNTYPED_INT:
            ty = DEFAULT_INT
        existing = LocalVar(t.id, ty, t.pos)
        fn.locals[t.id] = existing
    elif existing.ty != ty and not (isinstance(existing.ty, IntType) and ty is UNTYPED_INT):
        raise error(f"'{t.id}' is {existing.ty}; it cannot hold {ty}", where)
    resolve_variable(t, existing)


def infer_new_local(ck: Checker, value: A.Expr) -> Type:
    """The type of a new local given ``value`` without an annotation."""
    if is_constructor(ck, value):
        return constructor_type(ck, value)
    with kstructs.pointer_wanted(ck, value):
        ck.expr(value)
    if isinstance(value.ty, BytesLitType):
        raise error("a bytes literal is constant: use bytearray(b\"...\") for a byte "
                    "buffer", value)
    if is_aggregate(value.ty):
        raise error(SHARING, value)
    if isinstance(value.ty, RefType):
        if isinstance(value, A.Name):
            raise error("a reference cannot be copied: use the variable that holds it", value)
        return value.ty
    if isinstance(value.ty, KernelPtrType):
        return value.ty
    if isinstance(value.ty, KernelBytesType):
        raise error(f"{value.ty} is copied into a bytearray: `buf = bytearray("
                    f"{value.ty.length})`, then `buf = ...` (or into a bytearray field: "
                    "`ev.comm = ...`)", value)
    if value.ty is UNTYPED_INT:
        coerce(value, DEFAULT_INT, "value")
        return DEFAULT_INT
    if not is_scalar(value.ty):
        raise error(f"a variable cannot hold {value.ty}", value)
    return value.ty


def is_constructor(ck: Checker, value: A.Expr) -> bool:
    """Whether ``value`` makes a new struct, list or bytearray."""
    if isinstance(value, A.ListLit):
        return True
    if isinstance(value, A.BinOp) and value.op == "*" and isinstance(value.left, A.ListLit):
        return True
    if isinstance(value, A.Call) and isinstance(value.func, A.Name):
        sym = ck.scope.get(value.func.id)
        return (isinstance(sym, TypeSym) and isinstance(sym.ty, StructType)) or (
            isinstance(sym, BuiltinSym) and sym.name == "bytearray") or (
            isinstance(sym, HelperSym) and sym.helper.returns in PARSED_TYPES)
    return False


def constructor_type(ck: Checker, value: A.Expr) -> Type:
    """Check a constructor (see is_constructor) and give its type."""
    if isinstance(value, A.Call):
        sym = ck.scope[value.func.id]  # type: ignore[attr-defined]
        if isinstance(sym, HelperSym):
            value.func.symbol = sym  # type: ignore[attr-defined]
            calls.helper_call(ck, value, sym.helper)
            value.resolved = ParseNumber(sym.helper)
            return value.ty
        if isinstance(sym, TypeSym):
            assert isinstance(sym.ty, StructType)
            struct_constructor(ck, value, sym.ty)
            return sym.ty
        ty = ArrayType(U8, type_names.bytearray_length(ck, value), is_bytes=True)
        value.ty = ty
        return ty
    if isinstance(value, A.BinOp):
        first = value.left.elts[0] if value.left.elts else None  # type: ignore[attr-defined]
    else:
        first = value.elts[0] if value.elts else None  # type: ignore[attr-defined]
    if first is None:
        raise error("a list cannot be empty", value)
    ck.expr(first)
    elem = first.ty
    if elem is UNTYPED_INT:
        elem = DEFAULT_INT
    if not is_scalar(elem):
        raise error(f"a list cannot hold {elem}", first)
    ty = type_names.list_type(ck, elem, value, value)
    type_names.array_initializer(ck, ty, value, constant=False)
    return ty


def struct_constructor(ck: Checker, value: A.Expr, ty: StructType) -> None:
    if (isinstance(value, A.Call) and isinstance(value.func, A.Name)
            and isinstance(ck.scope.get(value.func.id), HelperSym)):
        if constructor_type(ck, value) is not ty:
            raise error(f"this gives {value.ty}, not {ty.name}", value)
        return
    if not (isinstance(value, A.Call) and isinstance(value.func, A.Name)
            and isinstance(ck.scope.get(value.func.id), TypeSym)
            and ck.scope[value.func.id].ty is ty):  # type: ignore[union-attr]
        raise error(f"expected {ty.name}()", value)
    if value.args or value.keywords:
        raise error(f"{ty.name}() takes no arguments: it starts as zero; set its "
                    "fields afterwards", value)
    value.ty = ty
    value.resolved = StructInit()


def check_aggregate_value(ck: Checker, ty: Type, value: A.Expr) -> None:
    if isinstance(ty, (ArrayType, StructType)) and not is_constructor(ck, value):
        raise error(SHARING, value)


def value_for(ck: Checker, ty: Type, value: A.Expr) -> A.Expr:
    """Check ``value`` as the new value of something of type ``ty``."""
    if isinstance(ty, ArrayType):
        type_names.array_initializer(ck, ty, value, constant=False)
        return value
    if isinstance(ty, StructType):
        struct_constructor(ck, value, ty)
        return value
    ck.expr(value)
    if isinstance(ty, RefType) and isinstance(value, A.Name):
        raise error("a reference cannot be copied: use the variable that holds it", value)
    if isinstance(ty, RefType) and isinstance(value.ty, RefType):
        # Whether the map is shared is the variable's (see check_assign).
        ty = RefType(ty.value, ty.maybe_none, shared=value.ty.shared, packet=ty.packet)
    return coerce(value, ty, "assigned value")
