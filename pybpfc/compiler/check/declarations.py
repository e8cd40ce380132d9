"""Checking declarations: module-level statements (imports, LICENSE,
constants, globals, @struct classes; maps are in :mod:`.maps`, the types
annotations name in :mod:`.type_names`), and functions as a whole (hook
decorators, signatures, bodies that must return, the call graph, the names
the object reserves)."""
from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Iterable, Optional, Union

from ... import abi, lang
from .. import ast as A
from ..symbols import (LICENSE_SECTION, LICENSE_SYMBOL, AnnotationSym, BuiltinSym, ConstSym,
                       ContextTypeSym, EnumSym, FinalSym, FuncSym, GlobalVar, HelperSym,
                       HookDecoratorSym, IntEnumBaseSym, LocalVar, MapKindSym, MapVar,
                       StructDecoratorSym, TypeSym, all_zero)
from ..types import (BOOL, HEADER_TYPES, I32, NONE, PARSED_TYPES, U32, UNTYPED_INT, ArrayType,
                     ContextType, IntType, StructType, Type, int_type, is_int, is_scalar)
from . import access, hook_targets, kstructs, maps, narrowing, statements, tracepoint_types, type_names
from .expressions import coerce
from .state import Checker, error

if TYPE_CHECKING:
    from ..symbols import Symbol

LICENSE_NAME = "LICENSE"

PARAMETER_NOTE = ("wrap it in a @struct, which is passed by reference: `@struct class Buf: "
                  "data: bytearray = bytearray(16)`, then `def f(b: Buf)` and `b.data[i]`")

# Builtins that pybpfc exports and the compiler implements itself.
PYBPFC_BUILTINS = ("htons", "ntohs", "htonl", "ntohl", "atomic_add")


def module_statement(ck: Checker, stmt: A.Stmt) -> None:
    if isinstance(stmt, A.ImportFrom):
        import_from(ck, stmt)
    elif isinstance(stmt, A.Import):
        raise error("write `from pybpfc import ...`: a program imports names only "
                    "from pybpfc and typing", stmt.name_pos[0] if stmt.name_pos else stmt)
    elif isinstance(stmt, A.ClassDef) and any(
            isinstance(b, A.Name) and isinstance(ck.scope.get(b.id), IntEnumBaseSym)
            for b in stmt.bases):
        enum_def(ck, stmt)
    elif isinstance(stmt, A.ClassDef):
        struct_def(ck, stmt)
    elif isinstance(stmt, A.AnnAssign):
        module_annassign(ck, stmt)
    elif isinstance(stmt, A.Assign):
        if isinstance(stmt.target, A.Name) and stmt.target.id == LICENSE_NAME:
            set_license(ck, stmt.value)
        else:
            raise error("a module-level variable needs a type: write `name: u32 = 0` "
                        "for a global, or `NAME: Final = 0` for a constant", stmt)
    elif isinstance(stmt, A.ExprStmt) and isinstance(stmt.value, A.StrLit):
        pass  # docstring
    elif isinstance(stmt, A.Pass):
        pass
    elif isinstance(stmt, A.UnsupportedStmt):
        raise error(f"{stmt.what} is not supported", stmt)
    else:
        raise error("only imports, constants, globals, @struct classes and functions "
                    "may stand at module level; other module-level code is never run", stmt)


def import_from(ck: Checker, stmt: A.ImportFrom) -> None:
    if stmt.module == "__future__":
        return
    if stmt.module == tracepoint_types.MODULE:
        tracepoint_types.import_names(ck, stmt)
        return
    for i, (name, alias) in enumerate(stmt.names):
        # Errors point at the name (or the module) they are about.
        at: A.Node | A.Pos = stmt.name_pos[i] if i < len(stmt.name_pos) else stmt
        if name == "*":
            raise error(f"`from {stmt.module} import *` is not supported: import names "
                        "one by one", at)
        bound = alias or name
        if stmt.module == "typing":
            if name != "Final":
                raise error(f"typing.{name} is not supported; only Final is", at)
            ck.bind(bound, FinalSym(), at)
        elif stmt.module == "pybpfc":
            ck.bind(bound, pybpfc_symbol(name, at), at)
        elif stmt.module == kstructs.MODULE:
            ck.bind(bound, kstructs.import_symbol(name, at), at)
        elif stmt.module == "enum":
            if name != "IntEnum":
                raise error(f"enum.{name} is not supported; IntEnum is", at)
            ck.bind(bound, IntEnumBaseSym(), at)
        else:
            raise error(f"cannot import from '{stmt.module}': a program imports names "
                        "only from pybpfc, pybpfc.vmlinux, pybpfc.tracepoints, enum and typing",
                        stmt.module_pos or stmt)


