"""Checking calls: what each call is (a kernel helper, a map method, a
function of the program, a conversion, a builtin) is decided here and
recorded on the call for lowering."""
from __future__ import annotations

from ... import abi
from .. import ast as A
from .. import semantics
from ..contract import (AtomicAdd, ByteSwap, Conversion, HelperCall, MinMax, Print, StartsWith,
                        UserCall, WindowLength)
from ..symbols import (BuiltinSym, FuncSym, GlobalVar, HelperSym, KernelStructSym, LocalVar,
                       MapKindSym, TypeSym)
from ..types import (BOOL, DEFAULT_INT, INT_TYPES, NETWORK_OF, NONE, PARSED_TYPES, U16, U32, U64, UNTYPED_INT,
                     ArrayType, BytesLitType, ContextType, IntType, RefType, SockRefType,
                     StructType, Type, WindowType, int_type, is_int, is_scalar)
from . import access, kstructs, maps, packet
from .access import lvalue_path, memory_root, reject_readonly_root
from .expressions import coerce, is_lvalue, truth, unify_ints
from .state import Checker, arity, error, expression

BYTE_ORDER_WIDTH = {"htons": U16, "ntohs": U16, "htonl": U32, "ntohl": U32}


@expression(A.Call)
def check_call(ck: Checker, e: A.Call) -> None:
    for a in e.args:
        if isinstance(a, A.Unsupported):
            raise error(f"{a.what} is not supported", a)
    f = e.func
    if isinstance(f, A.Attribute):
        mv = maps.map_named(ck, f.value)
        if mv is not None:
            maps.map_call(ck, e, mv, f)
            return
    if e.keywords:
        raise error("keyword arguments are not supported here", e.keywords[0])
    if isinstance(f, A.Attribute):
        ck.expr(f.value)
        if isinstance(f.value.ty, WindowType):
            access.window_call(ck, e, f)
            return
        if isinstance(f.value.ty, ArrayType) and f.value.ty.is_bytes:
            bytes_method(ck, e, f)
            return
        if isinstance(f.value.ty, ContextType) and f.attr in access.PACKET_LOADS:
            access.packet_load(ck, e, f)
            return
        if isinstance(f.value.ty, ContextType) and f.attr == "header":
            packet.header_call(ck, e, f)
            return
        raise error("methods are not supported", f.attr_pos)
    if not isinstance(f, A.Name):
        raise error("only named functions can be called", f)
    sym = None if (ck.func and f.id in ck.func.locals) else ck.scope.get(f.id)
    if sym is None:
        if ck.func and f.id in ck.func.locals:
            raise error(f"'{f.id}' is a variable, not a function", f)
        raise error(f"unknown function '{f.id}'", f)
    f.symbol = sym
    if isinstance(sym, KernelStructSym):
        kstructs.pointer_cast(ck, e, sym)
    elif isinstance(sym, TypeSym):
        if isinstance(sym.ty, StructType):
            raise error(f"{sym.ty.name}() may only initialise a variable", e)
        conversion(ck, e, sym.ty)
    elif isinstance(sym, BuiltinSym):
        builtin_call(ck, e, sym.name)
    elif isinstance(sym, FuncSym):
        function_call(ck, e, sym)
    elif isinstance(sym, HelperSym):
        if sym.helper.returns in PARSED_TYPES:
            raise error(f"{sym.helper.name}() may only initialise a variable: "
                        f"`parsed = {sym.helper.name}(...)`", e)
        helper_call(ck, e, sym.helper)
    elif isinstance(sym, MapKindSym):
        raise error(f"a {sym.kind.python_name} is declared at module level", e)
    else:
        raise error(f"'{f.id}' cannot be called", f)


def conversion(ck: Checker, e: A.Call, to: Type) -> None:
    """``u32(x)``, ``int(x)``, ``bool(x)``."""
    arity(e, 1, str(to))
    arg = e.args[0]
    ck.expr(arg)
    e.resolved = Conversion(to)
    if to is BOOL:
        e.args[0] = truth(arg)
        e.ty, e.const = BOOL, e.args[0].const
        return
    assert isinstance(to, IntType)
    if kstructs.address_of(e, to):
        return
    network_conversion(arg, to)
    if arg.ty is UNTYPED_INT:
        e.ty, e.const = to, semantics.convert(arg.const, to)
        if DEFAULT_INT.fits(arg.const):
            coerce(arg, DEFAULT_INT, "value")
        elif U64.fits(arg.const):
            coerce(arg, U64, "value")
        else:
            raise error(f"{arg.const} does not fit in 64 bits", arg)
        return
    if not is_scalar(arg.ty):
        raise error(f"cannot convert {arg.ty} to {to}", arg)
    e.ty = to
    if arg.const is not None:
        e.const = semantics.convert(int(arg.const), to)


