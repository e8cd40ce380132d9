"""Checking maps: their declarations at module level and their methods,
each of which calls one kernel helper (``abi.MapKind``: a method's
parameters, the helper it calls and what it returns)."""
from __future__ import annotations

from typing import Optional

from ... import abi
from .. import ast as A
from ..contract import HistogramAdd, MapMethodCall
from ..symbols import MapKindSym, MapVar
from ..types import (I64, NONE, U32, U64, UNTYPED_INT, ArrayType, ContextType, IntType, MapType,
                     RefType, SockRefType, StructType, Type, int_type, is_int)
from . import type_names
from .expressions import coerce, is_lvalue
from .state import Checker, error


# ---------------------------------------------------------- declarations

def map_annotation(ck: Checker, ann: A.Expr) -> Optional[tuple[abi.MapKind, list[A.Expr]]]:
    """``HashMap[K, V]`` -> (HashMap's kind, [K, V]); None when ``ann``
    does not name a map."""
    base, params = ann, []
    if isinstance(ann, A.Subscript):
        base = ann.value
        index = ann.index
        params = index.parts if (isinstance(index, A.Unsupported)
                                 and index.what == "tuple") else [index]
    sym = ck.scope.get(base.id) if isinstance(base, A.Name) else None
    if not isinstance(sym, MapKindSym):
        return None
    return sym.kind, params


def map_declaration(ck: Checker, stmt: A.AnnAssign, name: str, kind: abi.MapKind,
                    params: list[A.Expr]) -> None:
    declares_value = kind.has_value and kind.fixed_value is None
    wanted = (["K"] if kind.key == "declared" else []) + (["V"] if declares_value else [])
    spelled = kind.python_name + (f"[{', '.join(wanted)}]" if wanted else "")
    if len(params) != len(wanted):
        raise error(f"declare a {kind.python_name} as {spelled}", stmt.annotation)
    key = map_element_type(ck, params[0], "key") if kind.key == "declared" else None
    value = map_element_type(ck, params[-1], "value") if declares_value else None
    call = stmt.value
    if not (isinstance(call, A.Call) and isinstance(call.func, A.Name)
            and isinstance(ck.scope.get(call.func.id), MapKindSym)
            and ck.scope[call.func.id].kind is kind):  # type: ignore[union-attr]
        raise error(f"a {kind.python_name} is made with {kind.python_name}("
                    + ", ".join(f"{o}=..." for o in kind.options) + ")",
                    call or stmt)
    if kind.prefix_key:
        prefix_key(key, params[0])
    options = map_options(ck, call, kind)
    if kind.fixed_value is not None:
        value = int_type(kind.fixed_value)
    if kind.value_length is not None:
        option, default, _ = kind.value_length
        value = ArrayType(int_type(kind.fixed_value or "u64"), options.get(option, default))
    max_entries = options.get("max_entries", 0)
    if kind.fixed_max_entries is not None:
        max_entries = kind.fixed_max_entries
    flags = kind.map_flags
    if options.get("no_prealloc"):
        flags |= abi.BPF_F_NO_PREALLOC
    if options.get("clone"):
        flags |= abi.BPF_F_CLONE
    mv = MapVar(name, MapType(name, kind, key, value, max_entries, flags),
                stmt.target.pos)
    ck.bind(name, mv, stmt.target)
    ck.maps.append(mv)


def prefix_key(key: Optional[Type], ann: A.Expr) -> None:
    """An LPM trie's key: ``prefixlen: u32`` first, then the data it counts
    the bits of (the kernel's struct bpf_lpm_trie_key)."""
    first = key.fields[0] if isinstance(key, StructType) and key.fields else None
    if first is None or first[0] != "prefixlen" or first[1] != U32 or key.size <= 4:
        raise error("an LpmTrie's key is a @struct whose first field is `prefixlen: u32`, "
                    "followed by the address", ann)


def map_element_type(ck: Checker, ann: A.Expr, role: str) -> Type:
    if type_names.names_array_type(ck, ann):
        raise error(f"a map's {role} is an integer type or a @struct", ann)
    ty = type_names.resolve_type(ck, ann, None)
    if not isinstance(ty, (IntType, StructType)):
        raise error(f"a map's {role} is an integer type or a @struct, not {ty}", ann)
    return ty


def map_options(ck: Checker, call: A.Call, kind: abi.MapKind) -> dict[str, int]:
    if len(call.args) > len(kind.options):
        raise error(f"{kind.python_name}() takes " + (
            ", ".join(kind.options) if kind.options else "no arguments"), call)
    given = list(zip(kind.options, call.args)) + [(k.name, k.value) for k in call.keywords]
    options: dict[str, int] = {}
    for option, value in given:
        if option not in kind.options:
            raise error(f"{kind.python_name}() has no option '{option}'", value,
                        note="options: " + (", ".join(kind.options) or "none"))
        if option in options:
            raise error(f"'{option}' is given twice", value)
        ck.expr(value)
        if option == "max_entries":
            options[option] = max_entries(value, kind)
        elif kind.value_length is not None and option == kind.value_length[0]:
            options[option] = value_length(value, kind.value_length[2], option)
        else:
            if not isinstance(value.const, bool):
                raise error(f"'{option}' is True or False", value)
            options[option] = int(value.const)
    if "max_entries" in kind.options and "max_entries" not in options:
        raise error(f"{kind.python_name}() needs max_entries", call)
    return options