def pybpfc_symbol(name: str, at: A.Node | A.Pos) -> Symbol:
    import pybpfc
    if name not in pybpfc.__all__:
        raise error(f"pybpfc has no '{name}'", at, note=hooks_note(name))
    if name in abi.HOOKS_BY_DECORATOR:
        return HookDecoratorSym(abi.HOOKS_BY_DECORATOR[name])
    if name in abi.CONTEXTS_BY_PYTHON_NAME:
        return ContextTypeSym(abi.CONTEXTS_BY_PYTHON_NAME[name])
    if name == "struct":
        return StructDecoratorSym()
    if name in PYBPFC_BUILTINS:
        return BuiltinSym(name)
    if name in abi.HELPERS:
        return HelperSym(abi.HELPERS[name])
    if name in abi.MAP_KINDS:
        return MapKindSym(abi.MAP_KINDS[name])
    if name in ("Ref", "ReadOnly"):
        return AnnotationSym(name)
    for parsed in PARSED_TYPES.values():
        if parsed.name == name:
            return TypeSym(parsed)
    if name in HEADER_TYPES:
        return TypeSym(HEADER_TYPES[name])
    value = getattr(lang, name, None)
    if value is int:
        return TypeSym(int_type(name))
    if isinstance(value, int):
        return ConstSym(name, UNTYPED_INT, value)
    raise error(f"pybpfc.{name} cannot be used in a program", at)


def hooks_note(name: str) -> Optional[str]:
    """The hooks there are, for a name that may have meant one (any
    decorator, or an import named like one), nearest first."""
    decorators = sorted(abi.HOOKS_BY_DECORATOR)
    families = {d.split("_")[0] for d in decorators}
    if name and name.split("_")[0] not in families:
        return None
    near = difflib.get_close_matches(name, decorators, n=3, cutoff=0.6) if name else []
    text = ("did you mean " + " or ".join(f"'{d}'" for d in near) + "? " if near else "")
    return text + "the hooks pybpfc has: " + ", ".join(decorators)


def set_license(ck: Checker, value: A.Expr) -> None:
    if not isinstance(value, A.StrLit):
        raise error("LICENSE must be a string literal, e.g. \"GPL\"", value)
    if not value.value or "\0" in value.value:
        raise error("LICENSE must be a non-empty string without NUL characters", value)
    if not value.value.isascii():
        raise error("LICENSE must be ASCII text", value,
                    note="the kernel compares it with the names of licenses it knows, "
                         "such as \"GPL\" or \"Dual BSD/GPL\"")
    ck.license = value.value


def module_annassign(ck: Checker, stmt: A.AnnAssign) -> None:
    if not isinstance(stmt.target, A.Name):
        raise error("only a plain name can be declared at module level", stmt.target)
    name = stmt.target.id
    final, declared = type_names.split_final(ck, stmt.annotation)
    if name == LICENSE_NAME:
        if stmt.value is None:
            raise error("LICENSE needs a value", stmt)
        set_license(ck, stmt.value)
        return
    declared_map = maps.map_annotation(ck, stmt.annotation)
    if declared_map is not None:
        maps.map_declaration(ck, stmt, name, *declared_map)
        return
    readonly = False
    if not final and declared is not None:
        readonly, declared = type_names.split_readonly(ck, declared)
        if readonly and stmt.value is None:
            raise error(f"read-only global '{name}' needs a value (its default)", stmt)
    if stmt.value is None:
        if final:
            raise error(f"constant '{name}' needs a value", stmt)
        ty = type_names.resolve_type(ck, declared, None)
        gv = GlobalVar(name, ty, stmt.target.pos, None)
        ck.bind(name, gv, stmt.target)
        ck.globals.append(gv)
        return
    if final:
        value = const_value(ck, stmt.value)
        ty = stmt.value.ty
        if declared is not None:
            target_ty = type_names.resolve_type(ck, declared, None)
            coerce(stmt.value, target_ty, f"constant '{name}'")
            ty, value = target_ty, stmt.value.const
        ck.bind(name, ConstSym(name, ty, value), stmt.target)
        return
    ty = type_names.resolve_type(ck, declared, stmt.value)
    init = global_initializer(ck, ty, stmt.value, name)
    gv = GlobalVar(name, ty, stmt.target.pos, init, readonly=readonly)
    ck.bind(name, gv, stmt.target)
    ck.globals.append(gv)