def network_conversion(arg: A.Expr, to: IntType) -> None:
    """A conversion never changes byte order: that is what ntohs() and
    htons() (and the l) are for."""
    src = arg.ty
    if to.network:
        raise error(f"{to} holds network byte order: write htons(x) or htonl(x) to get "
                    "one from a host-order number", arg)
    if isinstance(src, IntType) and src.network:
        host = "ntohs" if src.bits == 16 else "ntohl"
        raise error(f"{arg_text(arg)} is {src}, network byte order: convert it with "
                    f"{host}(...)", arg)


def arg_text(arg: A.Expr) -> str:
    """How the program spells a name or field (``ip.tot_len``)."""
    if isinstance(arg, A.Name):
        return arg.id
    if isinstance(arg, A.Attribute) and isinstance(arg.value, (A.Name, A.Attribute)):
        return f"{arg_text(arg.value)}.{arg.attr}"
    return "this value"


def builtin_call(ck: Checker, e: A.Call, name: str) -> None:
    if name == "print":
        print_call(ck, e)
    elif name == "atomic_add":
        atomic_add(ck, e)
    elif name == "int":
        conversion(ck, e, DEFAULT_INT)
    elif name == "bool":
        conversion(ck, e, BOOL)
    elif name == "len":
        length(ck, e)
    elif name in ("min", "max"):
        min_max(ck, e, name)
    elif name in BYTE_ORDER_WIDTH:
        arity(e, 1, name)
        ty = BYTE_ORDER_WIDTH[name]
        ck.expr(e.args[0])
        e.args[0] = byte_order_argument(e.args[0], ty, name)
        e.ty = ty
        e.resolved = ByteSwap(ty, to_network=name.startswith("hton"))
        if e.args[0].const is not None:
            e.const = int.from_bytes(e.args[0].const.to_bytes(ty.size, "big"), "little")
    elif name in ("range", "enumerate"):
        raise error(f"{name}() is only for `for` loops", e)
    elif name == "bytearray":
        raise error("bytearray() may only initialise a variable", e)
    elif name == "list":
        raise error("list() is not supported: write `[0] * N`", e)
    else:
        raise error(f"{name}() is not supported", e)


def byte_order_argument(arg: A.Expr, ty: IntType, name: str) -> A.Expr:
    """ntohs/ntohl take a network-order value (be16/be32) or, as before
    there were such types, a host-typed one; htons/htonl a host-order one."""
    if isinstance(arg.ty, IntType) and arg.ty.network:
        if name.startswith("hton"):
            raise error(f"{arg.ty} is network byte order already: {name}() converts a "
                        "host-order number", arg, note=f"ntoh{name[-1]}() converts it back")
        if arg.ty.bits != ty.bits:
            raise error(f"{name}() converts a {NETWORK_OF[ty.bits]}, not {arg.ty}", arg)
        cast = A.Cast(arg.pos, arg)      # the same bits, to be swapped
        cast.ty = ty
        cast.const = arg.const
        return cast
    return coerce(arg, ty, f"{name}() argument")


def length(ck: Checker, e: A.Call) -> None:
    arity(e, 1, "len")
    arg = e.args[0]
    ck.expr(arg)
    if isinstance(arg.ty, (ArrayType, BytesLitType)):
        e.ty, e.const = U32, arg.ty.length
    elif isinstance(arg.ty, WindowType):
        assert isinstance(arg, A.Attribute)
        e.ty = U32
        e.resolved = WindowLength(arg.ty, arg.value)
    else:
        raise error(f"len() of {arg.ty} is not supported", arg)


def min_max(ck: Checker, e: A.Call, name: str) -> None:
    arity(e, 2, name)
    for a in e.args:
        ck.expr(a)
        if not is_int(a.ty):
            raise error(f"{name}() needs integers, not {a.ty}", a)
    pick = min if name == "min" else max
    if all(a.ty is UNTYPED_INT for a in e.args):
        # Of two literals, a literal: it takes its type from its use, as
        # `1 + 2` does.
        e.ty = UNTYPED_INT
        e.const = pick(a.const for a in e.args)
        return
    ty = unify_ints(e.args)
    e.args = [coerce(a, ty, "argument") for a in e.args]
    e.ty = ty
    e.resolved = MinMax(smallest=name == "min")
    if all(a.const is not None for a in e.args):
        e.const = pick(a.const for a in e.args)


