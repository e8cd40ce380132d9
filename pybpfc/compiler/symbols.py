"""What a name in a program stands for.

The checker binds every name to one of these symbols: a variable (local or
global), a map, a constant, a type, a function, or one of the names pybpfc
and Python provide (decorators, builtins, kernel helpers).  The checked
program (:class:`CheckedProgram`) is the module with its symbols; frame
planning, lowering and any other reader of a checked program start there.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Union

from .. import abi
from ..records import field, record
from . import ast as A
from .types import NONE, MapType, StructType, Type

if TYPE_CHECKING:
    from .errors import CompileWarning, Source
    from .kernel_structs import KernelMember, KernelStruct

# Names the object gives things of its own: the section libbpf and the
# kernel read the license from, and the symbol of the license string there.
# A program's functions, globals and maps cannot take them.
LICENSE_SECTION = "license"
LICENSE_SYMBOL = "_license"


@record(eq=False)
class LocalVar:
    name: str
    ty: Type
    pos: A.Pos
    is_param: bool = False


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
        return ".bss" if all_zero(self.init) else ".data"


@record(eq=False)
class MapVar:
    name: str
    ty: MapType
    pos: A.Pos


@record(eq=False)
class MapKindSym:
    kind: abi.MapKind


@record(eq=False)
class AnnotationSym:
    """``Ref`` and ``ReadOnly``: names that only appear in annotations."""
    name: str


@record(eq=False)
class ConstSym:
    name: str
    ty: Type          # an IntType, BOOL, UNTYPED_INT or a BytesLitType
    value: Union[int, bool, bytes]


@record(eq=False)
class TypeSym:
    ty: Type


@record(eq=False)
class KernelStructSym:
    """A kernel struct imported from ``pybpfc.vmlinux``: ``task_struct(addr)``
    takes a kernel address as a pointer to one."""
    struct: "KernelStruct"


@record(eq=False)
class ContextTypeSym:
    context: abi.Context


@record(eq=False)
class HookDecoratorSym:
    hook: abi.Hook


@record(eq=False)
class StructDecoratorSym:
    pass


@record(eq=False)
class FinalSym:
    pass


@record(eq=False)
class IntEnumBaseSym:
    """``enum.IntEnum``, the base of a class of named constants."""


@record(eq=False)
class EnumSym:
    """A class of named integer constants (``class Proto(IntEnum)``): its
    members read as untyped constants, ``Proto.TCP``."""
    name: str
    members: dict[str, int]


@record(eq=False)
class BuiltinSym:
    name: str


@record(eq=False)
class HelperSym:
    helper: abi.Helper


@record(eq=False)
class FuncSym:
    node: A.FunctionDef
    hook: Optional[abi.Hook] = None
    params: list[LocalVar] = field(default_factory=list)
    ret: Type = NONE
    locals: dict[str, LocalVar] = field(default_factory=dict)
    globals_declared: set[str] = field(default_factory=set)
    globals_used: set[str] = field(default_factory=set)
    # Every call of another function of the program, in source order.
    calls: list[tuple["FuncSym", A.Call]] = field(default_factory=list)
    # Every call of a kernel helper (a function of pybpfc's, a map method,
    # print), in the order checked.
    kernel_calls: list[A.Call] = field(default_factory=list)
    # Reads of a part of a packed context member (access.read_parts).
    part_reads: list[A.Attribute] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.node.name


if TYPE_CHECKING:
    Symbol = Union[LocalVar, GlobalVar, ConstSym, TypeSym, ContextTypeSym, HookDecoratorSym,
                   StructDecoratorSym, FinalSym, BuiltinSym, FuncSym, HelperSym, MapVar,
                   MapKindSym, AnnotationSym, IntEnumBaseSym, EnumSym, KernelStructSym]


@record
class CheckedProgram:
    """A program the checker accepted: every expression typed and resolved
    (see :mod:`.contract`), every name bound to its symbol."""
    source: "Source"
    module: A.Module
    license: str
    globals: list[GlobalVar]
    structs: list[StructType]
    functions: list[FuncSym]       # hooks and helpers, in source order
    maps: list[MapVar] = field(default_factory=list)
    # What the kernel will load but will surely fail at run time.
    warnings: list["CompileWarning"] = field(default_factory=list)
    # The kernel structs' members the program reads, by struct name: the
    # object describes each struct with these members only (CO-RE).
    kernel_members: dict[str, dict[str, "KernelMember"]] = field(default_factory=dict)

    @property
    def hooks(self) -> list[FuncSym]:
        return [f for f in self.functions if f.hook is not None]


def all_zero(init: object) -> bool:
    """Whether a global's initial value is all zero bytes."""
    if init is None or init is False or init == 0:
        return True
    if isinstance(init, bytes):
        return not any(init)
    if isinstance(init, list):
        return all(all_zero(v) for v in init)
    return False
