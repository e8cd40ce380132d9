"""Judging a program file against Python's own reading of it.

Python's verdict on the bytes is ``compile(data, ..., "exec")``: it decodes
them as PEP 263 says, parses and compiles.  pybpfc's is
``decode_source`` then ``compile_source``, as ``pybpfc build`` does.  Then:

- pybpfc fails otherwise than with a located CompileError: an internal error;
- Python refuses the file and pybpfc compiles it: a disagreement;
- both parse it, and a name in pybpfc's tree is not the name Python reads
  at that place (or any identifier is one Python does not have), or a
  statement is not in the block Python puts it in: a disagreement, even if
  pybpfc's checker refuses the program later;
- anything else is fine: both refuse, only pybpfc refuses (the language
  is a subset), or both accept with the same names.
"""
from __future__ import annotations

import ast as python_ast
import collections
import traceback
import warnings
from typing import Any, Iterator, NamedTuple, Optional

from pybpfc.compiler import ast
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import CompileError, Source
from pybpfc.compiler.parser import parse
from pybpfc.compiler.source import decode_source

from .compile_check import INTERNAL, PATH, rendering_problem

DISAGREEMENT = "disagreement"
BOTH_REFUSE, ONLY_PYBPFC_REFUSES, BOTH_ACCEPT = (
    "both refuse", "only pybpfc refuses", "both accept")
PROBLEMS = (INTERNAL, DISAGREEMENT)


class Verdict(NamedTuple):
    kind: str
    detail: str = ""


def python_verdict(data: bytes) -> Optional[str]:
    """Why Python refuses to compile `data`, or None when it compiles."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, PATH, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, UnicodeError, RecursionError, MemoryError,
            OverflowError) as err:
        return f"{type(err).__name__}: {err}"
    return None


def judge_file(data: bytes) -> Verdict:
    refused_by_python = python_verdict(data)
    try:
        source = decode_source(data, PATH)
        module = parse(source)
        # Readings are compared whenever both parse the file, even when the
        # checker then refuses it: a name or block read otherwise is a bug.
        mismatch = "" if refused_by_python else reading_mismatch(source.text, module, data)
        if mismatch:
            return Verdict(DISAGREEMENT, mismatch)
        compile_source(source)
    except CompileError as err:
        rendered = err.render()
        problem = rendering_problem(err.source.text if err.source else "", rendered)
        if problem:
            return Verdict(INTERNAL, f"{problem}: {rendered!r}")
        return Verdict(BOTH_REFUSE if refused_by_python else ONLY_PYBPFC_REFUSES,
                       rendered.split("\n")[0])
    except Exception:
        return Verdict(INTERNAL, traceback.format_exc(limit=-4))
    if refused_by_python:
        return Verdict(DISAGREEMENT, f"Python refuses ({refused_by_python}); pybpfc compiles it")
    return Verdict(BOTH_ACCEPT)


# ------------------------------------------------------------------ names

def reading_mismatch(text: str, module: ast.Module, data: bytes) -> str:
    """How pybpfc's reading of a file differs from Python's, or ""."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        python_tree = compile(data, PATH, "exec", python_ast.PyCF_ONLY_AST, dont_inherit=True)
    lines = text.split("\n")

    def where(node: Any) -> tuple[int, int]:
        # Python counts columns in UTF-8 bytes, pybpfc in characters.
        return node.lineno, len(lines[node.lineno - 1].encode()[:node.col_offset].decode()) + 1

    python_names = {where(node): node.id for node in python_ast.walk(python_tree)
                    if isinstance(node, python_ast.Name)}
    python_blocks = dict(_python_blocks(python_tree, where))
    for stmt, parent in _blocks(module):
        at = (stmt.pos.line, stmt.pos.col)
        if at not in python_blocks:
            return f"pybpfc reads a statement at {at[0]}:{at[1]}, Python none"
        if python_blocks[at] != parent:
            return (f"the statement at {at[0]}:{at[1]} is in the block of {parent} for "
                    f"pybpfc, of {python_blocks[at]} for Python")
    for name in _nodes(module, ast.Name):
        at = (name.pos.line, name.pos.col)
        if python_names.get(at) != name.id:
            return (f"pybpfc reads the name {name.id!r} at {at[0]}:{at[1]}, "
                    f"Python {python_names.get(at)!r}")
    ours = collections.Counter(_identifiers(module))
    theirs = collections.Counter(_python_identifiers(python_tree))
    extra = ours - theirs
    if extra:
        return f"pybpfc reads identifiers Python does not: {sorted(extra)}"
    return ""


