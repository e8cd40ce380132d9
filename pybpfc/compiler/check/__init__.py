"""The checker: names, types and hook rules.

It walks the syntax tree once, binds every name to a symbol, gives every
expression a type (inserting explicit ``Cast`` nodes where a value changes
type), folds constants, enforces each hook's context rules from the hook
table, and records what every call and access is (:mod:`..contract`).
Anything it does not understand is rejected by name, at its position.

The walk's state and dispatch are in :mod:`.state`; each topic module
registers the checkers of its node types there:

- :mod:`.declarations` module-level statements and functions as a whole
  (signatures, the call graph), :mod:`.type_names` annotations and array
  lengths, :mod:`.maps` maps;
- :mod:`.statements` (with assignments) and :mod:`.narrowing` inside
  functions;
- :mod:`.expressions` names, operators and how types meet,
  :mod:`.comparisons` comparisons, :mod:`.calls` calls, :mod:`.access`
  fields and elements, and the context and what is reached through it;
  :mod:`.sequences` loops over bytearrays and lists.

The topic modules import one another in one direction (state; narrowing,
expressions; comparisons; access, type_names; maps; calls; sequences;
statements; declarations).
"""
from __future__ import annotations

from typing import Callable

from ... import abi
from .. import ast as A
from ..errors import CompileError, InternalError, Source
from ..symbols import CheckedProgram
# Imported for the checkers they register.
from . import access, calls, comparisons, expressions, statements  # noqa: F401
from .declarations import (declare_function, function_body, function_signature,
                           module_statement, reject_names_btf_refuses,
                           reject_object_name_clashes, reject_recursion)
from .state import Checker, error, internal

__all__ = ["check", "CheckedProgram"]


def check(source: Source, module: A.Module) -> CheckedProgram:
    ck = Checker(source, module)
    functions = []
    for stmt in module.body:
        if isinstance(stmt, A.FunctionDef):
            functions.append(_at(stmt, declare_function, ck, stmt))
        else:
            _at(stmt, module_statement, ck, stmt)
    _at(module, reject_object_name_clashes, ck)
    _at(module, reject_names_btf_refuses, ck)
    # Functions may call functions defined after them, as in Python.
    for fn in functions:
        _at(fn.node, function_signature, ck, fn)
    for fn in functions:
        _at(fn.node, function_body, ck, fn)
    _at(module, reject_recursion, ck.functions)
    if not any(f.hook for f in ck.functions):
        raise error("the program defines no hook: decorate a function with a hook "
                    "decorator such as @cgroup_sysctl", None,
                    note="hook decorators: " + ", ".join(h.decorator for h in abi.HOOKS))
    return CheckedProgram(source, module, ck.license, ck.globals, ck.structs, ck.functions,
                          ck.maps, ck.warnings, ck.kernel_members)


def _at(node: A.Node, step: Callable, *args):  # type: ignore[no-untyped-def,type-arg]
    """Run one step of the check over ``node``: a pybpfc bug met there is
    an internal error at its position (a deeper node may have located it
    already)."""
    try:
        return step(*args)
    except (CompileError, InternalError):
        raise
    except Exception as err:
        raise internal(err, node) from err
