"""Checking annotations: the types they name, and the values that give
arrays their length and first contents (``bytearray(16)``, ``[0] * 4``)."""
from __future__ import annotations

from typing import Optional, Union

from ... import abi
from .. import ast as A
from ..contract import BytesInit, ListInit
from ..symbols import (AnnotationSym, BuiltinSym, ContextTypeSym, FinalSym, KernelStructSym,
                       MapKindSym, TypeSym)
from ..types import (BOOL, DEFAULT_INT, NONE, U8, ArrayType, ContextType, KernelPtrType, Type,
                     is_scalar)
from .expressions import coerce
from .state import Checker, error


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
        if isinstance(sym, KernelStructSym):
            # A pointer to one, its fields probe-read (any pointer to one fits).
            return KernelPtrType(sym.struct.name, trusted=False)
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