def const_value(ck: Checker, expr: A.Expr) -> Union[int, bool, bytes]:
    ck.expr(expr)
    if expr.const is None:
        raise error("a constant needs a value known at compile time", expr)
    return expr.const


def global_initializer(ck: Checker, ty: Type, value: A.Expr,
                       name: str) -> Union[int, bool, bytes, list, None]:
    if is_scalar(ty):
        ck.expr(value)
        coerce(value, ty, f"global '{name}'")
        if value.const is None:
            raise error("a global's initial value must be known at compile time", value)
        return value.const
    if isinstance(ty, ArrayType):
        return type_names.array_initializer(ck, ty, value, constant=True)
    if isinstance(ty, StructType):
        statements.struct_constructor(ck, value, ty)
        return None
    raise error(f"a global cannot have type {ty}", value)


def enum_def(ck: Checker, stmt: A.ClassDef) -> None:
    """``class Proto(IntEnum): TCP = 6``: named constants, as a C enum."""
    if stmt.decorators:
        raise error("an IntEnum class takes no decorator", stmt.decorators[0])
    if len(stmt.bases) != 1:
        raise error("an IntEnum class has IntEnum as its only base", stmt.bases[-1])
    members: dict[str, int] = {}
    for item in stmt.body:
        if isinstance(item, A.Pass) or (isinstance(item, A.ExprStmt)
                                        and isinstance(item.value, A.StrLit)):
            continue
        if not (isinstance(item, A.Assign) and isinstance(item.target, A.Name)):
            raise error("an IntEnum class holds only members with their values, e.g. "
                        "`TCP = 6`", item)
        name = item.target.id
        if name in members:
            raise error(f"member '{name}' is already defined", item.target)
        ck.expr(item.value)
        if not isinstance(item.value.const, int) or not is_int(item.value.ty):
            raise error("a member's value is an integer constant, e.g. `TCP = 6`",
                        item.value)
        members[name] = int(item.value.const)
    if not members:
        raise error(f"IntEnum class '{stmt.name}' has no members", stmt)
    ck.bind(stmt.name, EnumSym(stmt.name, members), stmt)


def struct_def(ck: Checker, stmt: A.ClassDef) -> None:
    if not any(isinstance(d, A.Name) and isinstance(ck.scope.get(d.id), StructDecoratorSym)
               for d in stmt.decorators):
        raise error(f"class '{stmt.name}' must be decorated with @struct: classes are "
                    "only supported as C-like structs", stmt)
    if len(stmt.decorators) != 1:
        raise error("@struct must be the only decorator of a class", stmt.decorators[-1])
    if stmt.bases:
        raise error("a struct cannot have base classes", stmt.bases[0])
    btf_name(stmt.name, stmt.name_pos, "struct")
    st = StructType(stmt.name)
    offset, align = 0, 1
    for item in stmt.body:
        if isinstance(item, A.ExprStmt) and isinstance(item.value, A.StrLit):
            continue
        if isinstance(item, A.Pass):
            continue
        if isinstance(item, A.FunctionDef):
            raise error("class methods are not supported: a struct holds only fields", item)
        if not isinstance(item, A.AnnAssign) or not isinstance(item.target, A.Name):
            raise error("a struct body holds only annotated fields, e.g. `count: u64`", item)
        fname = item.target.id
        btf_name(fname, item.target, "field")
        if st.field(fname):
            raise error(f"field '{fname}' is already defined", item.target)
        fty = type_names.resolve_type(ck, item.annotation, item.value)
        if not (isinstance(fty, (IntType, StructType, ArrayType)) or fty is BOOL):
            raise error(f"a struct field cannot have type {fty}", item.annotation)
        if item.value is not None:
            check_field_default(ck, fty, item.value)
        offset = (offset + fty.align - 1) // fty.align * fty.align
        st.fields.append((fname, fty, offset))
        offset += fty.size
        align = max(align, fty.align)
    if not st.fields:
        raise error(f"struct '{stmt.name}' has no fields", stmt)
    st.size_ = (offset + align - 1) // align * align
    st.align_ = align
    ck.bind(stmt.name, TypeSym(st), stmt)
    ck.structs.append(st)