def bytes_method(ck: Checker, e: A.Call, f: A.Attribute) -> None:
    if f.attr != "startswith":
        raise error(f"bytearray.{f.attr}() is not supported; startswith() is", f.attr_pos,
                    note="to search, write a loop: `for i, c in enumerate(buf):` and "
                         "test `c` (break at the first match)")
    if len(e.args) > 1:
        raise error("startswith() compares the start of the bytearray only: an offset "
                    "is not supported", e.args[1],
                    note="copy the prefix into a bytearray, `p = bytearray(b\"...\")`, then "
                         "compare: `for i, c in enumerate(p):` with `buf[off + i] != c`")
    arity(e, 1, "startswith")
    prefix = e.args[0]
    ck.expr(prefix)
    if not isinstance(prefix.const, bytes):
        raise error("startswith() takes a bytes literal", prefix)
    if not is_lvalue(f.value):
        raise error("startswith() needs a bytearray variable", f.value)
    e.ty = BOOL
    size = f.value.ty.length  # type: ignore[union-attr]
    if len(prefix.const) > size:
        raise error(f"a {len(prefix.const)}-byte prefix never starts a {size}-byte bytearray, "
                    "so this test is always False", e,
                    note=f"make the bytearray at least {len(prefix.const)} bytes long: "
                         f"bytearray({len(prefix.const)})")
    e.resolved = StartsWith(f.value, prefix.const, isinstance(f.value, A.Name))


def helper_call(ck: Checker, e: A.Call, helper: abi.Helper) -> None:
    """A kernel helper called as a function of pybpfc's."""
    ck.helper_called(e, helper, e.func, f"{helper.name}()")
    arity(e, len(helper.params), helper.name)
    args = []
    for a, kind in zip(e.args, helper.params):
        if kind == "ctx_or_null" and isinstance(a, A.NoneLit):
            a.ty = NONE         # the kernel's NULL
            args.append(a)
            continue
        if kind in abi.MAP_PARAMS:
            wanted = abi.MAP_PARAMS[kind]
            declared = maps.map_named(ck, a)
            if declared is None or declared.ty.kind.python_name != wanted:
                raise error(f"{helper.name}() takes a {wanted} the module declares here", a)
            a.ty = declared.ty
            args.append(a)
            continue
        ck.expr(a)
        if kind in ("ctx", "ctx_or_null"):
            if not isinstance(a.ty, ContextType):
                raise error(f"{helper.name}() takes the hook's context here"
                            + (", or None" if kind == "ctx_or_null" else ""), a)
            args.append(a)
        elif kind == "sock":
            # The socket: ctx.sk, or the context itself where it is a socket's.
            is_socket = isinstance(a.ty, SockRefType) or (
                isinstance(a.ty, ContextType) and a.ty.context.is_socket)
            if not is_socket:
                spelled = "ctx" if ck.current_hook().context.is_socket else "ctx.sk"
                raise error(f"{helper.name}() takes the socket, {spelled}, here", a)
            args.append(a)
        elif kind in ("buffer", "buffer_start", "buffer_tail"):
            require_buffer(a, f"{helper.name}()")
            if kind == "buffer_tail" and not (isinstance(a, A.Name)
                                              and isinstance(a.symbol, LocalVar)):
                raise error(f"{helper.name}() reads a local bytearray variable", a)
            args.append(a)
        elif kind == "raw":
            args.append(raw_bits(a, f"argument of {helper.name}()"))

        else:
            a = coerce(a, int_type(kind), f"argument of {helper.name}()")
            if args and helper.params[len(args) - 1] == "buffer_start" \
                    and a.const is not None and a.const < 1:
                raise error(f"{helper.name}() needs a length of at least 1", a)
            args.append(a)
    e.args = args
    if helper.returns in PARSED_TYPES:
        e.ty = PARSED_TYPES[helper.returns]
    else:
        pointer = kstructs.helper_pointer(helper)
        e.ty = pointer or (NONE if helper.returns == "None" else int_type(helper.returns))
    e.resolved = HelperCall(helper)
    if helper.moves_packet:
        packet.packet_moved(ck, e, helper)


