"""Rules over the whole syntax tree, once it is built: what Python's compiler
refuses of a parsed module (future imports it does not know or that come
too late), and pybpfc's bound on how deeply a program may nest.

The checker and lowering walk the tree recursively, so a tree deeper than
:data:`.source.MAX_NESTING` is refused here, at its deepest point, before
they see it.
"""
from __future__ import annotations

import __future__
from typing import Optional

from . import ast
from .errors import CompileError, Source
from .source import MAX_NESTING

_FUTURE = "__future__"


def check_tree(module: ast.Module, source: Source) -> None:
    """Raise CompileError for the first thing in `module` Python or pybpfc refuses."""
    leading = _leading_future_imports(module)
    for stmt in leading:
        _check_features(stmt, source)
    too_deep, late = _walk(module, {id(stmt) for stmt in leading})
    if late is not None:
        raise CompileError("from __future__ imports must occur at the beginning of the file",
                           late.pos, source,
                           "only the docstring and other __future__ imports may come before one")
    if too_deep is not None:
        raise CompileError(f"nested too deeply: more than {MAX_NESTING} levels of blocks "
                           "and expressions", too_deep.pos, source,
                           "each block, elif and operator nests one level deeper: name a part "
                           "of the expression, or split the chain")


def _leading_future_imports(module: ast.Module) -> list[ast.ImportFrom]:
    """The future imports Python takes: those that only a docstring and
    other future imports come before."""
    body = module.body
    start = 1 if body and _is_docstring(body[0]) else 0
    leading = []
    for stmt in body[start:]:
        if not _is_future_import(stmt):
            break
        assert isinstance(stmt, ast.ImportFrom)
        leading.append(stmt)
    return leading


def _is_docstring(stmt: ast.Stmt) -> bool:
    return isinstance(stmt, ast.ExprStmt) and isinstance(stmt.value, ast.StrLit)


def _is_future_import(stmt: ast.Node) -> bool:
    # Python ignores leading dots here: `from .__future__ import x` is one too.
    return isinstance(stmt, ast.ImportFrom) and stmt.module.lstrip(".") == _FUTURE


def _check_features(stmt: ast.ImportFrom, source: Source) -> None:
    for name, _ in stmt.names:
        if name == "braces":
            raise CompileError("not a chance", stmt.pos, source)
        if name not in __future__.all_feature_names:
            raise CompileError(f"future feature {name} is not defined", stmt.pos, source)


def _walk(module: ast.Module, leading: set[int]) -> tuple[Optional[ast.Node], Optional[ast.Node]]:
    """The first node nested more than MAX_NESTING levels below the module,
    and the first future import that is not a leading one; without
    recursion, so that any depth is measured."""
    stack: list[tuple[ast.Node, int]] = [(stmt, 1) for stmt in reversed(module.body)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            return node, None
        if isinstance(node, ast.ImportFrom) and id(node) not in leading and _is_future_import(node):
            return None, node
        children = []
        for value in vars(node).values():
            if isinstance(value, ast.Node):
                children.append(value)
            elif isinstance(value, list):
                children += [item for item in value if isinstance(item, ast.Node)]
        stack += [(child, depth + 1) for child in reversed(children)]
    return None, None