def _nodes(root: ast.Node, kind: type) -> Iterator[Any]:
    stack: list[Any] = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, ast.Node):
            if isinstance(value, kind):
                yield value
            stack += [v for k, v in vars(value).items() if k not in ("ty", "symbol", "target")]
        elif isinstance(value, (list, tuple)):
            stack += value


_BLOCKS = ("body", "orelse")


def _blocks(module: ast.Module) -> Iterator[tuple[ast.Stmt, Optional[tuple[int, int]]]]:
    """Each statement of pybpfc's tree with the position of the statement
    whose block holds it (None at module level)."""
    stack: list[tuple[Any, Optional[tuple[int, int]]]] = [(s, None) for s in module.body]
    while stack:
        stmt, parent = stack.pop()
        yield stmt, parent
        at = (stmt.pos.line, stmt.pos.col)
        for block in _BLOCKS:
            stack += [(s, at) for s in getattr(stmt, block, None) or ()
                      if isinstance(s, ast.Stmt)]


def _python_blocks(tree: python_ast.AST, where: Any) -> Iterator[tuple[tuple[int, int], Any]]:
    stack: list[tuple[Any, Any]] = [(s, None) for s in tree.body]   # type: ignore[attr-defined]
    while stack:
        stmt, parent = stack.pop()
        at = where(stmt)
        yield at, parent
        for block in (*_BLOCKS, "finalbody"):
            stack += [(s, at) for s in getattr(stmt, block, None) or ()
                      if isinstance(s, python_ast.stmt)]
        for handler in getattr(stmt, "handlers", None) or ():
            stack += [(s, at) for s in handler.body]
        for case in getattr(stmt, "cases", None) or ():
            stack += [(s, at) for s in case.body]


def _identifiers(module: ast.Module) -> Iterator[str]:
    """Every identifier pybpfc's tree holds but its Name nodes."""
    for node in _nodes(module, ast.Node):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Arg, ast.Keyword)):
            yield node.name
        elif isinstance(node, ast.Attribute):
            yield node.attr
        elif isinstance(node, ast.Global):
            yield from node.names
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.ImportFrom) and node.module.strip("."):
                yield node.module.lstrip(".")
            for name, alias in node.names:
                yield name
                if alias is not None:
                    yield alias


def _python_identifiers(tree: python_ast.AST) -> Iterator[str]:
    for node in python_ast.walk(tree):
        if isinstance(node, (python_ast.FunctionDef, python_ast.AsyncFunctionDef,
                             python_ast.ClassDef)):
            yield node.name
        elif isinstance(node, python_ast.arg):
            yield node.arg
        elif isinstance(node, python_ast.keyword) and node.arg is not None:
            yield node.arg
        elif isinstance(node, python_ast.Attribute):
            yield node.attr
        elif isinstance(node, (python_ast.Global, python_ast.Nonlocal)):
            yield from node.names
        elif isinstance(node, python_ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, python_ast.alias):
            yield node.name
            if node.asname is not None:
                yield node.asname


# --------------------------------------------------------------- for runs

def judge_mutated(seed: int) -> tuple[str, str]:
    """(kind, detail) of the mutated file of `seed`."""
    from .choose import RandomChooser
    from .source_bytes import mutated_file
    verdict = judge_file(mutated_file(RandomChooser(seed)))
    return verdict.kind, verdict.detail
