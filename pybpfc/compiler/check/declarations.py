"""Checking declarations: module-level statements (imports, LICENSE,
constants, globals, @struct classes; maps are in :mod:`.maps`), the
annotations that name types, and functions as a whole (hook decorators,
signatures, bodies that must return, the call graph, the names the object
reserves)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Optional, Union

from ... import abi, lang
from .. import ast as A
from ..contract import BytesInit, ListInit
from ..symbols import (LICENSE_SECTION, LICENSE_SYMBOL, AnnotationSym, BuiltinSym, ConstSym,
                       ContextTypeSym, FinalSym, FuncSym, GlobalVar, HelperSym, HookDecoratorSym,
                       LocalVar, MapKindSym, MapVar, StructDecoratorSym, TypeSym, all_zero)
from ..types import (BOOL, DEFAULT_INT, NONE, PARSED_TYPES, U8, U32, UNTYPED_INT, ArrayType,
                     ContextType, IntType, StructType, Type, int_type, is_scalar)
from . import maps, narrowing, statements
from .expressions import coerce
from .state import Checker, error

if TYPE_CHECKING:
    from ..symbols import Symbol

LICENSE_NAME = "LICENSE"

# Builtins that pybpfc exports and the compiler implements itself.
PYBPFC_BUILTINS = ("htons", "ntohs", "htonl", "ntohl", "atomic_add")


def module_statement(ck: Checker, stmt: A.Stmt) -> None:
    if isinstance(stmt, A.ImportFrom):
        import_from(ck, stmt)
    elif isinstance(stmt, A.Import):
        raise error("write `from pybpfc import ...`: a program imports names only "
                    "from pybpfc and typing", stmt)
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
    for name, alias in stmt.names:
        if name == "*":
            raise error(f"`from {stmt.module} import *` is not supported: import names "
                        "one by one", stmt)
        bound = alias or name
        if stmt.module == "typing":
            if name != "Final":
                raise error(f"typing.{name} is not supported; only Final is", stmt)
            ck.bind(bound, FinalSym(), stmt)
        elif stmt.module == "pybpfc":
            ck.bind(bound, pybpfc_symbol(name, stmt), stmt)
        else:
            raise error(f"cannot import from '{stmt.module}': a program imports names "
                        "only from pybpfc and typing", stmt)


def pybpfc_symbol(name: str, stmt: A.ImportFrom) -> Symbol:
    import pybpfc
    if name not in pybpfc.__all__:
        raise error(f"pybpfc has no '{name}'", stmt)
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
    value = getattr(lang, name, None)
    if value is int:
        return TypeSym(int_type(name))
    if isinstance(value, int):
        return ConstSym(name, UNTYPED_INT, value)
    raise error(f"pybpfc.{name} cannot be used in a program", stmt)


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
    final, declared = split_final(ck, stmt.annotation)
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
        readonly, declared = split_readonly(ck, declared)
        if readonly and stmt.value is None:
            raise error(f"read-only global '{name}' needs a value (its default)", stmt)
    if stmt.value is None:
        if final:
            raise error(f"constant '{name}' needs a value", stmt)
        ty = resolve_type(ck, declared, None)
        gv = GlobalVar(name, ty, stmt.target.pos, None)
        ck.bind(name, gv, stmt.target)
        ck.globals.append(gv)
        return
    if final:
        value = const_value(ck, stmt.value)
        ty = stmt.value.ty
        if declared is not None:
            target_ty = resolve_type(ck, declared, None)
            coerce(stmt.value, target_ty, f"constant '{name}'")
            ty, value = target_ty, stmt.value.const
        ck.bind(name, ConstSym(name, ty, value), stmt.target)
        return
    ty = resolve_type(ck, declared, stmt.value)
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
        return array_initializer(ck, ty, value, constant=True)
    if isinstance(ty, StructType):
        statements.struct_constructor(ck, value, ty)
        return None
    raise error(f"a global cannot have type {ty}", value)


def struct_def(ck: Checker, stmt: A.ClassDef) -> None:
    if not any(isinstance(d, A.Name) and isinstance(ck.scope.get(d.id), StructDecoratorSym)
               for d in stmt.decorators):
        raise error(f"class '{stmt.name}' must be decorated with @struct: classes are "
                    "only supported as C-like structs", stmt)
    if len(stmt.decorators) != 1:
        raise error("@struct must be the only decorator of a class", stmt.decorators[-1])
    if stmt.bases:
        raise error("a struct cannot have base classes", stmt.bases[0])
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
        if st.field(fname):
            raise error(f"field '{fname}' is already defined", item.target)
        fty = resolve_type(ck, item.annotation, item.value)
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
        init = array_initializer(ck, fty, value, constant=True)
        if not all_zero(init):
            raise error("a struct field starts as zero; its default may only be zero", value)
        return
    ck.expr(value)
    if value.const is None or value.const not in (0, False):
        raise error("a struct field starts as zero; its default may only be zero", value)


# ------------------------------------------------------------ annotations

def resolve_type(ck: Checker, ann: Optional[A.Expr], value: Optional[A.Expr]) -> Type:
    """The type an annotation names; arrays take their length from
    ``value`` (``[0] * 4``, ``bytearray(16)``)."""
    if ann is None:
        raise error("a type annotation is needed here", value)
    if isinstance(ann, A.Name):
        sym = ck.scope.get(ann.id)
        if ann.id == "bool" and sym is None:
            return BOOL
        if isinstance(sym, BuiltinSym) and sym.name == "int":
            return DEFAULT_INT
        if isinstance(sym, BuiltinSym) and sym.name == "bytearray":
            return bytearray_type(ck, value, ann)
        if isinstance(sym, TypeSym):
            return sym.ty
        if isinstance(sym, ContextTypeSym):
            return ContextType(sym.context)
        if ann.id == "bool":
            return BOOL
        if isinstance(sym, (AnnotationSym, MapKindSym)):
            raise misplaced_annotation(ann, sym)
        if sym is None:
            raise error(f"unknown type '{ann.id}'", ann,
                        note="integer types (u8 ... u64, i8 ... i64) are imported from pybpfc")
        raise error(f"'{ann.id}' is not a type", ann)
    if isinstance(ann, A.Subscript) and isinstance(ann.value, A.Name):
        sym = ck.scope.get(ann.value.id)
        if isinstance(sym, BuiltinSym) and sym.name == "list":
            elem = resolve_type(ck, ann.index, None)
            if not is_scalar(elem):
                raise error(f"a list holds integers or bools, not {elem}", ann.index)
            return list_type(ck, elem, value, ann)
        if isinstance(sym, FinalSym):
            raise error("Final is only for module-level constants", ann)
        if isinstance(sym, (AnnotationSym, MapKindSym)):
            raise misplaced_annotation(ann, sym)
    if isinstance(ann, A.NoneLit):
        return NONE
    raise error("not a type pybpfc knows", ann)


def misplaced_annotation(ann: A.Expr, sym: Union[AnnotationSym, MapKindSym]) -> Exception:
    if isinstance(sym, MapKindSym):
        return error("maps are declared at module level, e.g. "
                     "`counts: HashMap[u32, u64] = HashMap(max_entries=64)`", ann)
    if sym.name == "ReadOnly":
        return error("ReadOnly is for module-level globals: `limit: ReadOnly[u32] = 1`", ann)
    return error("a Ref comes from a map lookup; its variable needs no annotation", ann)


def names_array_type(ck: Checker, ann: A.Expr) -> bool:
    """Whether an annotation names a list or bytearray type."""
    base = ann.value if isinstance(ann, A.Subscript) else ann
    if not isinstance(base, A.Name):
        return False
    sym = ck.scope.get(base.id)
    return isinstance(sym, BuiltinSym) and sym.name in ("list", "bytearray")


def split_final(ck: Checker, ann: A.Expr) -> tuple[bool, Optional[A.Expr]]:
    """``Final`` -> (True, None); ``Final[T]`` -> (True, T); ``T`` -> (False, T)."""
    if isinstance(ann, A.Name) and isinstance(ck.scope.get(ann.id), FinalSym):
        return True, None
    if (isinstance(ann, A.Subscript) and isinstance(ann.value, A.Name)
            and isinstance(ck.scope.get(ann.value.id), FinalSym)):
        return True, ann.index
    return False, ann


def split_readonly(ck: Checker, ann: A.Expr) -> tuple[bool, A.Expr]:
    """``ReadOnly[T]`` -> (True, T); ``T`` -> (False, T)."""
    if isinstance(ann, A.Subscript) and isinstance(ann.value, A.Name):
        sym = ck.scope.get(ann.value.id)
        if isinstance(sym, AnnotationSym) and sym.name == "ReadOnly":
            return True, ann.index
    return False, ann


# ---------------------------------------------------------------- arrays

def bytearray_type(ck: Checker, value: Optional[A.Expr], ann: A.Node) -> ArrayType:
    if value is None:
        raise error("a bytearray needs its size: write `buf: bytearray = bytearray(16)`", ann)
    return ArrayType(U8, bytearray_length(ck, value), is_bytes=True)


def bytearray_length(ck: Checker, value: A.Expr) -> int:
    """The length ``bytearray(SIZE)`` or ``bytearray(b"...")`` makes;
    records the initial bytes on ``value``."""
    if (isinstance(value, A.Call) and isinstance(value.func, A.Name)
            and ck.is_builtin(value.func, "bytearray") and len(value.args) == 1
            and not value.keywords):
        arg = value.args[0]
        ck.expr(arg)
        if isinstance(arg.const, bytes):
            if not arg.const:
                raise error("a bytearray cannot be empty", arg)
            value.resolved = BytesInit(arg.const)
            return len(arg.const)
        if isinstance(arg.const, int) and not isinstance(arg.const, bool):
            if not 1 <= arg.const <= abi.STACK_SIZE:
                raise error(f"a bytearray's size must be between 1 and {abi.STACK_SIZE} "
                            f"bytes (the BPF stack is {abi.STACK_SIZE} bytes)", arg)
            value.resolved = BytesInit(None)
            return arg.const
        raise error("bytearray() takes a constant size or a bytes literal", arg)
    raise error("a bytearray is made with bytearray(SIZE) or bytearray(b\"...\")", value)


def list_type(ck: Checker, elem: Type, value: Optional[A.Expr], ann: A.Node) -> ArrayType:
    if value is None:
        raise error("a list needs its length: write `xs: list[u32] = [0] * 4`", ann)
    if isinstance(value, A.BinOp) and value.op == "*" and isinstance(value.left, A.ListLit):
        ck.expr(value.right)
        count = value.right.const
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise error("a list's length must be a positive constant", value.right)
        length = len(value.left.elts) * count
    elif isinstance(value, A.ListLit):
        length = len(value.elts)
    else:
        raise error("a list is made with `[0] * N` or `[a, b, c]`", value)
    if length < 1:
        raise error("a list cannot be empty", value)
    ty = ArrayType(elem, length)
    if ty.size > abi.STACK_SIZE:
        raise error(f"this list takes {ty.size} bytes; the BPF stack has "
                    f"{abi.STACK_SIZE}", value)
    return ty


def array_initializer(ck: Checker, ty: ArrayType, value: A.Expr,
                      constant: bool) -> Union[bytes, list, None]:
    """Check an array initialiser; with ``constant``, return its values."""
    if ty.is_bytes:
        if bytearray_length(ck, value) != ty.length:
            raise error(f"expected a bytearray of {ty.length} bytes", value)
        arg = value.args[0]  # type: ignore[attr-defined]
        return arg.const if isinstance(arg.const, bytes) else None
    if isinstance(value, A.BinOp) and value.op == "*" and isinstance(value.left, A.ListLit):
        elts = value.left.elts
        ck.expr(value.right)
        repeat = value.right.const
    elif isinstance(value, A.ListLit):
        elts, repeat = value.elts, 1
    else:
        raise error("a list is made with `[0] * N` or `[a, b, c]`", value)
    if len(elts) * repeat != ty.length:
        raise error(f"expected {ty.length} elements", value)
    values = []
    elements = []
    for e in elts:
        ck.expr(e)
        element = coerce(e, ty.elem, "list element")
        if constant and e.const is None:
            raise error("a global list's elements must be constants", e)
        values.append(e.const)
        elements.append(element)
    value.ty = ty
    value.resolved = ListInit(elements, repeat)
    return values * repeat if constant else None


# -------------------------------------------------------------- functions

def declare_function(ck: Checker, node: A.FunctionDef) -> FuncSym:
    fn = FuncSym(node)
    if node.unsupported:
        raise error(f"{node.unsupported} is not supported", node.unsupported_pos or node.pos)
    for dec in node.decorators:
        sym = ck.scope.get(dec.id) if isinstance(dec, A.Name) else None
        if not isinstance(sym, HookDecoratorSym):
            raise error("unknown decorator: a function takes one hook decorator such as "
                        "@cgroup_sysctl, or none for a helper function", dec)
        if fn.hook is not None:
            raise error("a function can be only one hook", dec)
        fn.hook = sym.hook
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
        if names_array_type(ck, arg.annotation):
            raise error("a list or bytearray parameter is not supported", arg.annotation)
        ty = resolve_type(ck, arg.annotation, None)
        if isinstance(ty, ArrayType):
            raise error("a list or bytearray parameter is not supported", arg.annotation)
        fn.params.append(LocalVar(arg.name, ty, arg.pos, is_param=True))
    if node.returns is None:
        raise error(f"function '{node.name}' needs a return annotation (`-> int`, "
                    "`-> u32`, `-> None`, ...)", node.name_pos)
    if fn.hook is not None:
        ctx_name = fn.hook.context.python_name
        if (len(fn.params) != 1 or not isinstance(fn.params[0].ty, ContextType)
                or fn.params[0].ty.context is not fn.hook.context):
            where = node.args[0] if node.args else node.name_pos
            raise error(f"a @{fn.hook.decorator} hook takes exactly one argument of "
                        f"type {ctx_name}", where)
        if not (isinstance(node.returns, A.Name) and node.returns.id in ("int", "bool")):
            raise error("a hook returns int: write `-> int`", node.returns)
        fn.ret = U32 if fn.hook.returns.kind == "bytes" else BOOL
    else:
        if names_array_type(ck, node.returns):
            raise error("a function can return only integers, bool or None", node.returns)
        fn.ret = resolve_type(ck, node.returns, None)
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
    ck.block(fn.node.body)
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