def check_field_default(ck: Checker, fty: Type, value: A.Expr) -> None:
    """Defaults only document the zero a struct starts with."""
    if isinstance(fty, ArrayType):
        init = type_names.array_initializer(ck, fty, value, constant=True)
        if not all_zero(init):
            raise error("a struct field starts as zero; its default may only be zero", value)
        return
    ck.expr(value)
    if value.const is None or value.const not in (0, False):
        raise error("a struct field starts as zero; its default may only be zero", value)


# -------------------------------------------------------------- functions

# What a hook's return statements are checked as, by its return convention
# (a verdict of 0 or 1 is a bool; an action may be any of its values).
HOOK_RETURN_TYPES = {"bytes": U32, "action": I32, "value": U32}


def declare_function(ck: Checker, node: A.FunctionDef) -> FuncSym:
    fn = FuncSym(node)
    if node.unsupported:
        raise error(f"{node.unsupported} is not supported", node.unsupported_pos or node.pos)
    for dec in node.decorators:
        called = dec.func if isinstance(dec, A.Call) else dec
        sym = ck.scope.get(called.id) if isinstance(called, A.Name) else None
        if not isinstance(sym, HookDecoratorSym):
            raise error("unknown decorator: a function takes one hook decorator such as "
                        "@cgroup_sysctl, or none for a helper function", dec,
                        note=hooks_note(""))
        if fn.hook is not None:
            raise error("a function can be only one hook", dec)
        fn.hook = hook_targets.targeted_hook(sym.hook, dec)
    ck.bind(node.name, fn, node.name_pos)
    ck.functions.append(fn)
    return fn


def function_signature(ck: Checker, fn: FuncSym) -> None:
    node = fn.node
    names = set()
    for arg in node.args:
        if arg.name in names:
            raise error(f"duplicate parameter '{arg.name}'", arg)
        names.add(arg.name)
        if arg.annotation is None:
            raise error(f"parameter '{arg.name}' needs a type annotation", arg)
        if type_names.names_array_type(ck, arg.annotation):
            raise error("a list or bytearray parameter is not supported", arg.annotation,
                        note=PARAMETER_NOTE)
        ty = type_names.resolve_type(ck, arg.annotation, None)
        if isinstance(ty, ArrayType):
            raise error("a list or bytearray parameter is not supported", arg.annotation,
                        note=PARAMETER_NOTE)
        fn.params.append(LocalVar(arg.name, ty, arg.pos, is_param=True))
    if node.returns is None:
        raise error(f"function '{node.name}' needs a return annotation (`-> int`, "
                    "`-> u32`, `-> None`, ...)", node.name_pos)
    if fn.hook is not None:
        tracepoint_types.accept_typed_context(fn)
        ctx_name = fn.hook.context.python_name
        if (len(fn.params) != 1 or not isinstance(fn.params[0].ty, ContextType)
                or fn.params[0].ty.context.python_name != ctx_name):
            where = node.args[0] if node.args else node.name_pos
            raise error(f"a @{fn.hook.decorator} hook takes exactly one argument of "
                        f"type {ctx_name}", where)
        # A tracepoint's context is the one its decorator named.
        fn.params[0].ty = ContextType(fn.hook.context)
        if not (isinstance(node.returns, A.Name) and node.returns.id in ("int", "bool")):
            raise error("a hook returns int: write `-> int`", node.returns)
        fn.ret = HOOK_RETURN_TYPES.get(fn.hook.returns.kind, BOOL)
    else:
        if type_names.names_array_type(ck, node.returns):
            raise error("a function can return only integers, bool or None", node.returns)
        fn.ret = type_names.resolve_type(ck, node.returns, None)
        if isinstance(fn.ret, (ArrayType, StructType, ContextType)):
            raise error("a function can return only integers, bool or None", node.returns)
        for p in fn.params:
            if isinstance(p.ty, ContextType):
                raise error("a helper function cannot take the context: read its "
                            "fields in the hook and pass the values", p.pos)
    for p in fn.params:
        fn.locals[p.name] = p


