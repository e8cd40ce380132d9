"""Rules over the whole syntax tree, once it is built: what Python's compiler
refuses of a parsed module (future imports it does not know or that come
too late), and pybpfc's bound on how deeply a program may nest.

The checker and lowering walk the tree recursively, so a tree deeper than
:data:`.source.MAX_NESTING` is refused here, at its deepest point, before
they see it.  An `elif` does not count there (a long chain is flat to its
reader), but the levels it adds are bounded by :data:`.source.MAX_TREE_DEPTH`,
below the depth at which Python's own compiler gives up.
"""
from __future__ import annotations

import __future__
from typing import Optional

from . import ast
from .errors import CompileError, Source
from .source import MAX_NESTING, MAX_TREE_DEPTH

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
        node, counting_elifs = too_deep
        if counting_elifs:
            raise CompileError(f"nested too deeply: more than {MAX_TREE_DEPTH:,} levels of "
                               "blocks and expressions, counting each elif", node.pos, source,
                               "Python's own compiler refuses a chain of about 3,000 elifs: "
                               "split the chain, e.g. into a helper function")
        raise CompileError(f"nested too deeply: more than {MAX_NESTING} levels of blocks "
                           "and expressions", node.pos, source,
                           "each block and operator nests one level deeper: name a part "
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


def _walk(module: ast.Module, leading: set[int]
          ) -> tuple[Optional[tuple[ast.Node, bool]], Optional[ast.Node]]:
    """The first node nested too deeply below the module (and whether it is
    too deep only counting elifs), and the first future import that is not a
    leading one; without recursion, so that any depth is measured."""
    # (node, levels with no elif counted, levels with each elif counted)
    stack: list[tuple[ast.Node, int, int]] = [(stmt, 1, 1) for stmt in reversed(module.body)]
    while stack:
        node, depth, tree_depth = stack.pop()
        if depth > MAX_NESTING:
            return (node, False), None
        if tree_depth > MAX_TREE_DEPTH:
            return (node, True), None
        if isinstance(node, ast.ImportFrom) and id(node) not in leading and _is_future_import(node):
            return None, node
        elif_ = _elif_of(node)
        children = []
        for value in vars(node).values():
            if isinstance(value, ast.Node):
                children.append(value)
            elif isinstance(value, list):
                children += [item for item in value if isinstance(item, ast.Node)]
        stack += [(child, depth + (child is not elif_), tree_depth + 1)
                  for child in reversed(children)]
    return None, None


def _elif_of(node: ast.Node) -> Optional[ast.Stmt]:
    """The `elif` of an `if`: its else branch when that is one `if`
    (`else:` holding only an `if` is the same tree, to Python too)."""
    if isinstance(node, ast.If) and len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
        return node.orelse[0]
    return None
