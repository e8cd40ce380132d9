"""The checker's state and its dispatch.

:class:`Checker` holds everything the walk knows (the module scope, the
function being checked, what narrowing has proven) and dispatches each
statement and expression to the function registered for its node type in
the topic modules beside this one.  The dispatch carries the error policy:
a :class:`CompileError` passes through as it is, and any other exception
is a bug in pybpfc, raised as :class:`InternalError` at the node being
checked.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional, Union

from ... import abi
from .. import ast as A
from ..dispatch import registrar
from ..errors import CompileError, CompileWarning, InternalError, Source
from ..source import MAX_TREE_DEPTH
from ..kernel_structs import KernelMember
from ..symbols import BuiltinSym, FuncSym, GlobalVar, MapVar
from ..types import NONE, StructType, Type

PHASE = "checker"

# Nesting the checker accepts; deeper is a located error, never a crash.
# The walks of every phase recurse this deep at most (the driver gives
# them the room).  An expression as deep as Python's own parser allows in
# parentheses; blocks far deeper than its 100 indentation levels, because
# each `elif` of a chain is one level more.
MAX_EXPRESSION_DEPTH = 200
MAX_BLOCK_DEPTH = MAX_TREE_DEPTH

DEFAULT_LICENSE = "GPL"

# Names every program has without importing them (Python's builtins we support).
BUILTINS = ("range", "len", "bytearray", "int", "bool", "min", "max", "list", "print",
            "enumerate")

if TYPE_CHECKING:    # (typing's objects are not made at run time: imports stay quick)
    from typing import TypeVar

    from ..symbols import Symbol
    ExprCheck = Callable[["Checker", A.Expr], None]
    StmtCheck = Callable[["Checker", A.Stmt], None]
    _F = TypeVar("_F", bound=Callable[..., None])

EXPRESSIONS: dict[type, ExprCheck] = {}
STATEMENTS: dict[type, StmtCheck] = {}


# @expression(A.Name, ...) / @statement(...): the checker of those node types.
expression = registrar(EXPRESSIONS)
statement = registrar(STATEMENTS)


def error(message: str, node: Union[A.Node, A.Pos, None],
          note: Optional[str] = None) -> CompileError:
    """A mistake in the program, at ``node``."""
    pos = node.pos if isinstance(node, A.Node) else node
    return CompileError(message, pos, note=note)


def arity(e: A.Call, n: int, name: str) -> None:
    if len(e.args) != n:
        raise error(f"{name}() takes {n} argument{'s' if n != 1 else ''}, "
                    f"got {len(e.args)}", e)


def internal(err: Exception, node: Union[A.Node, A.Pos, None]) -> InternalError:
    pos = node.pos if isinstance(node, A.Node) else node
    return InternalError(PHASE, err, pos)


class Checker:
    def __init__(self, source: Source, module: A.Module):
        self.source = source
        self.module = module
        self.scope: dict[str, Symbol] = {name: BuiltinSym(name) for name in BUILTINS}
        self.globals: list[GlobalVar] = []
        self.structs: list[StructType] = []
        self.kernel_members: dict[str, dict[str, KernelMember]] = {}
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
        # Header variables (ctx.header) a packet-moving helper made stale
        # where the walk is: name -> the call that did, in words.
        self.stale: dict[str, str] = {}
        # Loop variables running over range(len(ctx.optval)): their window
        # and loop.
        self.window_loops: dict[str, tuple[Type, A.For]] = {}
        self.expr_depth = 0
        self.block_depth = 0
        self.warnings: list[CompileWarning] = []
        # The expression being checked where a kernel pointer may stand (a
        # field's base, a new variable's value): a tp_btf argument that
        # points to a struct is one there (kstructs.pointer_wanted).
        self.pointer_wanted: Optional[A.Expr] = None

    def warn(self, message: str, node: Union[A.Node, A.Pos], note: Optional[str] = None) -> None:
        pos = node.pos if isinstance(node, A.Node) else node
        self.warnings.append(CompileWarning(message, pos, self.source, note))

    # ---------------------------------------------------------- dispatch

    def expr(self, e: A.Expr, allow_none: bool = False) -> Type:
        check = EXPRESSIONS.get(type(e))
        if check is None:
            raise error(f"{type(e).__name__} expressions are not supported", e)
        if self.expr_depth >= MAX_EXPRESSION_DEPTH:
            raise error(f"this expression is nested more than {MAX_EXPRESSION_DEPTH} levels "
                        "deep", e, note="compute parts of it into variables first")
        self.expr_depth += 1
        try:
            check(self, e)
        except (CompileError, InternalError):
            raise
        except Exception as err:
            raise internal(err, e) from err
        finally:
            self.expr_depth -= 1
        if e.ty is NONE and not allow_none:
            raise error("this call returns no value", e)
        return e.ty

    def stmt(self, s: A.Stmt) -> None:
        check = STATEMENTS.get(type(s))
        if check is None:
            raise error(f"{type(s).__name__} statements are not supported", s)
        try:
            check(self, s)
        except (CompileError, InternalError):
            raise
        except Exception as err:
            raise internal(err, s) from err

    def block(self, stmts: list[A.Stmt]) -> None:
        if self.block_depth >= MAX_BLOCK_DEPTH and stmts:
            raise error(f"blocks are nested more than {MAX_BLOCK_DEPTH} levels deep (an elif "
                        "is one level more)", stmts[0],
                        note="move the inner part into a helper function")
        self.block_depth += 1
        try:
            for s in stmts:
                self.stmt(s)
        finally:
            self.block_depth -= 1

    # ------------------------------------------------------------ scope

    def bind(self, name: str, symbol: Symbol, node: A.Node | A.Pos) -> None:
        if name in self.scope and not isinstance(self.scope[name], BuiltinSym):
            raise error(f"'{name}' is already defined", node)
        self.scope[name] = symbol

    def is_builtin(self, e: A.Name, name: str) -> bool:
        if self.func is not None and e.id in self.func.locals:
            return False
        sym = self.scope.get(e.id)
        return isinstance(sym, BuiltinSym) and sym.name == name

    def current(self) -> FuncSym:
        assert self.func is not None
        return self.func

    def calling_function(self, node: Union[A.Node, A.Pos], spelled: str) -> FuncSym:
        """The function a call of ``spelled`` is in; none at module level,
        where values are computed when compiling."""
        if self.func is None:
            raise error(f"{spelled} cannot be called at module level: a module-level value "
                        "is computed when compiling", node)
        return self.func

    def refuse_stale(self, e: A.Name) -> None:
        """A header variable used after a helper that may move the packet."""
        raise error(f"'{e.id}' points into the packet as it was before {self.stale[e.id]}, "
                    "which may have moved it", e,
                    note="call ctx.header(...) again after that call and use what it returns")

    def current_hook(self) -> abi.Hook:
        fn = self.current()
        if fn.hook is None:
            raise error("a helper function cannot use the context's fields; read them in "
                        "the hook and pass the values", None)
        return fn.hook

    def helper_called(self, call: A.Call, helper: abi.Helper, node: Union[A.Node, A.Pos],
                      spelled: str) -> None:
        """``call`` calls the kernel helper ``helper``, which the hook being
        checked may call (the kernel's rule)."""
        fn = self.calling_function(node, spelled)
        fn.kernel_calls.append(call)
        if fn.hook is not None and helper.name not in fn.hook.helpers:
            where = [h.decorator for h in abi.HOOKS if helper.name in h.helpers]
            raise error(f"{spelled} is not available in a @{fn.hook.decorator} hook", node,
                        note=f"it calls the kernel helper {helper.name}, available in "
                             + ", ".join("@" + w for w in where))
        if fn.hook is None and not all(helper.name in h.helpers for h in abi.HOOKS):
            raise error(f"{spelled} is available only in some hooks: call it from "
                        "the hook itself", node)
