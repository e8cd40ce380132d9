"""The parse tree to the nodes of :mod:`pybpfc.compiler.ast`.

Each node gets its exact source position.  Constructs the language does not
support come out as ``ast.Unsupported`` / ``ast.UnsupportedStmt`` nodes (or
a flag on ``FunctionDef``), so that the checker can reject them by name;
what Python itself refuses (a misplaced '/', a repeated keyword argument,
an illegal assignment target) is a CompileError here.
"""
from __future__ import annotations

import ast as python_ast
import re
import warnings
from typing import NamedTuple, Optional

from . import ast
from .ast import Pos
from .errors import CompileError, InternalError, Source
from .lalr import Token, Tree
from .positions import keyword_pos, pos_of_meta, pos_of_token
from .source import MAX_INT_LITERAL_BITS

# A loop's `else:` clause keyword.
_ELSE = re.compile(r"\belse\s*:")

_INT_BASES = {"0x": 16, "0o": 8, "0b": 2}
_DEBUG = "__debug__"     # Python's constant, never bound


class _Param(NamedTuple):
    kind: str                  # 'plain', 'star', 'bare_star', 'double_star', 'slash'
    pos: Pos
    name: Optional[str] = None
    annotation: Optional[ast.Expr] = None
    default: Optional[ast.Expr] = None


class _Arguments(NamedTuple):
    args: list[ast.Expr]
    keywords: list[ast.Keyword]


class _ElifClause(NamedTuple):
    meta: object
    test: ast.Expr
    body: list[ast.Stmt]


_EXPRESSION_KINDS = {
    ast.Call: "function call",
    ast.IntLit: "literal",
    ast.StrLit: "literal",
    ast.BytesLit: "literal",
    ast.BinOp: "expression",
    ast.UnaryOp: "expression",
    ast.BoolOp: "expression",
    ast.Compare: "comparison",
    ast.IfExp: "conditional expression",
    ast.ListLit: "list display",
}


def _describe_expr(expr: ast.Expr) -> str:
    if isinstance(expr, ast.Unsupported):
        return expr.what
    if isinstance(expr, ast.BoolLit):
        return str(expr.value)
    if isinstance(expr, ast.NoneLit):
        return "None"
    return _EXPRESSION_KINDS.get(type(expr), "expression")


def _is_tuple(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Unsupported) and expr.what == "tuple"


def _end_of_last(*suites: Optional[list[ast.Stmt]]) -> ast.Stmt:
    """The last statement of the last non-empty suite."""
    for suite in reversed(suites):
        if suite:
            return suite[-1]
    raise AssertionError("a compound statement always has a body")


def _compound_pos(meta, *suites: Optional[list[ast.Stmt]]) -> Pos:
    """From the statement's keyword to the end of its last body statement
    (the parse tree's own end would include the line break and dedent after it)."""
    last = _end_of_last(*suites).pos
    return Pos(meta.line, meta.column, last.end_line, last.end_col)