def function_body(ck: Checker, fn: FuncSym) -> None:
    ck.func = fn
    ck.loop_depth = 0
    ck.nonnull = set()
    ck.stale = {}
    ck.block(fn.node.body)
    access.read_parts(fn)
    if not narrowing.always_returns(fn.node.body) and fn.ret is not NONE:
        what = "a verdict" if fn.hook and fn.hook.returns.kind == "verdict" else "a value"
        raise error(f"function '{fn.name}' can reach the end of its body without "
                    f"returning {what}", fn.node.name_pos)
    ck.func = None


def reject_recursion(functions: list[FuncSym]) -> None:
    """No function reaches itself through calls (a depth-first walk over
    the call graph, without Python recursion: a chain of calls may be as
    long as the program)."""
    done: set[int] = set()
    for root in functions:
        if id(root) in done:
            continue
        path: list[FuncSym] = [root]
        on_path = {id(root)}
        pending = [iter(root.calls)]
        while pending:
            step = next(pending[-1], None)
            if step is None:
                pending.pop()
                finished = path.pop()
                on_path.discard(id(finished))
                done.add(id(finished))
                continue
            callee, call = step
            if id(callee) in on_path:
                cycle = path[path.index(callee):]
                chain = " -> ".join(f.name for f in cycle + [callee])
                raise error(f"recursion is not supported ({chain}): BPF programs "
                            "cannot call themselves", call)
            if id(callee) not in done:
                path.append(callee)
                on_path.add(id(callee))
                pending.append(iter(callee.calls))


def reject_object_name_clashes(ck: Checker) -> None:
    """A function, global or map takes its name as a symbol of the object,
    which must not be the name of one of the object's sections (the
    assembler refuses the pair) or of the license symbol."""
    taken = {LICENSE_SYMBOL: "the symbol of the program's LICENSE string",
             LICENSE_SECTION: "the section that holds the program's LICENSE string"}
    for fn in ck.functions:
        if fn.hook is not None and fn.hook.section.isidentifier():
            taken.setdefault(fn.hook.section, f"the section of the @{fn.hook.decorator} "
                                               "hooks")
    named: Iterable[Union[FuncSym, GlobalVar, MapVar]] = [*ck.functions, *ck.globals, *ck.maps]
    for thing in named:
        why = taken.get(thing.name)
        if why is not None:
            where = thing.node.name_pos if isinstance(thing, FuncSym) else thing.pos
            raise error(f"'{thing.name}' is also the name of {why} in the object", where,
                        note="give it another name")


def reject_names_btf_refuses(ck: Checker) -> None:
    """The names the object's BTF holds besides structs': hooks, their
    parameters, globals and maps (helper functions are inlined)."""
    for fn in ck.functions:
        if fn.hook is not None:
            btf_name(fn.name, fn.node.name_pos, "hook")
            for arg in fn.node.args:
                btf_name(arg.name, arg, "parameter")
    variables: list[Union[GlobalVar, MapVar]] = [*ck.globals, *ck.maps]
    for var in variables:
        btf_name(var.name, var.pos, "map" if isinstance(var, MapVar) else "global")


def btf_name(name: str, where: Union[A.Node, A.Pos], what: str) -> None:
    """The kernel refuses an object whose BTF names anything (a type, a
    field, a function, a parameter, a variable) otherwise than with ASCII
    letters, digits and '_' (btf_name_valid_identifier): any other letter,
    in UTF-8, is bytes it does not take.  Python takes them, so here is
    where such a name is refused, rather than when the object is loaded."""
    if not name.isascii():
        raise error(f"the {what} name '{name}' is not ASCII: the kernel loads no object "
                    "whose BTF holds a name other than ASCII letters, digits and '_'", where,
                    note=f"the BTF names every struct and its fields, hook and its "
                         f"parameters, global and map; rename this {what}")
