"""The checker: names, types and hook rules.

It walks the syntax tree once, resolves every name to a symbol, gives every
expression a type (inserting explicit ``Cast`` nodes where a value changes
type), folds constants, and enforces each hook's context rules from the hook
table.  Anything it does not understand is rejected by name, at its
position.  Lowering relies on what it records and never guesses a type.
"""
from __future__ import annotations

import operator
from typing import Callable, Iterator, Optional, Union

from .. import abi as hooks, lang
from ..records import field, record
from . import ast as A
from . import semantics
from .errors import CompileError, Source
from .types import (BOOL, DEFAULT_INT, NONE, PARSED_TYPES, U8, U16, U32, U64, UNTYPED_INT,
                    ArrayType, BytesLitType, ContextType, CtxArrayType, IntType, MapType,
                    RefType, SockRefType, StructType, Type, WindowType, common_int_type,
                    int_type, is_aggregate)

DEFAULT_LICENSE = "GPL"
LICENSE_NAME = "LICENSE"

# ------------------------------------------------------------------ symbols


@record(eq=False)
class LocalVar:
    name: str
    ty: Type
    pos: A.Pos
    is_param: bool = False
    # A bytearray a helper reads from a variable offset (strtoul): its stack
    # slot is followed by as many zero bytes, so that the verifier, which
    # pairs the largest offset with the largest length, sees the read fit.
    tail_room: bool = False


@record(eq=False)
class GlobalVar:
    name: str
    ty: Type
    pos: A.Pos
    init: Union[int, bool, bytes, list, None]   # None: all zero
    readonly: bool = False                      # ReadOnly[T]: set by user space, read here

    @property
    def section(self) -> str:
        if self.readonly:
            return ".rodata"
        return ".bss" if _all_zero(self.init) else ".data"


@record(eq=False)
class MapVar:
    name: str
    ty: MapType
    pos: A.Pos


@record(eq=False)
class MapKindSym:
    kind: hooks.MapKind


@record(eq=False)
class AnnotationSym:
    """``Ref`` and ``ReadOnly``: names that only appear in annotations."""
    name: str


@record(eq=False)
class MapCall:
    """What the checker found out about ``some_map.method(...)``: the map,
    the kernel helper the method calls, and its arguments by name."""
    map: MapVar
    helper: hooks.Helper
    args: dict[str, Optional[A.Expr]]


@record(eq=False)
class ConstSym:
    name: str
    ty: Type          # an IntType, BOOL, UNTYPED_INT or a BytesLitType
    value: Union[int, bool, bytes]


@record(eq=False)
class TypeSym:
    ty: Type


@record(eq=False)
class ContextTypeSym:
    context: hooks.Context


@record(eq=False)
class HookDecoratorSym:
    hook: hooks.Hook


@record(eq=False)
class StructDecoratorSym:
    pass


@record(eq=False)
class FinalSym:
    pass


@record(eq=False)
class BuiltinSym:
    name: str


@record(eq=False)
class HelperSym:
    helper: hooks.Helper