class TreeBuilder:
    """Builds pybpfc.compiler.ast nodes from the parse tree, bottom-up.

    Each method is named after a rule or alias of grammar.lark and takes the
    node's position and its children, already built.  Rules with no method
    here (inner parts of unsupported constructs) stay parse trees and are
    dropped by their parent.
    """

    def __init__(self, source: Source):
        self.source = source
        # Parenthesised expressions: their span including the parentheses.
        self.parenthesized: dict[ast.Expr, Pos] = {}

    def transform(self, root: Tree):
        """Build bottom-up, without recursion: a parse tree may be as deep
        as the program is long (`- - - x`, `a.b.c.d`).  Consumes the parse
        tree: each subtree is let go once its node is built, so that a large
        program's parse tree and syntax tree are never whole at once."""
        # Each frame: a tree, how many of its children were taken, and those built.
        stack: list[tuple[Tree, int, list]] = [(root, 0, [])]
        while True:
            tree, taken, built = stack[-1]
            children = tree.children
            while taken < len(children) and not isinstance(children[taken], Tree):
                built.append(children[taken])
                taken += 1
            if taken < len(children):
                stack[-1] = (tree, taken + 1, built)
                stack.append((children[taken], 0, []))
                children[taken] = None
                continue
            stack.pop()
            value = self._build(tree, built)
            if not stack:
                return value
            stack[-1][2].append(value)

    def _build(self, tree: Tree, children: list):
        build = None if tree.data.startswith("_") else getattr(self, tree.data, None)
        if build is None:
            return Tree(tree.data, children, tree.meta)
        try:
            return build(tree.meta, *children)
        except CompileError:
            raise
        except Exception as err:  # a bug here: say where in the program it struck
            pos = pos_of_meta(tree.meta) if not tree.meta.empty else None
            raise InternalError("parser", err, pos, self.source) from err

    def _error(self, message: str, pos: Pos, note: Optional[str] = None) -> CompileError:
        return CompileError(message, pos, self.source, note)

    def _binding(self, name: str, pos: Pos) -> None:
        """A name a definition, parameter, keyword or import binds: never
        __debug__, which Python refuses to bind."""
        if name == _DEBUG:
            raise self._error(f"cannot assign to {_DEBUG}", pos)

    # ------------------------------------------------------------- module

    def module(self, meta, *statements):
        body = list(statements)
        if not body:
            return ast.Module(Pos(1, 1, 1, 1), body)
        last = body[-1].pos
        return ast.Module(Pos(1, 1, last.end_line, last.end_col), body)

    def block(self, meta, *statements):
        return list(statements)

    # -------------------------------------------------- simple statements

    def expr_stmt(self, meta, value):
        return ast.ExprStmt(pos_of_meta(meta), value)

    def assign_stmt(self, meta, *parts):
        *targets, value = parts
        for target in targets:
            self._check_target(target, "assign")
        if len(targets) > 1:
            return ast.UnsupportedStmt(pos_of_meta(meta), "chained assignment")
        target = targets[0]
        if _is_tuple(target) or isinstance(target, ast.ListLit):
            return ast.UnsupportedStmt(target.pos, "tuple assignment")
        return ast.Assign(pos_of_meta(meta), target, value)

    def annassign_stmt(self, meta, target, annotation, value=None):
        # (no placeholder: the optional value is an inlined rule)
        self._check_target(target, "annotate")
        return ast.AnnAssign(pos_of_meta(meta), target, annotation, value)

    def augassign_stmt(self, meta, target, op, value):
        self._check_target(target, "augment")
        return ast.AugAssign(pos_of_meta(meta), target, op, value)

    def augassign_op(self, meta, token):
        return str(token)[:-1]  # '+=' -> '+'

    def _check_target(self, target: ast.Expr, how: str) -> None:
        """Reject what Python itself cannot assign to (a syntax error there too)."""
        if isinstance(target, ast.Name) and target.id == _DEBUG or (
                isinstance(target, ast.Attribute) and target.attr == _DEBUG and how != "augment"):
            raise self._error(f"cannot assign to {_DEBUG}", target.pos)
        if isinstance(target, (ast.Name, ast.Attribute, ast.Subscript)):
            return
        is_sequence = _is_tuple(target) or isinstance(target, ast.ListLit)
        what = _describe_expr(target)
        if how in ("assign", "loop") and is_sequence:
            parts = target.elts if isinstance(target, ast.ListLit) else getattr(target, "parts", [])
            for part in parts:
                if isinstance(part, (ast.Name, ast.Attribute)):
                    self._check_target(part, how)
        if how in ("assign", "loop") and is_sequence:
            return      # the checker says which it supports
        if how == "augment":
            raise self._error(f"'{what}' is an illegal target for augmented assignment", target.pos)
        if how == "annotate":
            if is_sequence:
                raise self._error(f"only a single target (not a {what}) can be annotated", target.pos)
            raise self._error(f"cannot annotate {what}", target.pos)
        raise self._error(f"cannot assign to {what}", target.pos,
                          "to compare, use '=='" if how == "assign" else None)

    def pass_stmt(self, meta):
        return ast.Pass(pos_of_meta(meta))

    def break_stmt(self, meta):
        return ast.Break(pos_of_meta(meta))

    def continue_stmt(self, meta):
        return ast.Continue(pos_of_meta(meta))

    def return_stmt(self, meta, value):
        return ast.Return(pos_of_meta(meta), value)

    def global_stmt(self, meta, *names):
        return ast.Global(pos_of_meta(meta), [str(name) for name in names])

    def nonlocal_stmt(self, meta, *_):
        return ast.UnsupportedStmt(keyword_pos(meta, "nonlocal"), "nonlocal statement")

    def del_stmt(self, meta, *_):
        return ast.UnsupportedStmt(keyword_pos(meta, "del"), "del statement")

    def raise_stmt(self, meta, *_):
        return ast.UnsupportedStmt(keyword_pos(meta, "raise"), "raise statement")

    def assert_stmt(self, meta, *_):
        return ast.UnsupportedStmt(keyword_pos(meta, "assert"), "assert statement")

    def import_stmt(self, meta, *names):
        return ast.Import(pos_of_meta(meta), [(n, a) for n, a, _ in names],
                          name_pos=[p for _, _, p in names])

    def dotted_as_name(self, meta, dotted, alias):
        self._binding(alias if alias is not None else dotted.split(".")[0], pos_of_meta(meta))
        return (dotted, str(alias) if alias is not None else None, pos_of_meta(meta))

    def dotted_name(self, meta, *parts):
        return ".".join(parts)

    def import_from_stmt(self, meta, module, *names):
        path, module_pos = module
        return ast.ImportFrom(pos_of_meta(meta), path, [(n, a) for n, a, _ in names],
                              module_pos=module_pos, name_pos=[p for _, _, p in names])

    def module_path(self, meta, *parts):
        return "".join(parts), pos_of_meta(meta)

    def relative_dots(self, meta, *dots):
        return "".join(dots)

    def import_star(self, meta):
        return ("*", None, pos_of_meta(meta))

    def import_name(self, meta, name, alias):
        self._binding(alias if alias is not None else name, pos_of_meta(meta))
        return (str(name), str(alias) if alias is not None else None, pos_of_meta(meta))

    # ------------------------------------------------ compound statements

    def if_stmt(self, meta, test, body, *rest):
        *elifs, orelse = rest
        orelse = orelse or []
        for clause in reversed(elifs):  # `elif` is an If inside the else branch
            orelse = [ast.If(_compound_pos(clause.meta, clause.body, orelse),
                             clause.test, clause.body, orelse)]
        return ast.If(_compound_pos(meta, body, orelse), test, body, orelse)

    def elif_clause(self, meta, test, body):
        return _ElifClause(meta, test, body)

    def while_stmt(self, meta, test, body, orelse):
        return ast.While(_compound_pos(meta, body, orelse), test, body, orelse or [],
                         else_pos=self._else_pos(orelse))

    def for_stmt(self, meta, target, iterable, body, orelse):
        self._check_target(target, "loop")
        return ast.For(_compound_pos(meta, body, orelse), target, iterable, body, orelse or [],
                       else_pos=self._else_pos(orelse))

    def _else_pos(self, orelse: Optional[list]) -> Optional[Pos]:
        """Where a loop's `else` keyword stands (the grammar keeps no token
        for it): the last `else:` before the clause's first statement."""
        if not orelse:
            return None
        first = orelse[0].pos
        for number in range(first.line, 0, -1):
            text = self.source.line(number)
            if number == first.line:
                text = text[:first.col - 1]
            found = [m.start() for m in _ELSE.finditer(text)]
            if found:
                return Pos(number, found[-1] + 1, number, found[-1] + 5)
        return None

    def try_stmt(self, meta, *_):
        return ast.UnsupportedStmt(keyword_pos(meta, "try"), "try statement")

    def with_stmt(self, meta, *_):
        return ast.UnsupportedStmt(keyword_pos(meta, "with"), "with statement")

    def async_for(self, meta, *_):
        return ast.UnsupportedStmt(keyword_pos(meta, "async"), "async for")

    def async_with(self, meta, *_):
        return ast.UnsupportedStmt(keyword_pos(meta, "async"), "async with")

    def match_stmt(self, meta, keyword, *_):
        return ast.UnsupportedStmt(pos_of_token(keyword), "match statement")

    # --------------------------------------------------------- definitions

    def decorated(self, meta, *items):
        *decorators, definition = items
        definition.decorators = list(decorators)
        return definition

    def decorator(self, meta, expression):
        return expression

    def async_funcdef(self, meta, function):
        function.unsupported = "async function"
        function.unsupported_pos = keyword_pos(meta, "async")
        # The definition starts at `async`, as Python's does.
        function.pos = Pos(meta.line, meta.column, function.pos.end_line, function.pos.end_col)
        return function

    def funcdef(self, meta, name, parameters, returns, body):
        self._binding(name, pos_of_token(name))
        args, problem = self._signature(parameters or [])
        return ast.FunctionDef(
            pos=_compound_pos(meta, body), name=str(name), name_pos=pos_of_token(name),
            args=args, returns=returns, body=body, decorators=[],
            unsupported=problem[0] if problem else None,
            unsupported_pos=problem[1] if problem else None)

    def classdef(self, meta, name, arguments, body):
        self._binding(name, pos_of_token(name))
        bases: list[ast.Expr] = []
        if arguments is not None:
            bases = list(arguments.args)
            bases += [ast.Unsupported(keyword.pos, "class keyword argument")
                      for keyword in arguments.keywords]
        return ast.ClassDef(_compound_pos(meta, body), str(name), pos_of_token(name),
                            bases, body, [])

    def parameters(self, meta, *params):
        return list(params)

    def plain_param(self, meta, name, annotation, default):
        self._binding(name, pos_of_token(name))
        return _Param("plain", pos_of_meta(meta), str(name), annotation, default)

    def star_param(self, meta, name, annotation):
        self._binding(name, pos_of_token(name))
        return _Param("star", pos_of_meta(meta), str(name), annotation)

    def bare_star_param(self, meta):
        return _Param("bare_star", pos_of_meta(meta))

    def double_star_param(self, meta, name, annotation):
        self._binding(name, pos_of_token(name))
        return _Param("double_star", pos_of_meta(meta), str(name), annotation)

    def slash_param(self, meta):
        return _Param("slash", pos_of_meta(meta))

    def _signature(self, params: list[_Param]) -> tuple[list[ast.Arg], Optional[tuple[str, Pos]]]:
        """The plain parameters, and the first unsupported feature with its
        position.  Python's own ordering rules are syntax errors here."""
        args: list[ast.Arg] = []
        problem: Optional[tuple[str, Pos]] = None
        seen_slash = seen_star = seen_default = False
        double_star: Optional[_Param] = None
        bare_star: Optional[_Param] = None   # a bare '*' still waiting for a parameter

        def unsupported(what: str, pos: Pos) -> None:
            nonlocal problem
            if problem is None:
                problem = (what, pos)

        for param in params:
            if double_star is not None:
                raise self._error("no parameter can follow a '**' parameter", param.pos)
            if param.kind == "slash":
                if seen_slash:
                    raise self._error("'/' may appear only once", param.pos)
                if seen_star:
                    raise self._error("'/' must come before '*'", param.pos)
                if not args:
                    raise self._error("at least one parameter must come before '/'", param.pos)
                seen_slash = True
                unsupported("positional-only marker", param.pos)
            elif param.kind in ("star", "bare_star"):
                if seen_star:
                    raise self._error("'*' may appear only once", param.pos)
                seen_star = True
                if param.kind == "star":
                    unsupported("*args", param.pos)
                else:
                    bare_star = param
            elif param.kind == "double_star":
                double_star = param
                if bare_star is None:
                    unsupported("**kwargs", param.pos)
            else:
                if seen_star:
                    unsupported("keyword-only argument", param.pos)
                    bare_star = None
                if param.default is not None:
                    seen_default = True
                    unsupported("default argument value", param.pos)
                elif seen_default and not seen_star:
                    raise self._error("a parameter without a default follows one with a default",
                                      param.pos)
                args.append(ast.Arg(param.pos, param.name, param.annotation))
        if bare_star is not None:
            raise self._error("named parameters must follow a bare '*'", bare_star.pos)
        return args, problem

    # ---------------------------------------------------------- expressions

    def tuple_display(self, meta, *items):
        # Kept as its parts: a map's annotation `HashMap[K, V]` indexes with one.
        return ast.Unsupported(pos_of_meta(meta), "tuple",
                               [i for i in items if isinstance(i, ast.Expr)])

    def if_expr(self, meta, body, test, orelse):
        return ast.IfExp(pos_of_meta(meta), test, body, orelse)

    def walrus(self, meta, *_):
        return ast.Unsupported(pos_of_meta(meta), "assignment expression")

    def lambda_expr(self, meta, *_):
        return ast.Unsupported(pos_of_meta(meta), "lambda")

    def or_test(self, meta, *values):
        return ast.BoolOp(pos_of_meta(meta), "or", list(values))

    def and_test(self, meta, *values):
        return ast.BoolOp(pos_of_meta(meta), "and", list(values))

    def not_expr(self, meta, operand):
        return ast.UnaryOp(pos_of_meta(meta), "not", operand)

    def comparison(self, meta, first, *rest):
        return ast.Compare(pos_of_meta(meta), [first, *rest[1::2]], list(rest[0::2]))

    def comp_op(self, meta, *words):
        return " ".join(words)  # 'not in', 'is not'

    def binary_chain(self, meta, first, *rest):
        # Fold `a - b - c` to the left; every step starts where the chain does.
        result = first
        for op, right in zip(rest[0::2], rest[1::2]):
            end = self.parenthesized.get(right, right.pos)
            result = ast.BinOp(Pos(meta.line, meta.column, end.end_line, end.end_col),
                               str(op), result, right)
        result.pos = pos_of_meta(meta)
        return result

    bit_or = bit_xor = bit_and = shift = arith = term = binary_chain

    def unary(self, meta, op, operand):
        return ast.UnaryOp(pos_of_meta(meta), str(op), operand)

    def power(self, meta, base, exponent):
        return ast.BinOp(pos_of_meta(meta), "**", base, exponent)

    def await_expr(self, meta, *_):
        return ast.Unsupported(pos_of_meta(meta), "await")

    def call(self, meta, func, arguments):
        arguments = arguments or _Arguments([], [])
        return ast.Call(pos_of_meta(meta), func, arguments.args, arguments.keywords)

    def arguments(self, meta, *items):
        args: list[ast.Expr] = []
        keywords: list[ast.Keyword] = []
        after_keyword = after_double_star = False
        for item in items:
            if isinstance(item, ast.Keyword):
                if any(keyword.name == item.name for keyword in keywords):
                    raise self._error(f"keyword argument repeated: {item.name}", item.pos)
                keywords.append(item)
                after_keyword = True
                continue
            starred = isinstance(item, ast.Unsupported) and item.what == "starred argument"
            double_starred = isinstance(item, ast.Unsupported) and item.what == "double-starred argument"
            if after_double_star and not double_starred:
                raise self._error("argument follows keyword argument unpacking ('**')", item.pos)
            if after_keyword and not (starred or double_starred):
                raise self._error("positional argument follows keyword argument", item.pos)
            after_double_star |= double_starred
            args.append(item)
        return _Arguments(args, keywords)

    def generator_argument(self, meta, *_):
        return _Arguments([ast.Unsupported(pos_of_meta(meta), "generator expression")], [])

    def keyword_arg(self, meta, name, value):
        self._binding(name, pos_of_token(name))
        return ast.Keyword(pos_of_meta(meta), str(name), value)

    def star_arg(self, meta, _value):
        return ast.Unsupported(pos_of_meta(meta), "starred argument")

    def double_star_arg(self, meta, _value):
        return ast.Unsupported(pos_of_meta(meta), "double-starred argument")

    star_expr = star_arg

    def subscript(self, meta, value, index):
        return ast.Subscript(pos_of_meta(meta), value, index)

    def slice(self, meta, *_):
        return ast.Unsupported(pos_of_meta(meta), "slice")

    def attribute(self, meta, value, name):
        return ast.Attribute(pos_of_meta(meta), value, str(name), pos_of_token(name))

    def yield_expr(self, meta, *_):
        return ast.Unsupported(pos_of_meta(meta), "yield")

    # --------------------------------------------------------------- atoms

    def name(self, meta, token):
        return ast.Name(pos_of_token(token), str(token))

    def int_literal(self, meta, token):
        # Bounded before it is converted: a literal of thousands of digits
        # would cost time here and at every later step that computes with it.
        digits = str(token).replace("_", "").lower()
        base = _INT_BASES.get(digits[:2], 10)
        significant = (digits[2:] if base != 10 else digits).lstrip("0")
        if len(significant) > MAX_INT_LITERAL_BITS or (
                significant and int(significant, base).bit_length() > MAX_INT_LITERAL_BITS):
            raise self._error(f"integer literal too large: more than {MAX_INT_LITERAL_BITS} bits",
                              pos_of_token(token), "pybpfc's integers have at most 64 bits")
        return ast.IntLit(pos_of_token(token), self._literal(token))

    def float_literal(self, meta, token):
        return ast.Unsupported(pos_of_token(token), "float literal")

    def complex_literal(self, meta, token):
        return ast.Unsupported(pos_of_token(token), "complex literal")

    def none(self, meta):
        return ast.NoneLit(pos_of_meta(meta))

    def true(self, meta):
        return ast.BoolLit(pos_of_meta(meta), True)

    def false(self, meta):
        return ast.BoolLit(pos_of_meta(meta), False)

    def ellipsis(self, meta):
        return ast.Unsupported(pos_of_meta(meta), "ellipsis")

    def group(self, meta, inner):
        # `(a)` is just `a`, but a left-folded chain must end after the ')'.
        self.parenthesized[inner] = pos_of_meta(meta)
        return inner

    def list_display(self, meta, *items):
        return ast.ListLit(pos_of_meta(meta), [item for item in items if item is not None])

    def dict_display(self, meta, *_):
        return ast.Unsupported(pos_of_meta(meta), "dict display")

    def set_display(self, meta, *_):
        return ast.Unsupported(pos_of_meta(meta), "set display")

    def list_comprehension(self, meta, *_):
        return ast.Unsupported(pos_of_meta(meta), "list comprehension")

    def set_comprehension(self, meta, *_):
        return ast.Unsupported(pos_of_meta(meta), "set comprehension")

    def dict_comprehension(self, meta, *_):
        return ast.Unsupported(pos_of_meta(meta), "dict comprehension")

    def generator(self, meta, *_):
        return ast.Unsupported(pos_of_meta(meta), "generator expression")

    def strings(self, meta, *tokens):
        pos = pos_of_meta(meta)
        if any("f" in _string_prefix(token).lower() for token in tokens):
            return ast.Unsupported(pos, "f-string")
        values = [self._literal(token) for token in tokens]
        if len({type(value) for value in values}) > 1:
            raise self._error("cannot mix bytes and str literals", pos)
        if isinstance(values[0], bytes):
            return ast.BytesLit(pos, b"".join(values))
        return ast.StrLit(pos, "".join(values))

    def _literal(self, token: Token):
        """The value of an int, str or bytes literal.  literal_eval only ever
        builds constants: it evaluates no names, calls or operators."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. an invalid escape like "\d"
                return python_ast.literal_eval(str(token))
        except SyntaxError as err:
            raise self._error(f"invalid literal: {err.msg}", pos_of_token(token)) from None
        except (ValueError, MemoryError) as err:
            raise self._error(f"invalid literal: {err}", pos_of_token(token)) from None


def _string_prefix(token: Token) -> str:
    return token[:len(token) - len(token.lstrip("rRbBuUfF"))]
