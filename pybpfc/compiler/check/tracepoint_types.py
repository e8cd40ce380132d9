"""Typed tracepoint contexts: ``from pybpfc.tracepoints import
syscalls__sys_enter_openat`` and ``def enter(ctx: syscalls__sys_enter_openat)``
under ``@tracepoint("syscalls", "sys_enter_openat")``.

Such a class is ``TracepointContext`` with the tracepoint it stands for in
its name: the hook's context is still the one its decorator reads from the
kernel (:mod:`.hook_targets`); the class only has to name the same
tracepoint.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ... import abi
from ...tracepoints import SEPARATOR, tracepoint_of
from .. import ast as A
from ..symbols import ContextTypeSym
from ..types import ContextType
from .state import Checker, error

if TYPE_CHECKING:
    from ..symbols import FuncSym

MODULE = "pybpfc.tracepoints"


def import_names(ck: Checker, stmt: A.ImportFrom) -> None:
    """Binds each imported class as a context type standing for its tracepoint."""
    for i, (name, alias) in enumerate(stmt.names):
        at: A.Node | A.Pos = stmt.name_pos[i] if i < len(stmt.name_pos) else stmt
        if name == "*":
            raise error(f"`from {MODULE} import *` is not supported: import names one by one",
                        at)
        if tracepoint_of(name) is None:
            raise error(f"{MODULE} has no '{name}': a tracepoint's context is named "
                        f"CATEGORY{SEPARATOR}NAME, e.g. syscalls{SEPARATOR}sys_enter_openat",
                        at)
        ck.bind(alias or name, ContextTypeSym(abi.TRACEPOINT._replace(python_name=name)), at)


def _named_tracepoint(context: abi.Context) -> tuple[str, str] | None:
    """The tracepoint a context bound by import_names stands for."""
    if context.c_name != abi.TRACEPOINT.c_name or context is abi.TRACEPOINT:
        return None
    return tracepoint_of(context.python_name)


def accept_typed_context(fn: FuncSym) -> None:
    """A hook whose parameter is a typed tracepoint class: it must be a
    @tracepoint hook for that same tracepoint, and then takes the context
    the decorator read, exactly as ``TracepointContext`` would."""
    assert fn.hook is not None
    if len(fn.params) != 1 or not isinstance(fn.params[0].ty, ContextType):
        return
    named = _named_tracepoint(fn.params[0].ty.context)
    if named is None:
        return
    where = fn.node.args[0].annotation or fn.node.args[0]
    spelled = fn.params[0].ty.context.python_name
    decorator = f'@tracepoint("{named[0]}", "{named[1]}")'
    if fn.hook.attach_target != abi.TARGET_TRACEPOINT:
        raise error(f"{spelled} is the context of a {decorator} hook, not of a "
                    f"@{fn.hook.decorator} hook", where)
    if fn.hook.target_values != named:
        raise error(f"{spelled} is the context of tracepoint {named[0]}/{named[1]}, but this "
                    f"hook is attached to {'/'.join(fn.hook.target_values)}", where,
                    note=f"annotate it with the class of the decorator's tracepoint, "
                         f"{SEPARATOR.join(fn.hook.target_values)}, or TracepointContext")
    fn.params[0].ty = ContextType(fn.hook.context)