@record(eq=False)
class FuncSym:
    node: A.FunctionDef
    hook: Optional[hooks.Hook] = None
    params: list[LocalVar] = field(default_factory=list)
    ret: Type = NONE
    locals: dict[str, LocalVar] = field(default_factory=dict)
    globals_declared: set[str] = field(default_factory=set)
    globals_used: set[str] = field(default_factory=set)
    calls: list[tuple["FuncSym", A.Call]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.node.name


Symbol = Union[LocalVar, GlobalVar, ConstSym, TypeSym, ContextTypeSym, HookDecoratorSym,
               StructDecoratorSym, FinalSym, BuiltinSym, FuncSym, HelperSym, MapVar, MapKindSym,
               AnnotationSym]

# Names every program has without importing them (Python's builtins we support).
BUILTINS = ("range", "len", "bytearray", "int", "bool", "min", "max", "list", "print")
# Builtins that pybpfc exports and the compiler implements itself.
PYBPFC_BUILTINS = ("htons", "ntohs", "htonl", "ntohl", "atomic_add")

# ``ctx.load_u8(offset)`` and friends: packet loads (socket filters).
PACKET_LOADS = {"load_u8": U8, "load_u16": U16, "load_u32": U32}

# Python's own meaning of each operator on untyped integer constants (the
# checker has refused a zero divisor before folding).
UNTYPED_FOLDS: dict[str, Callable[[int, int], int]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "//": operator.floordiv,
    "%": operator.mod, "&": operator.and_, "|": operator.or_, "^": operator.xor,
    "<<": operator.lshift, ">>": operator.rshift,
}
BYTE_ORDER_WIDTH = {"htons": U16, "ntohs": U16, "htonl": U32, "ntohl": U32}

# What ``ctx.optval.<method>`` reads or writes: method -> (type, is_write).
WINDOW_METHODS = {
    "u16": (U16, False), "u32": (U32, False), "u64": (int_type("u64"), False),
    "set_u16": (U16, True), "set_u32": (U32, True), "set_u64": (int_type("u64"), True),
}


@record
class CheckedProgram:
    """Everything lowering needs, with every expression typed."""
    source: Source
    module: A.Module
    license: str
    globals: list[GlobalVar]
    structs: list[StructType]
    functions: list[FuncSym]       # hooks and helpers, in source order
    maps: list[MapVar] = field(default_factory=list)

    @property
    def hooks(self) -> list[FuncSym]:
        return [f for f in self.functions if f.hook is not None]


def _all_zero(init: object) -> bool:
    if init is None or init is False or init == 0:
        return True
    if isinstance(init, bytes):
        return not any(init)
    if isinstance(init, list):
        return all(_all_zero(v) for v in init)
    return False


def _error(message: str, node: Union[A.Node, A.Pos, None], note: Optional[str] = None) -> CompileError:
    pos = node.pos if isinstance(node, A.Node) else node
    return CompileError(message, pos, note=note)


# ------------------------------------------------------------------ checker


class Checker:
    def __init__(self, source: Source, module: A.Module):
        self.source = source
        self.module = module
        self.scope: dict[str, Symbol] = {name: BuiltinSym(name) for name in BUILTINS}
        self.globals: list[GlobalVar] = []
        self.structs: list[StructType] = []
        self.functions: list[FuncSym] = []
        self.maps: list[MapVar] = []
        self.license = DEFAULT_LICENSE
        self.func: Optional[FuncSym] = None
        self.loop_depth = 0
        # Local references (map lookups) proven not None where the walk is.
        self.nonnull: set[str] = set()
        # Loop variables of enclosing `for ... in range(<constants>)` loops
        # that their body never assigns: name -> (smallest, largest value).
        self.loop_ranges: dict[str, tuple[int, int]] = {}

    # ------------------------------------------------------------ module

    def check(self) -> CheckedProgram:
        deferred: list[FuncSym] = []
        for stmt in self.module.body:
            if isinstance(stmt, A.FunctionDef):
                deferred.append(self.declare_function(stmt))
            else:
                self.module_statement(stmt)
        # Functions may call functions defined after them, as in Python.
        for fn in deferred:
            self.function_signature(fn)
        for fn in deferred:
            self.function_body(fn)
        self.reject_recursion()
        for fn in self.functions:
            if fn.hook is not None:
                self.check_stack(fn)
        if not any(f.hook for f in self.functions):
            raise CompileError("the program defines no hook: decorate a function with a hook "
                               "decorator such as @cgroup_sysctl", None,
                               note="hook decorators: " + ", ".join(
                                   h.decorator for h in hooks.HOOKS))
        return CheckedProgram(self.source, self.module, self.license, self.globals,
                              self.structs, self.functions, self.maps)

    def bind(self, name: str, symbol: Symbol, node: A.Node | A.Pos) -> None:
        if name in self.scope and not isinstance(self.scope[name], BuiltinSym):
            raise _error(f"'{name}' is already defined", node)
        self.scope[name] = symbol

    def module_statement(self, stmt: A.Stmt) -> None:
        if isinstance(stmt, A.ImportFrom):
            self.import_from(stmt)
        elif isinstance(stmt, A.Import):
            raise _error("write `from pybpfc import ...`: a program imports names only "
                         "from pybpfc and typing", stmt)
        elif isinstance(stmt, A.ClassDef):
            self.struct_def(stmt)
        elif isinstance(stmt, A.AnnAssign):
            self.module_annassign(stmt)
        elif isinstance(stmt, A.Assign):
            if isinstance(stmt.target, A.Name) and stmt.target.id == LICENSE_NAME:
                self.set_license(stmt.value)
            else:
                raise _error("a module-level variable needs a type: write `name: u32 = 0` "
                             "for a global, or `NAME: Final = 0` for a constant", stmt)
        elif isinstance(stmt, A.ExprStmt) and isinstance(stmt.value, A.StrLit):
            pass  # docstring
        elif isinstance(stmt, A.Pass):
            pass
        elif isinstance(stmt, A.UnsupportedStmt):
            raise _error(f"{stmt.what} is not supported", stmt)
        else:
            raise _error("only imports, constants, globals, @struct classes and functions "
                         "may stand at module level; other module-level code is never run",
                         stmt)

    def import_from(self, stmt: A.ImportFrom) -> None:
        if stmt.module == "__future__":
            return
        for name, alias in stmt.names:
            if name == "*":
                raise _error(f"`from {stmt.module} import *` is not supported: import names "
                             "one by one", stmt)
            bound = alias or name
            if stmt.module == "typing":
                if name != "Final":
                    raise _error(f"typing.{name} is not supported; only Final is", stmt)
                self.bind(bound, FinalSym(), stmt)
            elif stmt.module == "pybpfc":
                self.bind(bound, self.pybpfc_symbol(name, stmt), stmt)
            else:
                raise _error(f"cannot import from '{stmt.module}': a program imports names "
                             "only from pybpfc and typing", stmt)

    def pybpfc_symbol(self, name: str, stmt: A.ImportFrom) -> Symbol:
        import pybpfc
        if name not in pybpfc.__all__:
            raise _error(f"pybpfc has no '{name}'", stmt)
        if name in hooks.HOOKS_BY_DECORATOR:
            return HookDecoratorSym(hooks.HOOKS_BY_DECORATOR[name])
        if name in hooks.CONTEXTS_BY_PYTHON_NAME:
            return ContextTypeSym(hooks.CONTEXTS_BY_PYTHON_NAME[name])
        if name == "struct":
            return StructDecoratorSym()
        if name in PYBPFC_BUILTINS:
            return BuiltinSym(name)
        if name in hooks.HELPERS:
            return HelperSym(hooks.HELPERS[name])
        if name in hooks.MAP_KINDS:
            return MapKindSym(hooks.MAP_KINDS[name])
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
        raise _error(f"pybpfc.{name} cannot be used in a program", stmt)

    def set_license(self, value: A.Expr) -> None:
        if not isinstance(value, A.StrLit):
            raise _error("LICENSE must be a string literal, e.g. \"GPL\"", value)
        if not value.value or "\0" in value.value:
            raise _error("LICENSE must be a non-empty string without NUL characters", value)
        self.license = value.value

    def module_annassign(self, stmt: A.AnnAssign) -> None:
        if not isinstance(stmt.target, A.Name):
            raise _error("only a plain name can be declared at module level", stmt.target)
        name = stmt.target.id
        final, declared = self.split_final(stmt.annotation)
        if name == LICENSE_NAME:
            if stmt.value is None:
                raise _error("LICENSE needs a value", stmt)
            self.set_license(stmt.value)
            return
        declared_map = self.map_annotation(stmt.annotation)
        if declared_map is not None:
            self.map_declaration(stmt, name, *declared_map)
            return
        readonly = False
        if not final and declared is not None:
            readonly, declared = self.split_readonly(declared)
            if readonly and stmt.value is None:
                raise _error(f"read-only global '{name}' needs a value (its default)", stmt)
        if stmt.value is None:
            if final:
                raise _error(f"constant '{name}' needs a value", stmt)
            ty = self.resolve_type(declared, None)
            gv = GlobalVar(name, ty, stmt.pos, None)
            self.bind(name, gv, stmt.target)
            self.globals.append(gv)
            return
        if final:
            value = self.const_value(stmt.value)
            ty = stmt.value.ty
            if declared is not None:
                target_ty = self.resolve_type(declared, None)
                self.coerce(stmt.value, target_ty, f"constant '{name}'")
                ty, value = target_ty, stmt.value.const
            self.bind(name, ConstSym(name, ty, value), stmt.target)
            return
        ty = self.resolve_type(declared, stmt.value)
        init = self.global_initializer(ty, stmt.value, name)
        gv = GlobalVar(name, ty, stmt.pos, init, readonly=readonly)
        self.bind(name, gv, stmt.target)
        self.globals.append(gv)

    def split_readonly(self, ann: A.Expr) -> tuple[bool, A.Expr]:
        """``ReadOnly[T]`` -> (True, T); ``T`` -> (False, T)."""
        if isinstance(ann, A.Subscript) and isinstance(ann.value, A.Name):
            sym = self.scope.get(ann.value.id)
            if isinstance(sym, AnnotationSym) and sym.name == "ReadOnly":
                return True, ann.index
        return False, ann

    # ------------------------------------------------------------- maps

    def map_annotation(self, ann: A.Expr) -> Optional[tuple[hooks.MapKind, list[A.Expr]]]:
        """``HashMap[K, V]`` -> (HashMap's kind, [K, V]); None when ``ann``
        does not name a map."""
        base, params = ann, []
        if isinstance(ann, A.Subscript):
            base = ann.value
            index = ann.index
            params = index.parts if (isinstance(index, A.Unsupported)
                                     and index.what == "tuple") else [index]
        sym = self.scope.get(base.id) if isinstance(base, A.Name) else None
        if not isinstance(sym, MapKindSym):
            return None
        return sym.kind, params

    def map_declaration(self, stmt: A.AnnAssign, name: str, kind: hooks.MapKind,
                        params: list[A.Expr]) -> None:
        wanted = (["K"] if kind.key == "declared" else []) + (["V"] if kind.has_value else [])
        spelled = kind.python_name + (f"[{', '.join(wanted)}]" if wanted else "")
        if len(params) != len(wanted):
            raise _error(f"declare a {kind.python_name} as {spelled}", stmt.annotation)
        key = self.map_element_type(params[0], "key") if kind.key == "declared" else None
        value = self.map_element_type(params[-1], "value") if kind.has_value else None
        call = stmt.value
        if not (isinstance(call, A.Call) and isinstance(call.func, A.Name)
                and isinstance(self.scope.get(call.func.id), MapKindSym)
                and self.scope[call.func.id].kind is kind):  # type: ignore[union-attr]
            raise _error(f"a {kind.python_name} is made with {kind.python_name}("
                         + ", ".join(f"{o}=..." for o in kind.options) + ")",
                         call or stmt)
        options = self.map_options(call, kind)
        max_entries = options.get("max_entries", 0)
        if kind.fixed_max_entries is not None:
            max_entries = kind.fixed_max_entries
        flags = kind.map_flags
        if options.get("no_prealloc"):
            flags |= hooks.BPF_F_NO_PREALLOC
        if options.get("clone"):
            flags |= hooks.BPF_F_CLONE
        mv = MapVar(name, MapType(name, kind, key, value, max_entries, flags), stmt.pos)
        self.bind(name, mv, stmt.target)
        self.maps.append(mv)

    def map_element_type(self, ann: A.Expr, role: str) -> Type:
        if self.names_array_type(ann):
            raise _error(f"a map's {role} is an integer type or a @struct", ann)
        ty = self.resolve_type(ann, None)
        if not isinstance(ty, (IntType, StructType)):
            raise _error(f"a map's {role} is an integer type or a @struct, not {ty}", ann)
        return ty

    def map_options(self, call: A.Call, kind: hooks.MapKind) -> dict[str, int]:
        if len(call.args) > len(kind.options):
            raise _error(f"{kind.python_name}() takes " + (
                ", ".join(kind.options) if kind.options else "no arguments"), call)
        given = list(zip(kind.options, call.args)) + [(k.name, k.value) for k in call.keywords]
        options: dict[str, int] = {}
        for option, value in given:
            if option not in kind.options:
                raise _error(f"{kind.python_name}() has no option '{option}'", value,
                             note="options: " + (", ".join(kind.options) or "none"))
            if option in options:
                raise _error(f"'{option}' is given twice", value)
            self.expr(value)
            if option == "max_entries":
                options[option] = self.max_entries(value, kind)
            else:
                if not isinstance(value.const, bool):
                    raise _error(f"'{option}' is True or False", value)
                options[option] = int(value.const)
        if "max_entries" in kind.options and "max_entries" not in options:
            raise _error(f"{kind.python_name}() needs max_entries", call)
        return options

    def max_entries(self, value: A.Expr, kind: hooks.MapKind) -> int:
        n = value.const
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= U32.max:
            raise _error("max_entries must be a constant between 1 and 4294967295", value)
        if kind.key == "none":
            if n % hooks.PAGE_SIZE or n & (n - 1):
                raise _error(f"a RingBuf's size must be a power of 2 and a multiple of "
                             f"{hooks.PAGE_SIZE} bytes", value)
        return n

    def split_final(self, ann: A.Expr) -> tuple[bool, Optional[A.Expr]]:
        """``Final`` -> (True, None); ``Final[T]`` -> (True, T); ``T`` -> (False, T)."""
        if isinstance(ann, A.Name) and isinstance(self.scope.get(ann.id), FinalSym):
            return True, None
        if (isinstance(ann, A.Subscript) and isinstance(ann.value, A.Name)
                and isinstance(self.scope.get(ann.value.id), FinalSym)):
            return True, ann.index
        return False, ann

    def const_value(self, expr: A.Expr) -> Union[int, bool, bytes]:
        self.expr(expr)
        if expr.const is None:
            raise _error("a constant needs a value known at compile time", expr)
        return expr.const

    def global_initializer(self, ty: Type, value: A.Expr, name: str) -> Union[int, bool, bytes, list, None]:
        if isinstance(ty, (IntType,)) or ty is BOOL:
            self.expr(value)
            self.coerce(value, ty, f"global '{name}'")
            if value.const is None:
                raise _error("a global's initial value must be known at compile time", value)
            return value.const
        if isinstance(ty, ArrayType):
            return self.array_initializer(ty, value, constant=True)
        if isinstance(ty, StructType):
            self.struct_constructor(value, ty)
            return None
        raise _error(f"a global cannot have type {ty}", value)

    # ---------------------------------------------------------- structs

    def struct_def(self, stmt: A.ClassDef) -> None:
        if not any(isinstance(d, A.Name) and isinstance(self.scope.get(d.id), StructDecoratorSym)
                   for d in stmt.decorators):
            raise _error(f"class '{stmt.name}' must be decorated with @struct: classes are "
                         "only supported as C-like structs", stmt)
        if len(stmt.decorators) != 1:
            raise _error("@struct must be the only decorator of a class", stmt.decorators[-1])
        if stmt.bases:
            raise _error("a struct cannot have base classes", stmt.bases[0])
        st = StructType(stmt.name)
        offset, align = 0, 1
        for item in stmt.body:
            if isinstance(item, A.ExprStmt) and isinstance(item.value, A.StrLit):
                continue
            if isinstance(item, A.Pass):
                continue
            if isinstance(item, A.FunctionDef):
                raise _error("class methods are not supported: a struct holds only fields",
                             item)
            if not isinstance(item, A.AnnAssign) or not isinstance(item.target, A.Name):
                raise _error("a struct body holds only annotated fields, e.g. `count: u64`",
                             item)
            fname = item.target.id
            if st.field(fname):
                raise _error(f"field '{fname}' is already defined", item.target)
            fty = self.resolve_type(item.annotation, item.value)
            if isinstance(fty, (IntType, StructType, ArrayType)) or fty is BOOL:
                pass
            else:
                raise _error(f"a struct field cannot have type {fty}", item.annotation)
            if item.value is not None:
                self.check_field_default(fty, item.value)
            offset = (offset + fty.align - 1) // fty.align * fty.align
            st.fields.append((fname, fty, offset))
            offset += fty.size
            align = max(align, fty.align)
        if not st.fields:
            raise _error(f"struct '{stmt.name}' has no fields", stmt)
        st.size_ = (offset + align - 1) // align * align
        st.align_ = align
        self.bind(stmt.name, TypeSym(st), stmt)
        self.structs.append(st)

    def check_field_default(self, fty: Type, value: A.Expr) -> None:
        """Defaults only document the zero a struct starts with."""
        if isinstance(fty, ArrayType):
            init = self.array_initializer(fty, value, constant=True)
            if not _all_zero(init):
                raise _error("a struct field starts as zero; its default may only be zero",
                             value)
            return
        self.expr(value)
        if value.const is None or value.const not in (0, False):
            raise _error("a struct field starts as zero; its default may only be zero", value)

    # ------------------------------------------------------------ types

    def resolve_type(self, ann: Optional[A.Expr], value: Optional[A.Expr]) -> Type:
        """The type an annotation names; arrays take their length from
        ``value`` (``[0] * 4``, ``bytearray(16)``)."""
        if ann is None:
            raise _error("a type annotation is needed here", value)
        if isinstance(ann, A.Name):
            sym = self.scope.get(ann.id)
            if ann.id == "bool" and sym is None:
                return BOOL
            if isinstance(sym, BuiltinSym) and sym.name == "int":
                return DEFAULT_INT
            if isinstance(sym, BuiltinSym) and sym.name == "bytearray":
                return self.bytearray_type(value, ann)
            if isinstance(sym, TypeSym):
                return sym.ty
            if isinstance(sym, ContextTypeSym):
                return ContextType(sym.context)
            if ann.id == "bool":
                return BOOL
            if isinstance(sym, (AnnotationSym, MapKindSym)):
                raise self.misplaced_annotation(ann, sym)
            if sym is None:
                raise _error(f"unknown type '{ann.id}'", ann,
                             note="integer types (u8 ... u64, i8 ... i64) are imported from pybpfc")
            raise _error(f"'{ann.id}' is not a type", ann)
        if isinstance(ann, A.Subscript) and isinstance(ann.value, A.Name):
            sym = self.scope.get(ann.value.id)
            if isinstance(sym, BuiltinSym) and sym.name == "list":
                elem = self.resolve_type(ann.index, None)
                if not isinstance(elem, IntType) and elem is not BOOL:
                    raise _error(f"a list holds integers or bools, not {elem}", ann.index)
                return self.list_type(elem, value, ann)
            if isinstance(sym, FinalSym):
                raise _error("Final is only for module-level constants", ann)
            if isinstance(sym, (AnnotationSym, MapKindSym)):
                raise self.misplaced_annotation(ann, sym)
        if isinstance(ann, A.NoneLit):
            return NONE
        raise _error("not a type pybpfc knows", ann)

    @staticmethod
    def misplaced_annotation(ann: A.Expr, sym: Union[AnnotationSym, MapKindSym]) -> CompileError:
        if isinstance(sym, MapKindSym):
            return _error("maps are declared at module level, e.g. "
                          "`counts: HashMap[u32, u64] = HashMap(max_entries=64)`", ann)
        if sym.name == "ReadOnly":
            return _error("ReadOnly is for module-level globals: `limit: ReadOnly[u32] = 1`",
                          ann)
        return _error("a Ref comes from a map lookup; its variable needs no annotation", ann)

    def names_array_type(self, ann: A.Expr) -> bool:
        """Whether an annotation names a list or bytearray type."""
        base = ann.value if isinstance(ann, A.Subscript) else ann
        if not isinstance(base, A.Name):
            return False
        sym = self.scope.get(base.id)
        return isinstance(sym, BuiltinSym) and sym.name in ("list", "bytearray")

    def bytearray_type(self, value: Optional[A.Expr], ann: A.Node) -> ArrayType:
        if value is None:
            raise _error("a bytearray needs its size: write `buf: bytearray = bytearray(16)`", ann)
        length = self.bytearray_length(value)
        return ArrayType(U8, length, is_bytes=True)

    def bytearray_length(self, value: A.Expr) -> int:
        if (isinstance(value, A.Call) and isinstance(value.func, A.Name)
                and self.is_builtin(value.func, "bytearray") and len(value.args) == 1
                and not value.keywords):
            arg = value.args[0]
            self.expr(arg)
            if isinstance(arg.const, bytes):
                return max(len(arg.const), 1) if arg.const else self._bad_len(arg)
            if isinstance(arg.const, int) and not isinstance(arg.const, bool):
                if not 1 <= arg.const <= hooks.STACK_SIZE:
                    raise _error(f"a bytearray's size must be between 1 and {hooks.STACK_SIZE} "
                                 f"bytes (the BPF stack is {hooks.STACK_SIZE} bytes)", arg)
                return arg.const
            raise _error("bytearray() takes a constant size or a bytes literal", arg)
        raise _error("a bytearray is made with bytearray(SIZE) or bytearray(b\"...\")", value)

    @staticmethod
    def _bad_len(arg: A.Expr) -> int:
        raise _error("a bytearray cannot be empty", arg)

    def list_type(self, elem: Type, value: Optional[A.Expr], ann: A.Node) -> ArrayType:
        if value is None:
            raise _error("a list needs its length: write `xs: list[u32] = [0] * 4`", ann)
        if isinstance(value, A.BinOp) and value.op == "*" and isinstance(value.left, A.ListLit):
            self.expr(value.right)
            count = value.right.const
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                raise _error("a list's length must be a positive constant", value.right)
            length = len(value.left.elts) * count
        elif isinstance(value, A.ListLit):
            length = len(value.elts)
        else:
            raise _error("a list is made with `[0] * N` or `[a, b, c]`", value)
        if length < 1:
            raise _error("a list cannot be empty", value)
        ty = ArrayType(elem, length)
        if ty.size > hooks.STACK_SIZE:
            raise _error(f"this list takes {ty.size} bytes; the BPF stack has "
                         f"{hooks.STACK_SIZE}", value)
        return ty

    def array_initializer(self, ty: ArrayType, value: A.Expr, constant: bool) -> Union[bytes, list, None]:
        """Check an array initialiser; with ``constant``, return its values."""
        if ty.is_bytes:
            if self.bytearray_length(value) != ty.length:
                raise _error(f"expected a bytearray of {ty.length} bytes", value)
            arg = value.args[0]  # type: ignore[attr-defined]
            return arg.const if isinstance(arg.const, bytes) else None
        if isinstance(value, A.BinOp) and value.op == "*" and isinstance(value.left, A.ListLit):
            elts = value.left.elts
            self.expr(value.right)
            repeat = value.right.const
        elif isinstance(value, A.ListLit):
            elts, repeat = value.elts, 1
        else:
            raise _error("a list is made with `[0] * N` or `[a, b, c]`", value)
        if len(elts) * repeat != ty.length:
            raise _error(f"expected {ty.length} elements", value)
        values = []
        for e in elts:
            self.expr(e)
            self.coerce(e, ty.elem, "list element")
            if constant and e.const is None:
                raise _error("a global list's elements must be constants", e)
            values.append(e.const)
        value.ty = ty
        return values * repeat if constant else None

    # --------------------------------------------------------- functions

    def declare_function(self, node: A.FunctionDef) -> FuncSym:
        fn = FuncSym(node)
        if node.unsupported:
            raise _error(f"{node.unsupported} is not supported", node.unsupported_pos or node.pos)
        for dec in node.decorators:
            sym = self.scope.get(dec.id) if isinstance(dec, A.Name) else None
            if not isinstance(sym, HookDecoratorSym):
                raise _error("unknown decorator: a function takes one hook decorator such as "
                             "@cgroup_sysctl, or none for a helper function", dec)
            if fn.hook is not None:
                raise _error("a function can be only one hook", dec)
            fn.hook = sym.hook
        self.bind(node.name, fn, node.name_pos)
        self.functions.append(fn)
        return fn

    def function_signature(self, fn: FuncSym) -> None:
        node = fn.node
        names = set()
        for arg in node.args:
            if arg.name in names:
                raise _error(f"duplicate parameter '{arg.name}'", arg)
            names.add(arg.name)
            if arg.annotation is None:
                raise _error(f"parameter '{arg.name}' needs a type annotation", arg)
            if self.names_array_type(arg.annotation):
                raise _error("a list or bytearray parameter is not supported",
                             arg.annotation)
            ty = self.resolve_type(arg.annotation, None)
            if isinstance(ty, ArrayType):
                raise _error("a list or bytearray parameter is not supported", arg.annotation)
            fn.params.append(LocalVar(arg.name, ty, arg.pos, is_param=True))
        if node.returns is None:
            raise _error(f"function '{node.name}' needs a return annotation (`-> int`, "
                         "`-> u32`, `-> None`, ...)", node.name_pos)
        if fn.hook is not None:
            ctx_name = fn.hook.context.python_name
            if (len(fn.params) != 1 or not isinstance(fn.params[0].ty, ContextType)
                    or fn.params[0].ty.context is not fn.hook.context):
                where = node.args[0] if node.args else node.name_pos
                raise _error(f"a @{fn.hook.decorator} hook takes exactly one argument of "
                             f"type {ctx_name}", where)
            if not (isinstance(node.returns, A.Name) and node.returns.id in ("int", "bool")):
                raise _error("a hook returns int: write `-> int`", node.returns)
            fn.ret = U32 if fn.hook.returns.kind == "bytes" else BOOL
        else:
            if self.names_array_type(node.returns):
                raise _error("a function can return only integers, bool or None",
                             node.returns)
            fn.ret = self.resolve_type(node.returns, None)
            if isinstance(fn.ret, (ArrayType, StructType, ContextType)):
                raise _error("a function can return only integers, bool or None", node.returns)
            for p in fn.params:
                if isinstance(p.ty, ContextType):
                    raise _error("a helper function cannot take the context: read its "
                                 "fields in the hook and pass the values", p.pos)
        for p in fn.params:
            fn.locals[p.name] = p

    def function_body(self, fn: FuncSym) -> None:
        self.func = fn
        self.loop_depth = 0
        self.nonnull = set()
        self.block(fn.node.body)
        if not always_returns(fn.node.body) and fn.ret is not NONE:
            what = "a verdict" if fn.hook and fn.hook.returns.kind == "verdict" else "a value"
            raise _error(f"function '{fn.name}' can reach the end of its body without "
                         f"returning {what}", fn.node.name_pos)
        self.func = None

    def check_stack(self, hook: FuncSym) -> None:
        """A hook's structs, lists and bytearrays, with those of the helper
        functions inlined into it, must fit the 512-byte BPF stack (LLVM
        would otherwise stop with an error of its own)."""
        def need(fn: FuncSym) -> int:
            own = sum((v.ty.size * (2 if v.tail_room else 1) + 7) // 8 * 8
                      for v in fn.locals.values()
                      if not v.is_param and isinstance(v.ty, (ArrayType, StructType)))
            return own + sum(need(callee) for callee, _ in fn.calls)
        total = need(hook)
        if total > hooks.STACK_SIZE:
            raise _error(f"hook '{hook.name}' needs {total} bytes of stack for its structs, "
                         f"lists and bytearrays (helper functions included); BPF allows "
                         f"{hooks.STACK_SIZE}", hook.node.name_pos,
                         note="a large buffer can live in a map instead, e.g. a "
                              "PerCpuArrayMap with one entry")

    def reject_recursion(self) -> None:
        visiting: list[FuncSym] = []
        done: set[int] = set()

        def visit(fn: FuncSym) -> None:
            visiting.append(fn)
            for callee, call in fn.calls:
                if callee in visiting:
                    cycle = visiting[visiting.index(callee):]
                    path = " -> ".join(f.name for f in cycle + [callee])
                    raise _error(f"recursion is not supported ({path}): BPF programs "
                                 "cannot call themselves", call)
                if id(callee) not in done:
                    visit(callee)
            visiting.pop()
            done.add(id(fn))

        for fn in self.functions:
            if id(fn) not in done:
                visit(fn)

    # -------------------------------------------------------- statements

    def block(self, stmts: list[A.Stmt]) -> None:
        for s in stmts:
            self.stmt(s)

    def stmt(self, s: A.Stmt) -> None:
        method: Callable[[A.Stmt], None] = getattr(self, "stmt_" + type(s).__name__, None) \
            or self.stmt_unknown
        method(s)

    def stmt_unknown(self, s: A.Stmt) -> None:
        raise _error(f"{type(s).__name__} statements are not supported", s)

    def stmt_UnsupportedStmt(self, s: A.UnsupportedStmt) -> None:
        raise _error(f"{s.what} is not supported", s)

    def stmt_FunctionDef(self, s: A.FunctionDef) -> None:
        raise _error("nested functions are not supported: define helpers at module level",
                     s)

    def stmt_ClassDef(self, s: A.ClassDef) -> None:
        raise _error("classes must be defined at module level", s)

    def stmt_Import(self, s: A.Import) -> None:
        raise _error("imports belong at module level", s)

    stmt_ImportFrom = stmt_Import

    def stmt_Pass(self, s: A.Pass) -> None:
        pass

    def stmt_Break(self, s: A.Break) -> None:
        if not self.loop_depth:
            raise _error("'break' outside a loop", s)

    def stmt_Continue(self, s: A.Continue) -> None:
        if not self.loop_depth:
            raise _error("'continue' outside a loop", s)

    def stmt_Global(self, s: A.Global) -> None:
        fn = self.current()
        for name in s.names:
            sym = self.scope.get(name)
            if isinstance(sym, GlobalVar) and sym.readonly:
                raise self.readonly_error(sym, s)
            if not isinstance(sym, GlobalVar):
                if isinstance(sym, ConstSym):
                    raise _error(f"'{name}' is a constant and cannot be assigned", s)
                raise _error(f"'{name}' is not a module-level global variable", s)
            if name in fn.locals or name in fn.globals_used:
                raise _error(f"'{name}' is used before its global declaration", s,
                             note="Python requires `global` before any use of the name")
            fn.globals_declared.add(name)

    def stmt_ExprStmt(self, s: A.ExprStmt) -> None:
        if isinstance(s.value, A.StrLit):
            return  # a docstring or comment string
        if not isinstance(s.value, A.Call):
            if isinstance(s.value, A.Unsupported):
                self.expr(s.value)
            raise _error("this expression has no effect", s.value)
        self.expr(s.value, allow_none=True)

    def stmt_Return(self, s: A.Return) -> None:
        fn = self.current()
        if fn.hook is not None:
            self.hook_return(fn.hook, s)
            return
        if s.value is None or isinstance(s.value, A.NoneLit):
            if fn.ret is not NONE:
                raise _error(f"function '{fn.name}' must return {fn.ret}", s)
            return
        if fn.ret is NONE:
            raise _error(f"function '{fn.name}' is declared `-> None` and returns nothing",
                         s.value)
        self.expr(s.value)
        s.value = self.coerce(s.value, fn.ret, "return value")

    def hook_return(self, hook: hooks.Hook, s: A.Return) -> None:
        if s.value is None:
            raise _error(f"a @{hook.decorator} hook must return a value: "
                         + hook.returns.doc, s)
        self.expr(s.value)
        if hook.returns.kind == "verdict":
            allowed = {v for _, v in hook.returns.values}
            if s.value.ty is BOOL:
                return
            values = possible_values(s.value)
            if values is not None and values <= allowed:
                s.value = self.coerce_tree(s.value, U32)
                return
            names = " or ".join(f"{n} ({v})" for n, v in hook.returns.values)
            raise _error(f"a @{hook.decorator} hook returns {names}, or a bool", s.value)
        s.value = self.coerce(s.value, U32, "the number of bytes to keep")

    def stmt_If(self, s: A.If) -> None:
        s.test = self.condition(s.test)
        when_true, when_false = self.facts(s.test)
        before = set(self.nonnull)
        ends = []
        for branch, known in ((s.body, when_true), (s.orelse, when_false)):
            self.nonnull = before | known
            self.block(branch)
            if not always_leaves(branch):
                ends.append(self.nonnull)
        # After the if: what holds at the end of every branch that gets there.
        self.nonnull = set.intersection(*ends) if ends else before

    def loop_body(self, test: Optional[A.Expr], body: list[A.Stmt]) -> Optional[A.Expr]:
        """Check a loop's test and body.  A reference assigned anywhere in
        the body may be None again when the loop comes round."""
        entry = self.nonnull - assigned_names(body)
        self.nonnull = set(entry)
        if test is not None:
            test = self.condition(test)
            self.nonnull |= self.facts(test)[0]
        self.loop_depth += 1
        self.block(body)
        self.loop_depth -= 1
        self.nonnull = entry
        return test

    def stmt_While(self, s: A.While) -> None:
        if s.orelse:
            raise _error("`while ... else` is not supported", s.orelse[0])
        test = self.loop_body(s.test, s.body)
        assert test is not None
        s.test = test

    def stmt_For(self, s: A.For) -> None:
        if s.orelse:
            raise _error("`for ... else` is not supported", s.orelse[0])
        it = s.iter
        if not (isinstance(it, A.Call) and isinstance(it.func, A.Name)
                and self.is_builtin(it.func, "range")):
            raise _error("a for loop runs over range(...) only", it)
        if it.keywords or not 1 <= len(it.args) <= 3:
            raise _error("range() takes one to three arguments", it)
        for a in it.args:
            self.expr(a)
            if not (isinstance(a.ty, IntType) or a.ty is UNTYPED_INT):
                raise _error(f"range() needs integers, not {a.ty}", a)
        ty = self.unify_ints(it.args)
        it.args = [self.coerce(a, ty, "range() argument") for a in it.args]
        if len(it.args) == 3:
            if it.args[2].const is None or it.args[2].const == 0:
                raise _error("range()'s step must be a non-zero constant", it.args[2])
        it.ty = ty
        if not isinstance(s.target, A.Name):
            raise _error("a for loop's variable must be a plain name", s.target)
        self.assign_name(s.target, ty, s.target)
        saved = dict(self.loop_ranges)
        self.loop_ranges.pop(s.target.id, None)
        values = range(*[a.const for a in it.args]) \
            if all(a.const is not None for a in it.args) else range(0)
        if values and s.target.id not in assigned_names(s.body):
            self.loop_ranges[s.target.id] = (min(values[0], values[-1]),
                                             max(values[0], values[-1]))
        self.loop_body(None, s.body)
        self.loop_ranges = saved

    def stmt_Assign(self, s: A.Assign) -> None:
        t = s.target
        if isinstance(t, A.Name):
            existing = self.lookup_assignable(t)
            if existing is not None:
                self.check_aggregate_value(existing.ty, s.value)
                s.value = self.value_for(existing.ty, s.value)
                t.symbol, t.ty = existing, existing.ty
            else:
                ty = self.infer_new_local(s.value)
                self.assign_name(t, ty, s.value)
            self.note_reference(t, s.value)
            return
        self.store_target(t)
        self.expr(s.value)
        s.value = self.coerce(s.value, t.ty, "assigned value")
        self.check_write_bounds(t, s.value)

    def stmt_AnnAssign(self, s: A.AnnAssign) -> None:
        t = s.target
        if not isinstance(t, A.Name):
            raise _error("only a plain name can be annotated", t)
        ty = self.resolve_type(s.annotation, s.value)
        if isinstance(ty, ContextType):
            raise _error("a context is only a hook's argument", s.annotation)
        existing = self.lookup_assignable(t)
        if existing is not None and existing.ty != ty:
            raise _error(f"'{t.id}' was declared {existing.ty}, not {ty}", s.annotation)
        if s.value is not None:
            self.check_aggregate_value(ty, s.value)
            s.value = self.value_for(ty, s.value)
        self.assign_name(t, ty, s)
        if s.value is not None:
            self.note_reference(t, s.value)

    def note_reference(self, t: A.Name, value: A.Expr) -> None:
        """A reference variable is known not None after it is given a value
        that cannot be None, and may be None after any other."""
        if not isinstance(t.ty, RefType):
            return
        if isinstance(value.ty, RefType) and not value.ty.maybe_none:
            self.nonnull.add(t.id)
        else:
            self.nonnull.discard(t.id)

    def facts(self, test: A.Expr) -> tuple[set[str], set[str]]:
        """The reference variables known not None when ``test`` is true, and
        when it is false."""
        if isinstance(test, A.Compare) and len(test.ops) == 1 and test.ops[0] in ("is", "is not"):
            name = next((o.id for o in test.operands if isinstance(o, A.Name)), None)
            known = {name} if name else set()
            return (known, set()) if test.ops[0] == "is not" else (set(), known)
        if (isinstance(test, A.Cast) and isinstance(test.value, A.Name)
                and isinstance(test.value.ty, RefType)):
            return {test.value.id}, set()
        if isinstance(test, A.UnaryOp) and test.op == "not":
            when_true, when_false = self.facts(test.operand)
            return when_false, when_true
        if isinstance(test, A.BoolOp):
            parts = [self.facts(v) for v in test.values]
            if test.op == "and":
                return set().union(*(t for t, _ in parts)), set()
            return set(), set().union(*(f for _, f in parts))
        return set(), set()

    def stmt_AugAssign(self, s: A.AugAssign) -> None:
        t = s.target
        if isinstance(t, A.Name):
            sym = self.lookup_assignable(t)
            if sym is None:
                raise _error(f"'{t.id}' is used before it is assigned", t)
            t.symbol, t.ty = sym, sym.ty
        else:
            self.store_target(t)
            self.load_rights(t)
        if not isinstance(t.ty, IntType):
            raise _error(f"`{s.op}=` needs an integer target, not {t.ty}", t)
        self.expr(s.value)
        probe = A.BinOp(s.pos, s.op, t, s.value)
        self.binop(probe, fold=False)
        if probe.ty != t.ty:
            raise _error(f"the result is {probe.ty}, which does not fit back into "
                         f"{t.ty}", s.value, note=f"convert explicitly, e.g. {t.ty}(...)")
        s.value = probe.right

    # ------------------------------------------------------- assignment

    def current(self) -> FuncSym:
        assert self.func is not None
        return self.func

    def lookup_assignable(self, t: A.Name) -> Optional[Union[LocalVar, GlobalVar]]:
        fn = self.current()
        if t.id in fn.locals:
            var = fn.locals[t.id]
            if isinstance(var.ty, ContextType):
                raise _error(f"the context '{t.id}' cannot be reassigned", t)
            return var
        sym = self.scope.get(t.id)
        if isinstance(sym, GlobalVar):
            if sym.readonly:
                raise self.readonly_error(sym, t)
            if t.id not in fn.globals_declared:
                raise _error(f"'{t.id}' is a module global: add `global {t.id}` to the "
                             "function to assign it", t,
                             note="without it, Python would make a new local variable")
            return sym
        if isinstance(sym, ConstSym):
            raise _error(f"'{t.id}' is a constant and cannot be assigned", t)
        if isinstance(sym, MapVar):
            raise _error(f"'{t.id}' is a map and cannot be assigned; change its entries with "
                         "its methods", t)
        if sym is not None and not isinstance(sym, BuiltinSym):
            raise _error(f"'{t.id}' is not a variable", t)
        return None

    @staticmethod
    def readonly_error(gv: GlobalVar, node: Union[A.Node, A.Pos]) -> CompileError:
        return _error(f"'{gv.name}' is ReadOnly: programs only read it; user space sets it "
                      "before the object is loaded", node)

    def assign_name(self, t: A.Name, ty: Type, where: A.Node) -> None:
        fn = self.current()
        existing = fn.locals.get(t.id)
        if existing is None:
            if t.id in fn.globals_declared:
                gv = self.scope[t.id]
                assert isinstance(gv, GlobalVar)
                if gv.ty != ty:
                    raise _error(f"'{t.id}' is {gv.ty}, not {ty}", where)
                t.symbol, t.ty = gv, gv.ty
                return
            if ty is UNTYPED_INT:
                ty = DEFAULT_INT
            existing = LocalVar(t.id, ty, t.pos)
            fn.locals[t.id] = existing
        elif existing.ty != ty and not (isinstance(existing.ty, IntType) and ty is UNTYPED_INT):
            raise _error(f"'{t.id}' is {existing.ty}; it cannot hold {ty}", where)
        t.symbol, t.ty = existing, existing.ty

    def infer_new_local(self, value: A.Expr) -> Type:
        if self.is_constructor(value):
            return self.constructor_type(value)
        self.expr(value)
        if isinstance(value.ty, BytesLitType):
            raise _error("a bytes literal is constant: use bytearray(b\"...\") for a byte "
                         "buffer", value)
        if is_aggregate(value.ty):
            raise _error("assigning a struct or list would share it in Python but copy it "
                         "in BPF: build a new one and copy the fields you need", value)
        if isinstance(value.ty, RefType):
            if isinstance(value, A.Name):
                raise _error("a reference cannot be copied: use the variable that holds it",
                             value)
            return value.ty
        if value.ty is UNTYPED_INT:
            self.coerce(value, DEFAULT_INT, "value")
            return DEFAULT_INT
        if not isinstance(value.ty, IntType) and value.ty is not BOOL:
            raise _error(f"a variable cannot hold {value.ty}", value)
        return value.ty

    def is_constructor(self, value: A.Expr) -> bool:
        if isinstance(value, A.ListLit):
            return True
        if isinstance(value, A.BinOp) and value.op == "*" and isinstance(value.left, A.ListLit):
            return True
        if isinstance(value, A.Call) and isinstance(value.func, A.Name):
            sym = self.scope.get(value.func.id)
            return (isinstance(sym, TypeSym) and isinstance(sym.ty, StructType)) or (
                isinstance(sym, BuiltinSym) and sym.name == "bytearray") or (
                isinstance(sym, HelperSym) and sym.helper.returns in PARSED_TYPES)
        return False

    def constructor_type(self, value: A.Expr) -> Type:
        if isinstance(value, A.Call):
            sym = self.scope[value.func.id]  # type: ignore[attr-defined]
            if isinstance(sym, HelperSym):
                value.func.symbol = sym  # type: ignore[attr-defined]
                self.helper_call(value, sym.helper)
                return value.ty
            if isinstance(sym, TypeSym):
                assert isinstance(sym.ty, StructType)
                self.struct_constructor(value, sym.ty)
                return sym.ty
            ty = ArrayType(U8, self.bytearray_length(value), is_bytes=True)
            value.ty = ty
            return ty
        if isinstance(value, A.BinOp):
            first = value.left.elts[0] if value.left.elts else None  # type: ignore[attr-defined]
        else:
            first = value.elts[0] if value.elts else None  # type: ignore[attr-defined]
        if first is None:
            raise _error("a list cannot be empty", value)
        self.expr(first)
        elem = first.ty
        if elem is UNTYPED_INT:
            elem = DEFAULT_INT
        if not isinstance(elem, IntType) and elem is not BOOL:
            raise _error(f"a list cannot hold {elem}", first)
        ty = self.list_type(elem, value, value)
        self.array_initializer(ty, value, constant=False)
        return ty

    def struct_constructor(self, value: A.Expr, ty: StructType) -> None:
        if (isinstance(value, A.Call) and isinstance(value.func, A.Name)
                and isinstance(self.scope.get(value.func.id), HelperSym)):
            if self.constructor_type(value) is not ty:
                raise _error(f"this gives {value.ty}, not {ty.name}", value)
            return
        if not (isinstance(value, A.Call) and isinstance(value.func, A.Name)
                and isinstance(self.scope.get(value.func.id), TypeSym)
                and self.scope[value.func.id].ty is ty):  # type: ignore[union-attr]
            raise _error(f"expected {ty.name}()", value)
        if value.args or value.keywords:
            raise _error(f"{ty.name}() takes no arguments: it starts as zero; set its "
                         "fields afterwards", value)
        value.ty = ty

    def check_aggregate_value(self, ty: Type, value: A.Expr) -> None:
        if isinstance(ty, (ArrayType, StructType)) and not self.is_constructor(value):
            raise _error("assigning a struct or list would share it in Python but copy it "
                         "in BPF: build a new one and copy the fields you need", value)

    def value_for(self, ty: Type, value: A.Expr) -> A.Expr:
        """Check ``value`` as the new value of something of type ``ty``."""
        if isinstance(ty, ArrayType):
            self.array_initializer(ty, value, constant=False)
            return value
        if isinstance(ty, StructType):
            self.struct_constructor(value, ty)
            return value
        self.expr(value)
        if isinstance(ty, RefType) and isinstance(value, A.Name):
            raise _error("a reference cannot be copied: use the variable that holds it", value)
        return self.coerce(value, ty, "assigned value")

    def store_target(self, t: A.Expr) -> None:
        """Type an assignment target that is not a plain name, checking
        write rights."""
        if isinstance(t, A.Attribute):
            self.expr(t.value)
            base = t.value.ty
            if isinstance(base, ContextType):
                self.ctx_field(t, write=True)
                return
            if isinstance(base, SockRefType):
                raise _error(f"ctx.sk.{t.attr} is read-only", t.attr_pos)
            if isinstance(base, StructType):
                self.struct_field(t)
                if not isinstance(t.ty, IntType) and t.ty is not BOOL:
                    raise _error("assign a struct's fields one by one", t)
                self.reject_readonly_root(t)
                return
            if isinstance(base, RefType):
                self.ref_value(t)
                if not isinstance(t.ty, IntType):
                    raise _error("assign a struct's fields one by one", t)
                return
            raise _error(f"cannot assign to an attribute of {base}", t)
        if isinstance(t, A.Subscript):
            self.subscript(t, write=True)
            self.reject_readonly_root(t)
            return
        if isinstance(t, A.Unsupported):
            raise _error(f"{t.what} is not supported", t)
        raise _error("cannot assign to this expression", t)

    def reject_readonly_root(self, t: A.Expr) -> None:
        """A field or element of a ReadOnly global cannot be written either."""
        root = memory_root(t)
        if isinstance(root, A.Name) and isinstance(root.symbol, GlobalVar) and root.symbol.readonly:
            raise self.readonly_error(root.symbol, t)

    def load_rights(self, t: A.Expr) -> None:
        """An augmented assignment also reads its target."""
        if isinstance(t, A.Attribute) and isinstance(t.value.ty, ContextType):
            self.ctx_field(t, write=False)
        if isinstance(t, A.Subscript) and isinstance(t.value.ty, CtxArrayType):
            self.ctx_array_rights(t.value.ty, t, write=False)

    def check_write_bounds(self, t: A.Expr, value: A.Expr) -> None:
        if not (isinstance(t, A.Attribute) and isinstance(t.value.ty, ContextType)):
            return
        hook = self.current_hook()
        lo, hi = hook.bounds(t.attr)
        if value.const is None:
            return
        if (lo is not None and value.const < lo) or (hi is not None and value.const > hi):
            allowed = f"{lo}" if lo == hi else f"between {lo} and {hi}"
            raise _error(f"ctx.{t.attr} can only be set to {allowed} in a "
                         f"@{hook.decorator} hook", value)

    # ------------------------------------------------------- expressions

    def condition(self, e: A.Expr) -> A.Expr:
        self.expr(e)
        return self.truth(e)

    def truth(self, e: A.Expr) -> A.Expr:
        if e.ty is BOOL:
            return e
        if isinstance(e.ty, RefType):
            cast = A.Cast(e.pos, e)
            cast.ty = BOOL
            if not e.ty.maybe_none:
                cast.const = True
            return cast
        if isinstance(e.ty, IntType) or e.ty is UNTYPED_INT:
            if e.ty is UNTYPED_INT:
                self.coerce(e, DEFAULT_INT, "condition")
            cast = A.Cast(e.pos, e)
            cast.ty = BOOL
            if e.const is not None:
                cast.const = bool(e.const)
            return cast
        raise _error(f"{e.ty} cannot be used as a condition", e)

    def expr(self, e: A.Expr, allow_none: bool = False) -> Type:
        method = getattr(self, "expr_" + type(e).__name__, None)
        if method is None:
            raise _error(f"{type(e).__name__} expressions are not supported", e)
        method(e)
        if e.ty is NONE and not allow_none:
            raise _error("this call returns no value", e)
        return e.ty

    def expr_Unsupported(self, e: A.Unsupported) -> None:
        raise _error(f"{e.what} is not supported", e)

    def expr_IntLit(self, e: A.IntLit) -> None:
        e.ty, e.const = UNTYPED_INT, e.value

    def expr_BoolLit(self, e: A.BoolLit) -> None:
        e.ty, e.const = BOOL, e.value

    def expr_BytesLit(self, e: A.BytesLit) -> None:
        e.ty, e.const = BytesLitType(len(e.value)), e.value

    def expr_StrLit(self, e: A.StrLit) -> None:
        raise _error("strings are not supported here", e)

    def expr_NoneLit(self, e: A.NoneLit) -> None:
        raise _error("None is not a value in pybpfc", e)

    def expr_ListLit(self, e: A.ListLit) -> None:
        raise _error("a list display may only initialise a variable", e)

    def expr_Cast(self, e: A.Cast) -> None:
        pass  # already checked

    def expr_Name(self, e: A.Name) -> None:
        fn = self.func
        if fn is not None and e.id in fn.locals:
            var = fn.locals[e.id]
            e.symbol, e.ty = var, var.ty
            return
        sym = self.scope.get(e.id)
        if sym is None:
            raise _error(f"unknown name '{e.id}'", e)
        if isinstance(sym, GlobalVar):
            e.symbol, e.ty = sym, sym.ty
            if fn is not None:
                fn.globals_used.add(e.id)
            return
        if isinstance(sym, ConstSym):
            e.symbol, e.ty, e.const = sym, sym.ty, sym.value
            return
        if isinstance(sym, MapVar):
            methods = ", ".join(m for m, _ in sym.ty.kind.methods)
            raise _error(f"'{e.id}' is a map ({sym.ty.kind.python_name}): use its methods "
                         f"({methods})", e)
        kind = {TypeSym: "a type", ContextTypeSym: "a type", FuncSym: "a function",
                HookDecoratorSym: "a decorator", StructDecoratorSym: "a decorator",
                HelperSym: "a kernel helper function", MapKindSym: "a kind of map",
                AnnotationSym: "only for annotations",
                BuiltinSym: "a builtin function", FinalSym: "typing.Final"}[type(sym)]
        raise _error(f"'{e.id}' is {kind}, not a value", e)

    def expr_UnaryOp(self, e: A.UnaryOp) -> None:
        self.expr(e.operand)
        if e.op == "not":
            e.operand = self.truth(e.operand)
            e.ty = BOOL
            if e.operand.const is not None:
                e.const = not e.operand.const
            return
        t = e.operand.ty
        if t is UNTYPED_INT:
            e.ty = UNTYPED_INT
            e.const = {"-": -1, "+": 1}.get(e.op, 0) * e.operand.const if e.op != "~" \
                else ~e.operand.const
            return
        if not isinstance(t, IntType):
            raise _error(f"unary '{e.op}' needs an integer, not {t}", e.operand)
        e.ty = t
        if e.operand.const is not None:
            e.const = semantics.unary(e.op, e.operand.const, t)

    def expr_BinOp(self, e: A.BinOp) -> None:
        if e.op == "*" and isinstance(e.left, A.ListLit):
            raise _error("a list display may only initialise a variable", e)
        self.expr(e.left)
        self.expr(e.right)
        self.binop(e, fold=True)

    def binop(self, e: A.BinOp, fold: bool) -> None:
        if e.op == "/":
            raise _error("'/' is true division, which BPF has no numbers for: use '//'", e)
        if e.op in ("**", "@"):
            raise _error(f"the '{e.op}' operator is not supported", e)
        for side in (e.left, e.right):
            if not (isinstance(side.ty, IntType) or side.ty is UNTYPED_INT):
                raise _error(f"'{e.op}' needs integers, not {side.ty}", side)
        lt, rt = e.left.ty, e.right.ty
        if lt is UNTYPED_INT and rt is UNTYPED_INT:
            e.ty = UNTYPED_INT
            e.const = self.fold_untyped(e)
            return
        if e.op in ("<<", ">>"):
            ty = lt if isinstance(lt, IntType) else DEFAULT_INT
            e.left = self.coerce(e.left, ty, "shifted value")
            if e.right.ty is UNTYPED_INT:
                if e.right.const < 0:
                    raise _error("a negative shift count", e.right)
                e.right = self.coerce(e.right, ty if ty.fits(e.right.const) else DEFAULT_INT,
                                      "shift count")
        else:
            ty = self.unify_ints([e.left, e.right], e.op)
            e.left = self.coerce(e.left, ty, "operand")
            e.right = self.coerce(e.right, ty, "operand")
        e.ty = ty
        if fold and e.left.const is not None and e.right.const is not None:
            e.const = semantics.binary(e.op, e.left.const, e.right.const, ty)

    def fold_untyped(self, e: A.BinOp) -> int:
        a, b = e.left.const, e.right.const
        op = e.op
        if op in ("//", "%") and b == 0:
            raise _error("division by zero in a constant", e.right)
        if op in ("<<", ">>") and b < 0:
            raise _error("a negative shift count", e.right)
        if op == "<<" and b > 128:
            raise _error("this constant is too large", e)
        # Only the operator asked for is computed: `-2 << (1 << 64)` would not fit
        # in memory, and it is no business of `-2 - (1 << 64)`.
        return UNTYPED_FOLDS[op](a, b)

    def unify_ints(self, operands: list[A.Expr], op: str = "") -> IntType:
        typed = [o.ty for o in operands if isinstance(o.ty, IntType)]
        if not typed:
            return DEFAULT_INT
        ty = typed[0]
        for other, node in zip(typed[1:], [o for o in operands if isinstance(o.ty, IntType)][1:]):
            common = common_int_type(ty, other)
            if common is None:
                raise _error(f"cannot mix {ty} and {other}" + (f" in '{op}'" if op else ""),
                             node, note="convert one side explicitly, e.g. "
                                        f"{self.wider_name(ty, other)}(x)")
            ty = common
        return ty

    @staticmethod
    def wider_name(a: IntType, b: IntType) -> str:
        bits = max(a.bits, b.bits)
        return f"i{min(bits * 2, 64)}" if bits < 64 else ("u64" if not a.signed else "i64")

    def expr_BoolOp(self, e: A.BoolOp) -> None:
        values = []
        saved = set(self.nonnull)
        for v in e.values:
            self.expr(v)
            values.append(self.truth(v))
            # Later operands run only when this one was true (and) or false (or).
            when_true, when_false = self.facts(values[-1])
            self.nonnull |= when_true if e.op == "and" else when_false
        self.nonnull = saved
        e.values = values
        e.ty = BOOL
        consts = [v.const for v in values]
        if all(c is not None for c in consts):
            e.const = all(consts) if e.op == "and" else any(consts)

    def expr_Compare(self, e: A.Compare) -> None:
        if any(op in ("is", "is not") for op in e.ops):
            self.none_test(e)
            return
        for o in e.operands:
            self.expr(o)
        if any(isinstance(o.ty, (ArrayType, BytesLitType)) for o in e.operands):
            self.buffer_equality(e)
            return
        for op in e.ops:
            if op in ("in", "not in"):
                raise _error(f"the '{op}' operator is not supported", e)
        if all(o.ty is BOOL for o in e.operands):
            if any(op not in ("==", "!=") for op in e.ops):
                raise _error("bools compare only with == and !=", e)
        else:
            for o in e.operands:
                if not (isinstance(o.ty, IntType) or o.ty is UNTYPED_INT):
                    raise _error(f"cannot compare {o.ty}", o)
            # Each comparison stands alone: a < b < c is a < b and b < c.
            for i, op in enumerate(e.ops):
                pair = [e.operands[i], e.operands[i + 1]]
                if all(p.ty is UNTYPED_INT for p in pair):
                    continue
                ty = self.unify_ints(pair, op)
                for j in (i, i + 1):
                    if e.operands[j].ty is UNTYPED_INT or e.operands[j].ty != ty:
                        if e.operands[j].ty is UNTYPED_INT or isinstance(e.operands[j].ty, IntType):
                            e.operands[j] = self.coerce(e.operands[j], ty, "operand")
            if len(e.ops) > 1 and any(
                    e.operands[k].ty != e.operands[k + 1].ty for k in range(len(e.ops))):
                # A middle operand shared by two comparisons must have one type.
                ty = self.unify_ints(e.operands)
                e.operands = [self.coerce(o, ty, "operand") for o in e.operands]
            for i, o in enumerate(e.operands):
                if o.ty is UNTYPED_INT:
                    e.operands[i] = self.coerce(o, DEFAULT_INT, "operand")
        e.ty = BOOL
        consts = [o.const for o in e.operands]
        if all(c is not None for c in consts):
            e.const = all(semantics.compare(op, consts[i], consts[i + 1])
                          for i, op in enumerate(e.ops))

    def buffer_equality(self, e: A.Compare) -> None:
        """``buf == b"..."`` (or !=): a bytearray variable against a bytes
        literal, every byte compared; different lengths are never equal."""
        if len(e.ops) != 1 or e.ops[0] not in ("==", "!="):
            raise _error("a bytearray compares only with == or != to a bytes literal", e)
        buf, literal = e.operands
        if isinstance(buf.ty, BytesLitType):
            buf, literal = literal, buf
        if not (isinstance(buf.ty, ArrayType) and buf.ty.is_bytes and self.is_lvalue(buf)
                and isinstance(literal.ty, BytesLitType)):
            raise _error("a bytearray variable compares only with a bytes literal", e)
        e.operands = [buf, literal]
        e.ty = BOOL
        if buf.ty.length != literal.ty.length:
            e.const = e.ops[0] == "!="

    def none_test(self, e: A.Compare) -> None:
        """``ref is None`` / ``ref is not None``: the only use of ``is``."""
        if len(e.ops) != 1 or not any(isinstance(o, A.NoneLit) for o in e.operands):
            raise _error(f"'{e.ops[0]}' only tests a map lookup's result against None", e)
        ref = next(o for o in e.operands if not isinstance(o, A.NoneLit))
        self.expr(ref)
        if not isinstance(ref.ty, RefType):
            raise _error(f"{ref.ty} is never None: 'is None' tests the result of a map "
                         "lookup", ref)
        e.ty = BOOL
        if not ref.ty.maybe_none:
            e.const = e.ops[0] == "is not"

    def expr_IfExp(self, e: A.IfExp) -> None:
        e.test = self.condition(e.test)
        when_true, when_false = self.facts(e.test)
        saved = set(self.nonnull)
        self.nonnull = saved | when_true
        self.expr(e.body)
        self.nonnull = saved | when_false
        self.expr(e.orelse)
        self.nonnull = saved
        if e.body.ty is BOOL and e.orelse.ty is BOOL:
            e.ty = BOOL
        else:
            for side in (e.body, e.orelse):
                if not (isinstance(side.ty, IntType) or side.ty is UNTYPED_INT):
                    raise _error(f"both branches of a conditional expression must be "
                                 f"integers, or both bools; this one is {side.ty}", side)
            ty = self.unify_ints([e.body, e.orelse])
            e.body = self.coerce(e.body, ty, "value")
            e.orelse = self.coerce(e.orelse, ty, "value")
            e.ty = ty
        if e.test.const is not None:
            chosen = e.body if e.test.const else e.orelse
            e.const = chosen.const

    def expr_Attribute(self, e: A.Attribute) -> None:
        self.expr(e.value)
        base = e.value.ty
        if isinstance(base, ContextType):
            self.ctx_field(e, write=False)
        elif isinstance(base, SockRefType):
            self.sock_field(e)
        elif isinstance(base, StructType):
            self.struct_field(e)
        elif isinstance(base, WindowType):
            raise _error(f"'{e.attr}' is a method of ctx.optval: call it", e.attr_pos)
        elif isinstance(base, RefType):
            self.ref_value(e)
        else:
            raise _error(f"{base} has no attribute '{e.attr}'", e.attr_pos)

    def ref_value(self, e: A.Attribute) -> None:
        """``ref.value``: the referenced value, once the reference is known
        not to be None."""
        ref = e.value.ty
        assert isinstance(ref, RefType)
        if e.attr != "value":
            raise _error(f"a reference has one attribute, 'value' (not '{e.attr}')",
                         e.attr_pos)
        if ref.maybe_none:
            if not isinstance(e.value, A.Name):
                raise _error("this lookup may find nothing: store its result in a variable "
                             "and check `if ref is not None:` before using it", e.value)
            if e.value.id not in self.nonnull:
                raise _error(f"'{e.value.id}' may be None here: check `if {e.value.id} is not "
                             "None:` before using it", e.value,
                             note="a map lookup returns None when the key is missing")
        e.ty = ref.value

    def current_hook(self) -> hooks.Hook:
        fn = self.current()
        if fn.hook is None:
            raise _error("a helper function cannot use the context's fields; read them in "
                         "the hook and pass the values", None)
        return fn.hook

    def ctx_field(self, e: A.Attribute, write: bool) -> None:
        ctx = e.value.ty.context  # type: ignore[union-attr]
        f = ctx.field(e.attr)
        if f is None:
            raise _error(f"{ctx.python_name} has no field '{e.attr}'", e.attr_pos)
        hook = self.current_hook()
        if f.kind == "window_end":
            raise _error("ctx.optval_end is a raw pointer; use len(ctx.optval) for the size "
                         "of the option buffer", e.attr_pos)
        if write:
            if e.attr not in hook.writable:
                who = [h.decorator for h in hooks.HOOKS
                       if h.context is ctx and e.attr in h.writable]
                note = ("writable only in " + ", ".join("@" + w for w in who)) if who \
                    else "no hook may write it"
                raise _error(f"{self.ctx_text(e)}.{e.attr} is read-only in a @{hook.decorator} hook", e.attr_pos,
                             note=note)
        elif e.attr not in hook.readable:
            who = [h.decorator for h in hooks.HOOKS if h.context is ctx and e.attr in h.readable]
            raise _error(f"a @{hook.decorator} hook cannot read {self.ctx_text(e)}.{e.attr}", e.attr_pos,
                         note=("readable only in " + ", ".join("@" + w for w in who)) if who
                         else None)
        e.ty = self.field_type(f)

    @staticmethod
    def ctx_text(e: A.Attribute) -> str:
        """How the program spells its context (``ctx``, ``skb``, ...)."""
        return e.value.id if isinstance(e.value, A.Name) else "ctx"

    def field_type(self, f: hooks.Field, through_sock: bool = False) -> Type:
        if f.kind == "window":
            ctx_end = hooks.BPF_SOCKOPT.field(f.end or "")
            assert ctx_end is not None
            return WindowType(f, ctx_end)
        if f.kind == "sock":
            return SockRefType()
        if f.count > 1:
            return CtxArrayType(f, through_sock)
        return int_type(f.kind)

    def sock_field(self, e: A.Attribute) -> None:
        f = hooks.BPF_SOCK.field(e.attr)
        if f is None:
            raise _error(f"SockContext has no field '{e.attr}'", e.attr_pos)
        if e.attr not in hooks.SOCK_POINTER_READABLE:
            raise _error(f"ctx.sk.{e.attr} cannot be read", e.attr_pos)
        e.ty = self.field_type(f, through_sock=True)

    def struct_field(self, e: A.Attribute) -> None:
        st = e.value.ty
        assert isinstance(st, StructType)
        f = st.field(e.attr)
        if f is None:
            raise _error(f"struct {st.name} has no field '{e.attr}'", e.attr_pos)
        e.ty = f[1]

    def expr_Subscript(self, e: A.Subscript) -> None:
        self.subscript(e, write=False)

    def subscript(self, e: A.Subscript, write: bool) -> None:
        self.expr(e.value)
        base = e.value.ty
        self.expr(e.index)
        if not (isinstance(e.index.ty, IntType) or e.index.ty is UNTYPED_INT):
            raise _error(f"an index must be an integer, not {e.index.ty}", e.index)
        if e.index.ty is UNTYPED_INT:
            if e.index.const < 0:
                raise _error("negative indexes are not supported", e.index)
            e.index = self.coerce(e.index, U32 if e.index.const <= U32.max else DEFAULT_INT,
                                  "index")
        if isinstance(base, ArrayType):
            if e.index.const is not None and not 0 <= e.index.const < base.length:
                raise _error(f"index {e.index.const} is out of range for {base}", e.index)
            loop_var = self.uncast(e.index)
            if isinstance(loop_var, A.Name) and loop_var.id in self.loop_ranges:
                low, high = self.loop_ranges[loop_var.id]
                e.in_range = 0 <= low and high < base.length
            e.ty = base.elem
            if write and not isinstance(base.elem, IntType) and base.elem is not BOOL:
                raise _error("assign a struct's fields one by one", e)
        elif isinstance(base, WindowType):
            e.ty = U8
        elif isinstance(base, CtxArrayType):
            if e.index.const is None:
                raise _error(f"ctx.{base.field.name} takes a constant index", e.index)
            if not 0 <= e.index.const < base.field.count:
                raise _error(f"index {e.index.const} is out of range: ctx.{base.field.name} "
                             f"has {base.field.count} elements", e.index)
            self.ctx_array_rights(base, e, write)
            e.ty = int_type(base.field.kind)
        elif isinstance(base, BytesLitType):
            if write:
                raise _error("a bytes literal is constant", e)
            if e.index.const is None:
                raise _error("a bytes literal takes a constant index", e.index)
            if not 0 <= e.index.const < base.length:
                raise _error("index out of range", e.index)
            e.ty, e.const = U8, e.value.const[e.index.const]
        else:
            raise _error(f"{base} cannot be indexed", e.value)

    def ctx_array_rights(self, ty: CtxArrayType, e: A.Subscript, write: bool) -> None:
        where = e.value.attr_pos if isinstance(e.value, A.Attribute) else e.pos
        if ty.through_sock:
            if write:
                raise _error(f"ctx.sk.{ty.field.name} is read-only", where)
            return
        hook = self.current_hook()
        if write and ty.field.name not in hook.writable:
            raise _error(f"ctx.{ty.field.name} is read-only in a @{hook.decorator} hook", where)

    # ------------------------------------------------------------ calls

    def is_builtin(self, e: A.Name, name: str) -> bool:
        if self.func is not None and e.id in self.func.locals:
            return False
        sym = self.scope.get(e.id)
        return isinstance(sym, BuiltinSym) and sym.name == name

    def expr_Call(self, e: A.Call) -> None:
        for a in e.args:
            if isinstance(a, A.Unsupported):
                raise _error(f"{a.what} is not supported", a)
        f = e.func
        if isinstance(f, A.Attribute):
            mv = self.map_named(f.value)
            if mv is not None:
                self.map_call(e, mv, f)
                return
        if e.keywords:
            raise _error("keyword arguments are not supported here", e.keywords[0])
        if isinstance(f, A.Attribute):
            self.expr(f.value)
            if isinstance(f.value.ty, WindowType):
                self.window_call(e, f)
                return
            if isinstance(f.value.ty, ArrayType) and f.value.ty.is_bytes:
                self.bytes_method(e, f)
                return
            if isinstance(f.value.ty, ContextType) and f.attr in PACKET_LOADS:
                self.packet_load(e, f)
                return
            raise _error("methods are not supported", f.attr_pos)
        if not isinstance(f, A.Name):
            raise _error("only named functions can be called", f)
        sym = None if (self.func and f.id in self.func.locals) else self.scope.get(f.id)
        if sym is None:
            if self.func and f.id in self.func.locals:
                raise _error(f"'{f.id}' is a variable, not a function", f)
            raise _error(f"unknown function '{f.id}'", f)
        f.symbol = sym
        if isinstance(sym, TypeSym):
            if isinstance(sym.ty, StructType):
                raise _error(f"{sym.ty.name}() may only initialise a variable", e)
            self.conversion(e, sym.ty)
        elif isinstance(sym, BuiltinSym):
            self.builtin_call(e, sym.name)
        elif isinstance(sym, FuncSym):
            self.function_call(e, sym)
        elif isinstance(sym, HelperSym):
            if sym.helper.returns in PARSED_TYPES:
                raise _error(f"{sym.helper.name}() may only initialise a variable: "
                             f"`parsed = {sym.helper.name}(...)`", e)
            self.helper_call(e, sym.helper)
        elif isinstance(sym, MapKindSym):
            raise _error(f"a {sym.kind.python_name} is declared at module level", e)
        else:
            raise _error(f"'{f.id}' cannot be called", f)

    def arity(self, e: A.Call, n: int, name: str) -> None:
        if len(e.args) != n:
            raise _error(f"{name}() takes {n} argument{'s' if n != 1 else ''}, "
                         f"got {len(e.args)}", e)

    def conversion(self, e: A.Call, to: Type) -> None:
        name = str(to)
        self.arity(e, 1, name)
        arg = e.args[0]
        self.expr(arg)
        if to is BOOL:
            e.args[0] = self.truth(arg)
            e.ty, e.const = BOOL, e.args[0].const
            return
        assert isinstance(to, IntType)
        if arg.ty is UNTYPED_INT:
            e.ty, e.const = to, semantics.convert(arg.const, to)
            self.coerce(arg, DEFAULT_INT if DEFAULT_INT.fits(arg.const) else int_type("u64"),
                        "value") if (DEFAULT_INT.fits(arg.const)
                                     or int_type("u64").fits(arg.const)) else None
            if arg.ty is UNTYPED_INT:
                raise _error(f"{arg.const} does not fit in 64 bits", arg)
            return
        if not isinstance(arg.ty, IntType) and arg.ty is not BOOL:
            raise _error(f"cannot convert {arg.ty} to {to}", arg)
        e.ty = to
        if arg.const is not None:
            e.const = semantics.convert(int(arg.const), to)

    def builtin_call(self, e: A.Call, name: str) -> None:
        if name == "print":
            self.print_call(e)
        elif name == "atomic_add":
            self.atomic_add(e)
        elif name == "int":
            self.conversion(e, DEFAULT_INT)
        elif name == "bool":
            self.conversion(e, BOOL)
        elif name == "len":
            self.arity(e, 1, "len")
            arg = e.args[0]
            self.expr(arg)
            if isinstance(arg.ty, ArrayType):
                e.ty, e.const = U32, arg.ty.length
            elif isinstance(arg.ty, BytesLitType):
                e.ty, e.const = U32, arg.ty.length
            elif isinstance(arg.ty, WindowType):
                e.ty = U32
            else:
                raise _error(f"len() of {arg.ty} is not supported", arg)
        elif name in ("min", "max"):
            self.arity(e, 2, name)
            for a in e.args:
                self.expr(a)
                if not (isinstance(a.ty, IntType) or a.ty is UNTYPED_INT):
                    raise _error(f"{name}() needs integers, not {a.ty}", a)
            if all(a.ty is UNTYPED_INT for a in e.args):
                # Of two literals, a literal: it takes its type from its use,
                # as `1 + 2` does.
                e.ty = UNTYPED_INT
                e.const = (min if name == "min" else max)(a.const for a in e.args)
                return
            ty = self.unify_ints(e.args)
            e.args = [self.coerce(a, ty, "argument") for a in e.args]
            e.ty = ty
            if all(a.const is not None for a in e.args):
                e.const = (min if name == "min" else max)(a.const for a in e.args)
        elif name in BYTE_ORDER_WIDTH:
            self.arity(e, 1, name)
            ty = BYTE_ORDER_WIDTH[name]
            self.expr(e.args[0])
            e.args[0] = self.coerce(e.args[0], ty, f"{name}() argument")
            e.ty = ty
            if e.args[0].const is not None:
                e.const = int.from_bytes(e.args[0].const.to_bytes(ty.size, "big"), "little")
        elif name == "range":
            raise _error("range() is only for `for` loops", e)
        elif name == "bytearray":
            raise _error("bytearray() may only initialise a variable", e)
        elif name == "list":
            raise _error("list() is not supported: write `[0] * N`", e)
        else:
            raise _error(f"{name}() is not supported", e)

    def window_call(self, e: A.Call, f: A.Attribute) -> None:
        if f.attr not in WINDOW_METHODS:
            raise _error(f"ctx.optval has no method '{f.attr}'", f.attr_pos,
                         note="methods: " + ", ".join(WINDOW_METHODS))
        ty, is_write = WINDOW_METHODS[f.attr]
        self.arity(e, 2 if is_write else 1, f"ctx.optval.{f.attr}")
        for a in e.args:
            self.expr(a)
        off = e.args[0]
        if not (isinstance(off.ty, IntType) or off.ty is UNTYPED_INT):
            raise _error("an offset must be an integer", off)
        if off.ty is UNTYPED_INT:
            if off.const < 0:
                raise _error("a negative offset", off)
            e.args[0] = self.coerce(off, U32 if off.const <= U32.max else DEFAULT_INT, "offset")
        if is_write:
            e.args[1] = self.coerce(e.args[1], ty, "value")
            e.ty = NONE
        else:
            e.ty = ty

    def bytes_method(self, e: A.Call, f: A.Attribute) -> None:
        if f.attr != "startswith":
            raise _error(f"bytearray.{f.attr}() is not supported; startswith() is",
                         f.attr_pos)
        self.arity(e, 1, "startswith")
        prefix = e.args[0]
        self.expr(prefix)
        if not isinstance(prefix.const, bytes):
            raise _error("startswith() takes a bytes literal", prefix)
        if not self.is_lvalue(f.value):
            raise _error("startswith() needs a bytearray variable", f.value)
        e.ty = BOOL
        if len(prefix.const) > f.value.ty.length:  # type: ignore[union-attr]
            e.const = False      # as in Python: a longer prefix never matches

    @staticmethod
    def is_lvalue(e: A.Expr) -> bool:
        return isinstance(e, (A.Name, A.Attribute, A.Subscript))

    def require_helper(self, helper: hooks.Helper, node: A.Node, spelled: str) -> None:
        """The hook being checked may call ``helper`` (the kernel's rule)."""
        fn = self.current()
        if fn.hook is not None and helper.name not in fn.hook.helpers:
            where = [h.decorator for h in hooks.HOOKS if helper.name in h.helpers]
            raise _error(f"{spelled} is not available in a @{fn.hook.decorator} hook", node,
                         note=f"it calls the kernel helper {helper.name}, available in "
                              + ", ".join("@" + w for w in where))
        if fn.hook is None and not all(helper.name in h.helpers for h in hooks.HOOKS):
            raise _error(f"{spelled} is available only in some hooks: call it from "
                         "the hook itself", node)

    def helper_call(self, e: A.Call, helper: hooks.Helper) -> None:
        self.require_helper(helper, e.func, f"{helper.name}()")
        self.arity(e, len(helper.params), helper.name)
        args = []
        for a, kind in zip(e.args, helper.params):
            self.expr(a)
            if kind == "ctx":
                if not isinstance(a.ty, ContextType):
                    raise _error(f"{helper.name}() takes the hook's context here", a)
                args.append(a)
            elif kind == "sock":
                if not isinstance(a.ty, SockRefType):
                    raise _error(f"{helper.name}() takes the socket, ctx.sk, here", a)
                args.append(a)
            elif kind in ("buffer", "buffer_start", "buffer_tail"):
                self.require_buffer(a, f"{helper.name}()")
                if kind == "buffer_tail":
                    if not (isinstance(a, A.Name) and isinstance(a.symbol, LocalVar)):
                        raise _error(f"{helper.name}() reads a local bytearray variable", a)
                    a.symbol.tail_room = True
                args.append(a)
            else:
                a = self.coerce(a, int_type(kind), f"argument of {helper.name}()")
                if args and helper.params[len(args) - 1] == "buffer_start" \
                        and a.const is not None and a.const < 1:
                    raise _error(f"{helper.name}() needs a length of at least 1", a)
                args.append(a)
        e.args = args
        if helper.returns in PARSED_TYPES:
            e.ty = PARSED_TYPES[helper.returns]
        else:
            e.ty = NONE if helper.returns == "None" else int_type(helper.returns)

    def require_buffer(self, a: A.Expr, who: str) -> None:
        if not (isinstance(a.ty, ArrayType) and a.ty.is_bytes and self.is_lvalue(a)):
            raise _error(f"{who} takes a bytearray variable here, not {a.ty}", a)

    # ------------------------------------------------------- map methods

    def map_named(self, e: A.Expr) -> Optional[MapVar]:
        if not isinstance(e, A.Name) or (self.func and e.id in self.func.locals):
            return None
        sym = self.scope.get(e.id)
        if isinstance(sym, MapVar):
            e.symbol = sym
            return sym
        return None

    def map_call(self, e: A.Call, mv: MapVar, f: A.Attribute) -> None:
        kind = mv.ty.kind
        method = kind.method(f.attr)
        if method is None:
            raise _error(f"{mv.ty} has no method '{f.attr}'", f.attr_pos,
                         note="its methods: " + ", ".join(m for m, _ in kind.methods))
        helper_name = method.helper
        helper = hooks.HELPERS[helper_name]
        spelled = f"{mv.name}.{f.attr}()"
        self.require_helper(helper, f.attr_pos, spelled)
        # Bound by the names a program writes, kept by what the helper gets.
        bound = self.bind_arguments(e, tuple((p.name, p.required) for p in method.params),
                                    spelled)
        args = {p.role: bound[p.name] for p in method.params}
        for name, a in args.items():
            if a is None:
                continue
            if name == "key":
                args[name] = self.map_operand(a, mv.ty.key or U32, "key")
            elif name == "value":
                assert mv.ty.value is not None
                args[name] = self.map_operand(a, mv.ty.value, "value")
            elif name == "flags":
                self.expr(a)
                args[name] = self.coerce(a, U64, "flags")
                if helper_name == "map_update_elem" and args[name].const is not None \
                        and args[name].const not in hooks.UPDATE_FLAGS.values():
                    raise _error("update flags are BPF_ANY, BPF_NOEXIST or BPF_EXIST", a)
            elif name == "sk":
                self.expr(a)
                sock_ctx = isinstance(a.ty, ContextType) and a.ty.context is hooks.BPF_SOCK
                if not (sock_ctx or isinstance(a.ty, SockRefType)):
                    raise _error(f"{spelled} takes the socket: ctx in a sock hook, ctx.sk in "
                                 "a sockopt hook", a)
            elif name == "create":
                self.expr(a)
                if not isinstance(a.const, bool):
                    raise _error("create is True or False", a)
            elif name == "record":
                self.expr(a)
                if isinstance(a.ty, (StructType, ArrayType)):
                    if not self.is_lvalue(a):
                        raise _error("output() takes a variable here", a)
                elif not isinstance(a.ty, IntType):
                    raise _error(f"a record is an integer, a struct or a bytearray, not {a.ty}",
                                 a, note="give a literal a type, e.g. u64(1)")
        e.target = MapCall(mv, helper, args)
        if helper.returns == "ref":
            assert mv.ty.value is not None
            e.ty = RefType(mv.ty.value, maybe_none=helper_name != "get_local_storage")
        else:
            e.ty = int_type(helper.returns)

    def bind_arguments(self, e: A.Call, params: tuple[tuple[str, bool], ...],
                       spelled: str) -> dict[str, Optional[A.Expr]]:
        """Python's rules for positional and keyword arguments."""
        names = [n for n, _ in params]
        if len(e.args) > len(params):
            raise _error(f"{spelled} takes at most {len(params)} argument"
                         f"{'s' if len(params) != 1 else ''}, got {len(e.args)}", e)
        bound: dict[str, Optional[A.Expr]] = dict(zip(names, e.args))
        for kw in e.keywords:
            if kw.name not in names:
                raise _error(f"{spelled} has no parameter '{kw.name}'", kw,
                             note="parameters: " + (", ".join(names) or "none"))
            if kw.name in bound:
                raise _error(f"'{kw.name}' is given twice", kw)
            bound[kw.name] = kw.value
        for name, required in params:
            if required and name not in bound:
                raise _error(f"{spelled} needs its '{name}' argument", e)
            bound.setdefault(name, None)
        return bound

    def map_operand(self, a: A.Expr, ty: Type, role: str) -> A.Expr:
        """A key or value handed to the kernel by address: an integer
        expression, or a variable of the struct type."""
        self.expr(a)
        if isinstance(ty, StructType):
            if a.ty is not ty or not self.is_lvalue(a):
                raise _error(f"the {role} is a {ty.name} variable here, not {a.ty}", a)
            return a
        return self.coerce(a, ty, role)

    # ------------------------------------------------ builtins of pybpfc

    def print_call(self, e: A.Call) -> None:
        """``print("text", value, ...)``: one line in the kernel's trace
        buffer; the checker builds the format string."""
        helper = hooks.HELPERS["trace_printk"]
        self.require_helper(helper, e.func, "print()")
        if e.keywords:
            raise _error("print() takes no keyword arguments here", e.keywords[0])
        parts, values = [], []
        for i, a in enumerate(e.args):
            if isinstance(a, A.StrLit):
                if "\0" in a.value:
                    raise _error("a NUL character cannot be printed", a)
                parts.append(a.value.replace("%", "%%"))
                continue
            self.expr(a)
            if a.ty is UNTYPED_INT:
                a = self.coerce(a, DEFAULT_INT if DEFAULT_INT.fits(a.const) else U64, "value")
            if a.ty is BOOL:
                parts.append("%d")
            elif isinstance(a.ty, IntType):
                parts.append("%lld" if a.ty.signed else "%llu")
            else:
                raise _error(f"print() shows strings and integers, not {a.ty}", a)
            values.append(a)
            if len(values) > hooks.TRACE_PRINTK_MAX_VALUES:
                raise _error(f"print() shows at most {hooks.TRACE_PRINTK_MAX_VALUES} values "
                             "(the limit of the kernel's bpf_trace_printk)", a)
            e.args[i] = a
        e.args = [a for a in e.args if not isinstance(a, A.StrLit)]
        e.target = (" ".join(parts) + "\n").encode()
        e.ty = NONE

    def atomic_add(self, e: A.Call) -> None:
        self.arity(e, 2, "atomic_add")
        target, amount = e.args
        self.expr(target)
        root = memory_root(target)
        in_map = isinstance(root.ty, RefType)
        in_global = isinstance(root, A.Name) and isinstance(root.symbol, GlobalVar)
        if not (in_map or in_global) or not self.is_lvalue(target):
            raise _error("atomic_add() works on a global or on a value in a map", target)
        if in_global:
            self.reject_readonly_root(target)
        if any(isinstance(n, A.Subscript) and n.index.const is None for n in _lvalue_path(target)):
            raise _error("atomic_add() needs constant indexes", target)
        if not (isinstance(target.ty, IntType) and target.ty.bits in (32, 64)):
            raise _error(f"atomic_add() works on 32- and 64-bit integers, not {target.ty}",
                         target)
        self.expr(amount)
        e.args[1] = self.coerce(amount, target.ty, "the amount")
        e.ty = target.ty

    def packet_load(self, e: A.Call, f: A.Attribute) -> None:
        hook = self.current_hook()
        if not hook.packet_loads:
            raise _error(f"a @{hook.decorator} hook has no packet to load from", f.attr_pos)
        self.arity(e, 1, f"ctx.{f.attr}")
        off = e.args[0]
        self.expr(off)
        if off.ty is UNTYPED_INT and off.const < 0:
            raise _error("a negative offset", off)
        e.args[0] = self.coerce(off, U32, "offset")
        e.ty = PACKET_LOADS[f.attr]

    def function_call(self, e: A.Call, fn: FuncSym) -> None:
        if fn.hook is not None:
            raise _error(f"'{fn.name}' is a hook; hooks are run by the kernel and cannot be "
                         "called", e)
        if len(e.args) != len(fn.params):
            n = len(fn.params)
            raise _error(f"{fn.name}() takes {n} argument{'s' if n != 1 else ''}, "
                         f"got {len(e.args)}", e)
        args = []
        for a, p in zip(e.args, fn.params):
            self.expr(a)
            if isinstance(p.ty, (StructType, ContextType)):
                if a.ty != p.ty:
                    raise _error(f"expected {p.ty}, got {a.ty}", a)
                if isinstance(p.ty, StructType) and not isinstance(a, (A.Name, A.Attribute,
                                                                       A.Subscript)):
                    raise _error("pass a struct variable", a)
                args.append(a)
            else:
                args.append(self.coerce(a, p.ty, f"argument '{p.name}'"))
        e.args = args
        e.ty = fn.ret
        self.current().calls.append((fn, e))

    # ---------------------------------------------------------- coercion

    def coerce_tree(self, e: A.Expr, to: IntType) -> A.Expr:
        """Give a constant, or a conditional of constants, the type ``to``."""
        if isinstance(e, A.IfExp) and e.const is None:
            e.body = self.coerce_tree(self.uncast(e.body), to)
            e.orelse = self.coerce_tree(self.uncast(e.orelse), to)
            e.ty = to
            return e
        e = self.uncast(e)
        if e.ty is UNTYPED_INT or e.ty == to:
            return self.coerce(e, to, "return value")
        cast = A.Cast(e.pos, e)
        cast.ty, cast.const = to, e.const
        return cast

    @staticmethod
    def uncast(e: A.Expr) -> A.Expr:
        return e.value if isinstance(e, A.Cast) else e

    def coerce(self, e: A.Expr, to: Type, what: str) -> A.Expr:
        """``e`` as a value of type ``to``: a literal takes the type, an
        integer widens; anything else is an error."""
        if e.ty == to:
            return e
        if e.ty is UNTYPED_INT and isinstance(to, IntType):
            if not to.fits(e.const):
                raise _error(f"{e.const} does not fit in {to} ({to.min}..{to.max})", e)
            e.ty = to
            return e
        if isinstance(e.ty, IntType) and isinstance(to, IntType) and to.contains(e.ty):
            cast = A.Cast(e.pos, e)
            cast.ty = to
            if e.const is not None:
                cast.const = e.const
            return cast
        if isinstance(e.ty, IntType) and isinstance(to, IntType):
            raise _error(f"{what} is {e.ty}, which does not fit in {to}", e,
                         note=f"convert explicitly with {to}(...) if truncation is intended")
        raise _error(f"{what} must be {to}, not {e.ty}", e)


def memory_root(e: A.Expr) -> A.Expr:
    """The variable, or reference, whose memory a field or element is in."""
    while isinstance(e, (A.Attribute, A.Subscript)):
        if isinstance(e, A.Attribute) and isinstance(e.value.ty, RefType):
            return e.value
        e = e.value
    return e


def _lvalue_path(e: A.Expr) -> Iterator[A.Expr]:
    while isinstance(e, (A.Attribute, A.Subscript)):
        yield e
        e = e.value


def possible_values(e: A.Expr) -> Optional[set[int]]:
    """The values a constant, or a conditional choosing between constants,
    can have; None when that is not known at compile time."""
    if e.const is not None:
        return {int(e.const)}
    if isinstance(e, A.IfExp):
        a, b = possible_values(e.body), possible_values(e.orelse)
        return a | b if a is not None and b is not None else None
    return None


def always_returns(stmts: list[A.Stmt]) -> bool:
    """Whether every path through ``stmts`` ends in a return."""
    for s in stmts:
        if isinstance(s, A.Return):
            return True
        if isinstance(s, A.If) and always_returns(s.body) and always_returns(s.orelse):
            return True
        if isinstance(s, A.While) and _is_true(s.test) and not any(
                isinstance(b, A.Break) for b in _loop_level(s.body)):
            return True
    return False


def always_leaves(stmts: list[A.Stmt]) -> bool:
    """Whether no path through ``stmts`` reaches the statement after them
    (each ends in return, break or continue)."""
    for s in stmts:
        if isinstance(s, (A.Return, A.Break, A.Continue)):
            return True
        if isinstance(s, A.If) and always_leaves(s.body) and always_leaves(s.orelse):
            return True
    return always_returns(stmts)


def assigned_names(stmts: list[A.Stmt]) -> set[str]:
    """Every plain name assigned somewhere in ``stmts``, nested blocks included."""
    names: set[str] = set()
    for s in stmts:
        if isinstance(s, (A.Assign, A.AnnAssign, A.AugAssign)) and isinstance(s.target, A.Name):
            names.add(s.target.id)
        for inner in ("body", "orelse"):
            names |= assigned_names(getattr(s, inner, []) or [])
    return names


def _is_true(e: A.Expr) -> bool:
    return e.const is True or (isinstance(e, A.BoolLit) and e.value)


def _loop_level(stmts: list[A.Stmt]) -> Iterator[A.Stmt]:
    """Statements of a loop body, not descending into nested loops."""
    for s in stmts:
        yield s
        if isinstance(s, A.If):
            yield from _loop_level(s.body)
            yield from _loop_level(s.orelse)


def check(source: Source, module: A.Module) -> CheckedProgram:
    return Checker(source, module).check()