def max_entries(value: A.Expr, kind: abi.MapKind) -> int:
    n = value.const
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= U32.max:
        raise error("max_entries must be a constant between 1 and 4294967295", value)
    if kind.key == "none":
        if n % abi.PAGE_SIZE or n & (n - 1):
            raise error(f"a RingBuf's size must be a power of 2 and a multiple of "
                        f"{abi.PAGE_SIZE} bytes", value)
    return n


def value_length(value: A.Expr, longest: int, option: str) -> int:
    n = value.const
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= longest:
        raise error(f"{option} must be a constant between 1 and {longest}", value)
    return n


# --------------------------------------------------------------- methods

def map_named(ck: Checker, e: A.Expr) -> Optional[MapVar]:
    """The map ``e`` names, if it names one."""
    if not isinstance(e, A.Name) or (ck.func and e.id in ck.func.locals):
        return None
    sym = ck.scope.get(e.id)
    if isinstance(sym, MapVar):
        e.symbol = sym
        return sym
    return None


def map_call(ck: Checker, e: A.Call, mv: MapVar, f: A.Attribute) -> None:
    kind = mv.ty.kind
    method = kind.method(f.attr)
    if method is None:
        raise error(f"{mv.ty} has no method '{f.attr}'", f.attr_pos,
                    note="its methods: " + ", ".join(m for m, _ in kind.methods))
    helper = abi.HELPERS[method.helper]
    spelled = f"{mv.name}.{f.attr}()"
    ck.helper_called(e, helper, f.attr_pos, spelled)
    # Bound by the names a program writes, kept by what the helper gets.
    bound = bind_arguments(e, tuple((p.name, p.required) for p in method.params), spelled)
    args = {p.role: bound[p.name] for p in method.params}
    for role, a in args.items():
        if a is None:
            continue
        if role == "key":
            args[role] = map_operand(ck, a, mv.ty.key or U32, "key")
        elif role == "key_by_value":
            ck.expr(a)
            args[role] = coerce(a, mv.ty.key or U32, "index")
        elif role == "value":
            assert mv.ty.value is not None
            args[role] = map_operand(ck, a, mv.ty.value, "value")
        elif role == "flags":
            ck.expr(a)
            flags = args[role] = coerce(a, U64, "flags")
            if method.helper == "map_update_elem" and flags.const is not None \
                    and flags.const not in abi.UPDATE_FLAGS.values():
                raise error("update flags are BPF_ANY, BPF_NOEXIST or BPF_EXIST", a)
        elif role == "sk":
            ck.expr(a)
            sock_ctx = isinstance(a.ty, ContextType) and a.ty.context is abi.BPF_SOCK
            if not (sock_ctx or isinstance(a.ty, SockRefType)):
                raise error(f"{spelled} takes the socket: ctx in a sock hook, ctx.sk in "
                            "sockopt and sock_addr hooks", a)
        elif role == "create":
            ck.expr(a)
            if not isinstance(a.const, bool):
                raise error("create is True or False", a)
        elif role == "sample":
            ck.expr(a)
            if not is_int(a.ty):
                raise error(f"a histogram counts integers, not {a.ty}", a)
            if a.ty is UNTYPED_INT:
                args[role] = coerce(a, I64 if I64.fits(a.const) else U64, "value")
        elif role == "record":
            ck.expr(a)
            if isinstance(a.ty, (StructType, ArrayType)):
                if not is_lvalue(a):
                    raise error("output() takes a variable here", a)
            elif not isinstance(a.ty, IntType):
                raise error(f"a record is an integer, a struct or a bytearray, not {a.ty}",
                            a, note="give a literal a type, e.g. u64(1)")
    record = HistogramAdd if "sample" in args else MapMethodCall
    e.resolved = record(mv, f.attr, helper, args)
    if method.returns == "None":
        e.ty = NONE
    elif method.returns in ("ref", "optional_ref"):
        assert mv.ty.value is not None
        e.ty = RefType(mv.ty.value, maybe_none=method.returns == "optional_ref",
                       shared=not (mv.ty.kind.per_cpu or mv.ty.kind.key == "socket"))
    else:
        e.ty = int_type(method.returns)


def bind_arguments(e: A.Call, params: tuple[tuple[str, bool], ...],
                   spelled: str) -> dict[str, Optional[A.Expr]]:
    """Python's rules for positional and keyword arguments."""
    names = [n for n, _ in params]
    if len(e.args) > len(params):
        raise error(f"{spelled} takes at most {len(params)} argument"
                    f"{'s' if len(params) != 1 else ''}, got {len(e.args)}", e)
    bound: dict[str, Optional[A.Expr]] = dict(zip(names, e.args))
    for kw in e.keywords:
        if kw.name not in names:
            raise error(f"{spelled} has no parameter '{kw.name}'", kw,
                        note="parameters: " + (", ".join(names) or "none"))
        if kw.name in bound:
            raise error(f"'{kw.name}' is given twice", kw)
        bound[kw.name] = kw.value
    for name, required in params:
        if required and name not in bound:
            raise error(f"{spelled} needs its '{name}' argument", e)
        bound.setdefault(name, None)
    return bound


def map_operand(ck: Checker, a: A.Expr, ty: Type, role: str) -> A.Expr:
    """A key or value handed to the kernel by address: an integer
    expression, or a variable of the struct type."""
    ck.expr(a)
    if isinstance(ty, StructType):
        if a.ty is not ty or not is_lvalue(a):
            raise error(f"the {role} is a {ty.name} variable here, not {a.ty}", a)
        return a
    return coerce(a, ty, role)