def raw_bits(a: A.Expr, what: str) -> A.Expr:
    """An integer of either byte order, handed to the kernel as the bits it
    holds (a header field as it is on the wire), zero-extended to 64 bits."""
    if a.ty is UNTYPED_INT:
        return coerce(a, U64, what)
    if not isinstance(a.ty, IntType):
        raise error(f"{what} must be an integer, not {a.ty}", a)
    if a.ty == U64:
        return a
    cast = A.Cast(a.pos, a)
    cast.ty = U64 if not a.ty.signed else INT_TYPES["i64"]
    if a.const is not None:
        cast.const = a.const
    return cast


def require_buffer(a: A.Expr, who: str) -> None:
    if not (isinstance(a.ty, ArrayType) and a.ty.is_bytes and is_lvalue(a)):
        raise error(f"{who} takes a bytearray variable here, not {a.ty}", a)


def print_call(ck: Checker, e: A.Call) -> None:
    """``print("text", value, ...)``: one line in the kernel's trace
    buffer; the checker builds the format string."""
    helper = abi.HELPERS["trace_printk"]
    ck.helper_called(e, helper, e.func, "print()")
    if e.keywords:
        raise error("print() takes no keyword arguments here", e.keywords[0])
    parts, values = [], []
    for i, a in enumerate(e.args):
        if isinstance(a, A.StrLit):
            if "\0" in a.value:
                raise error("a NUL character cannot be printed", a)
            parts.append(a.value.replace("%", "%%"))
            continue
        ck.expr(a)
        if a.ty is UNTYPED_INT:
            a = coerce(a, DEFAULT_INT if DEFAULT_INT.fits(a.const) else U64, "value")
        if a.ty is BOOL:
            parts.append("%d")
        elif isinstance(a.ty, IntType):
            parts.append("%lld" if a.ty.signed else "%llu")
        else:
            raise error(f"print() shows strings and integers, not {a.ty}", a)
        values.append(a)
        if len(values) > abi.TRACE_PRINTK_MAX_VALUES:
            raise error(f"print() shows at most {abi.TRACE_PRINTK_MAX_VALUES} values "
                        "(the limit of the kernel's bpf_trace_printk)", a)
        e.args[i] = a
    e.args = [a for a in e.args if not isinstance(a, A.StrLit)]
    e.ty = NONE
    # No newline: the trace buffer ends every event with one of its own.
    e.resolved = Print(" ".join(parts).encode())


def atomic_add(ck: Checker, e: A.Call) -> None:
    arity(e, 2, "atomic_add")
    target, amount = e.args
    ck.expr(target)
    root = memory_root(target)
    in_map = isinstance(root.ty, RefType) and not root.ty.packet
    in_global = isinstance(root, A.Name) and isinstance(root.symbol, GlobalVar)
    if not (in_map or in_global) or not is_lvalue(target):
        raise error("atomic_add() works on a global or on a value in a map", target)
    if in_global:
        reject_readonly_root(target)
    if any(isinstance(n, A.Subscript) and n.index.const is None for n in lvalue_path(target)):
        raise error("atomic_add() needs constant indexes", target)
    if not (isinstance(target.ty, IntType) and target.ty.bits in (32, 64)):
        raise error(f"atomic_add() works on 32- and 64-bit integers, not {target.ty}", target)
    ck.expr(amount)
    e.args[1] = coerce(amount, target.ty, "the amount")
    e.ty = target.ty
    e.resolved = AtomicAdd(old_value_used=True)


def function_call(ck: Checker, e: A.Call, fn: FuncSym) -> None:
    caller = ck.calling_function(e, f"{fn.name}()")
    if fn.hook is not None:
        raise error(f"'{fn.name}' is a hook; hooks are run by the kernel and cannot be "
                    "called", e)
    if len(e.args) != len(fn.params):
        n = len(fn.params)
        raise error(f"{fn.name}() takes {n} argument{'s' if n != 1 else ''}, "
                    f"got {len(e.args)}", e)
    args = []
    for a, p in zip(e.args, fn.params):
        ck.expr(a)
        if isinstance(p.ty, (StructType, ContextType)):
            if a.ty != p.ty:
                raise error(f"expected {p.ty}, got {a.ty}", a)
            if isinstance(p.ty, StructType) and not is_lvalue(a):
                raise error("pass a struct variable", a)
            args.append(a)
        else:
            args.append(coerce(a, p.ty, f"argument '{p.name}'"))
    e.args = args
    e.ty = fn.ret
    e.resolved = UserCall(fn, tuple(isinstance(p.ty, StructType) for p in fn.params))
    caller.calls.append((fn, e))
