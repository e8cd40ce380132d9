"""Parser tests: tree shapes, exact positions, unsupported constructs named at
their place, syntax errors with line:col, literal decoding, and robustness.

Run from the repository root: python -m pytest tests/compiler/test_parser.py -q
"""
from __future__ import annotations



import pytest

from pybpfc import records
from pybpfc.compiler import ast
from pybpfc.compiler.ast import Pos
from pybpfc.compiler.errors import CompileError, Source
from pybpfc.compiler.parser import parse
from pybpfc.compiler.syntax_errors import ERROR_EXAMPLES

SAMPLE = '''\
"""Refuse IP_TTL changes."""
from typing import Final
from pybpfc import cgroup_setsockopt, SockoptContext, ALLOW, REJECT, u32, u64, struct

SOL_IP: Final = 0
IP_TTL: Final[u32] = 2
refused: u64 = 0
table: list[u32] = [0] * 4

@struct
class Pair:
    a: u32
    b: u64 = 0

def helper(x: u32, y: u32) -> u32:
    return x * 2 + y if x > 0 else y

@cgroup_setsockopt
def deny_ttl(ctx: SockoptContext) -> int:
    global refused
    if ctx.level == SOL_IP and ctx.optname == IP_TTL:
        refused += 1
        return REJECT
    elif 0 <= ctx.optlen < 4 and not (ctx.optname != 3):
        ctx.optval[0] = 0x7f
    for i in range(0, 4, 1):
        if i == 2:
            continue
        table[i] = u32(i) << 2
    while True:
        break
    buf = bytearray(b"ab\\x00")
    p = Pair()
    p.a = helper(1, u32(ctx.optlen))
    return ALLOW
'''


def parse_text(text: str) -> ast.Module:
    return parse(Source("test.py", text))


def error_of(text: str) -> CompileError:
    with pytest.raises(CompileError) as info:
        parse_text(text)
    return info.value


def nodes(tree) -> list[ast.Node]:
    """Every node in the tree, parents before children, in source order."""
    found = []

    def visit(value):
        if isinstance(value, ast.Node):
            found.append(value)
            for f in records.fields(value):
                if f.name not in ("pos", "ty", "symbol", "attr_pos", "name_pos", "unsupported_pos"):
                    visit(getattr(value, f.name))
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)

    visit(tree)
    return found


def first(tree, kind):
    return next(node for node in nodes(tree) if isinstance(node, kind))


# ------------------------------------------------------------------ tree shape

def test_sample_program_tree_shape():
    module = parse_text(SAMPLE)
    assert [type(s).__name__ for s in module.body] == [
        "ExprStmt", "ImportFrom", "ImportFrom", "AnnAssign", "AnnAssign", "AnnAssign",
        "AnnAssign", "ClassDef", "FunctionDef", "FunctionDef"]
    doc, typing_import, pybpfc_import, sol_ip, ip_ttl, _, table, pair, helper, deny = module.body

    assert doc.value.value == "Refuse IP_TTL changes."
    assert typing_import.module == "typing" and typing_import.names == [("Final", None)]
    assert pybpfc_import.names[0] == ("cgroup_setsockopt", None) and len(pybpfc_import.names) == 7
    assert isinstance(sol_ip.annotation, ast.Name) and sol_ip.value.value == 0
    assert isinstance(ip_ttl.annotation, ast.Subscript) and ip_ttl.annotation.index.id == "u32"
    assert isinstance(table.value, ast.BinOp) and table.value.op == "*"
    assert isinstance(table.value.left, ast.ListLit)

    assert pair.name == "Pair" and pair.bases == [] and pair.decorators[0].id == "struct"
    assert [(s.target.id, s.value) for s in pair.body][0] == ("a", None)
    assert pair.body[1].value.value == 0

    assert [(a.name, a.annotation.id) for a in helper.args] == [("x", "u32"), ("y", "u32")]
    assert helper.returns.id == "u32" and helper.unsupported is None
    ret = helper.body[0].value
    assert isinstance(ret, ast.IfExp)
    assert isinstance(ret.body, ast.BinOp) and ret.body.op == "+" and ret.body.left.op == "*"
    assert ret.test.ops == [">"]

    assert deny.decorators[0].id == "cgroup_setsockopt"
    kinds = [type(s).__name__ for s in deny.body]
    assert kinds == ["Global", "If", "For", "While", "Assign", "Assign", "Assign", "Return"]
    glob, branch, loop, spin, buf, _, field_store, _ = deny.body
    assert glob.names == ["refused"]
    assert branch.test.op == "and" and len(branch.test.values) == 2
    assert isinstance(branch.body[0], ast.AugAssign) and branch.body[0].op == "+"
    elif_branch = branch.orelse[0]
    assert isinstance(elif_branch, ast.If) and len(branch.orelse) == 1
    chained = elif_branch.test.values[0]
    assert chained.ops == ["<=", "<"] and len(chained.operands) == 3
    negation = elif_branch.test.values[1]
    assert negation.op == "not" and negation.operand.ops == ["!="]
    store = elif_branch.body[0]
    assert isinstance(store.target, ast.Subscript) and store.value.value == 0x7F
    assert loop.target.id == "i" and loop.iter.func.id == "range" and len(loop.iter.args) == 3
    assert isinstance(loop.body[0].body[0], ast.Continue)
    assert loop.body[1].value.op == "<<"
    assert isinstance(spin.test, ast.BoolLit) and isinstance(spin.body[0], ast.Break)
    assert buf.value.args[0].value == b"ab\x00"
    assert isinstance(field_store.target, ast.Attribute) and field_store.target.attr == "a"


def test_operator_precedence():
    value = parse_text("x = -a ** 2 + b * c << 1 | d & e ^ f\n").body[0].value
    assert value.op == "|"
    shift, xor = value.left, value.right
    assert shift.op == "<<" and shift.left.op == "+"
    power = shift.left.left.operand
    assert shift.left.left.op == "-" and power.op == "**"
    assert xor.op == "^" and xor.left.op == "&"
    assert parse_text("x = a - b - c\n").body[0].value.left.op == "-"   # left associative
    assert parse_text("x = a ** b ** c\n").body[0].value.right.op == "**"   # right associative


def test_boolean_and_comparison_operators():
    value = parse_text("x = not a or b and c in d\n").body[0].value
    assert value.op == "or" and value.values[0].op == "not"
    assert value.values[1].op == "and" and value.values[1].values[1].ops == ["in"]
    ops = parse_text("x = a not in b is not c == d\n").body[0].value.ops
    assert ops == ["not in", "is not", "=="]


def test_calls_keywords_and_targets():
    module = parse_text("f(a, k=v)\nx.y[0] = g()(1)\nt: u32\n")
    call = module.body[0].value
    assert [a.id for a in call.args] == ["a"]
    assert call.keywords[0].name == "k" and call.keywords[0].value.id == "v"
    store = module.body[1]
    assert isinstance(store.target, ast.Subscript) and store.target.value.attr == "y"
    assert isinstance(store.value.func, ast.Call)
    assert module.body[2].value is None


def test_augmented_assignment_records_the_plain_operator():
    ops = ["+", "-", "*", "//", "%", "<<", ">>", "&", "|", "^", "/", "**", "@"]
    module = parse_text("".join(f"x {op}= 1\n" for op in ops))
    assert [s.op for s in module.body] == ops


def test_elif_chain_nests_in_orelse():
    text = "if a:\n    pass\nelif b:\n    pass\nelif c:\n    pass\nelse:\n    x = 1\n"
    outer = parse_text(text).body[0]
    middle = outer.orelse[0]
    inner = middle.orelse[0]
    assert [outer.test.id, middle.test.id, inner.test.id] == ["a", "b", "c"]
    assert isinstance(inner.orelse[0], ast.Assign)
    assert (middle.pos.line, middle.pos.col) == (3, 1)


def test_loops_with_else_and_imports():
    module = parse_text(
        "for x in y:\n    pass\nelse:\n    pass\nwhile x:\n    pass\nelse:\n    pass\n"
        "import a.b as c, d\nfrom . import x\nfrom ..m.n import (p as q, r,)\nfrom m import *\n"
        "def f():\n    import os\n")
    loop, spin, imp, rel, rel2, star, func = module.body
    assert len(loop.orelse) == 1 and len(spin.orelse) == 1
    assert imp.names == [("a.b", "c"), ("d", None)]
    assert rel.module == "." and rel.names == [("x", None)]
    assert rel2.module == "..m.n" and rel2.names == [("p", "q"), ("r", None)]
    assert star.names == [("*", None)]
    assert isinstance(func.body[0], ast.Import)


def test_comments_blank_lines_and_continuations():
    text = ("# leading comment\n\n"
            "x = [1,  # one\n"
            "     2]  # two\n"
            "def f():\n"
            "\n"
            "    # comment inside a block\n"
            "    y = 1 + \\\n"
            "        2\n"
            "# comment at column 1 between statements of the block\n"
            "    return (y +\n"
            "            1)\n"
            "z = 1; w = 2;\n")
    module = parse_text(text)
    assert [type(s).__name__ for s in module.body] == ["Assign", "FunctionDef", "Assign", "Assign"]
    assert len(module.body[0].value.elts) == 2
    assert [type(s).__name__ for s in module.body[1].body] == ["Assign", "Return"]


def test_tabs_alone_and_crlf_are_fine():
    module = parse_text("if x:\n\tif y:\n\t\tz = 1\n\tw = 2\n")
    assert isinstance(module.body[0].body[1], ast.Assign)
    module = parse_text("if x:\r\n    y = 1\r\nz = 2\r\n")
    assert module.body[1].pos == Pos(3, 1, 3, 6)


def test_empty_and_comment_only_programs():
    assert parse_text("").body == []
    assert parse_text("# nothing\n\n").body == []


def test_soft_keywords_stay_names():
    module = parse_text("match = 1\nmatch(x)\ncase = match.group\nmatch[0]: u32 = 1\n")
    assert [type(s).__name__ for s in module.body] == ["Assign", "ExprStmt", "Assign", "AnnAssign"]
    assert module.body[0].target.id == "match" and module.body[2].target.id == "case"
    module = parse_text("match x:\n    case 1:\n        case = 2\ncase = 3\n")
    assert isinstance(module.body[0], ast.UnsupportedStmt)
    assert module.body[1].target.id == "case"


# ------------------------------------------------------------------- positions

def test_positions_are_one_based_and_end_exclusive():
    module = parse_text("x = ab.cd + f(1, k=2)\n")
    stmt = module.body[0]
    assert stmt.pos == Pos(1, 1, 1, 22)
    assert stmt.target.pos == Pos(1, 1, 1, 2)
    add = stmt.value
    assert add.pos == Pos(1, 5, 1, 22)
    attribute = add.left
    assert attribute.pos == Pos(1, 5, 1, 10)
    assert attribute.attr_pos == Pos(1, 8, 1, 10)
    assert attribute.value.pos == Pos(1, 5, 1, 7)
    call = add.right
    assert call.pos == Pos(1, 13, 1, 22)
    assert call.keywords[0].pos == Pos(1, 18, 1, 21)


def test_definition_positions_point_at_keyword_and_name():
    text = "@deco\n@other(1)\ndef  handler(ctx: Ctx) -> int:\n    return 0\n\n@struct\nclass  Pair:\n    a: u32\n"
    func, cls = parse_text(text).body
    assert func.pos == Pos(3, 1, 4, 13)           # the `def`, not the decorator
    assert func.name_pos == Pos(3, 6, 3, 13)
    assert func.args[0].pos == Pos(3, 14, 3, 22)
    assert func.decorators[1].pos == Pos(2, 2, 2, 10)
    assert cls.pos == Pos(7, 1, 8, 11)
    assert cls.name_pos == Pos(7, 8, 7, 12)


def test_compound_statement_spans_its_body_and_no_more():
    text = "def f():\n    if x:\n        y = 1   # trailing\n\n    z = 2\n"
    func = parse_text(text).body[0]
    assert func.body[0].pos == Pos(2, 5, 3, 14)
    assert func.pos == Pos(1, 1, 5, 10)


def test_parenthesised_operand_is_inside_the_operation_span():
    value = parse_text("x = (a + b) * (c)\n").body[0].value
    assert value.pos == Pos(1, 5, 1, 18)
    assert value.left.pos == Pos(1, 6, 1, 11)       # the parentheses only group


def test_multi_line_string_position():
    value = parse_text('x = """one\ntwo"""\n').body[0].value
    assert value.value == "one\ntwo"
    assert value.pos == Pos(1, 5, 2, 7)


# ---------------------------------------------------------- unsupported syntax

UNSUPPORTED_EXPRESSIONS = [
    # (program, name, position of the whole expression)
    ("x = lambda a: a\n", "lambda", Pos(1, 5, 1, 16)),
    ("x = [i for i in y]\n", "list comprehension", Pos(1, 5, 1, 19)),
    ("x = {i for i in y if i}\n", "set comprehension", Pos(1, 5, 1, 24)),
    ("x = {i: 1 for i in y}\n", "dict comprehension", Pos(1, 5, 1, 22)),
    ("x = (i for i in y)\n", "generator expression", Pos(1, 5, 1, 19)),
    ("f(i for i in y)\n", "generator expression", Pos(1, 3, 1, 15)),
    ("def g():\n    yield 1\n", "yield", Pos(2, 5, 2, 12)),
    ("def g():\n    x = yield from y\n", "yield", Pos(2, 9, 2, 21)),
    ("def g():\n    x = await y\n", "await", Pos(2, 9, 2, 16)),
    ("x = {1: 2}\n", "dict display", Pos(1, 5, 1, 11)),
    ("x = {}\n", "dict display", Pos(1, 5, 1, 7)),
    ("x = {1, 2}\n", "set display", Pos(1, 5, 1, 11)),
    ("x = a, b\n", "tuple", Pos(1, 5, 1, 9)),
    ("x = (a, b)\n", "tuple", Pos(1, 5, 1, 11)),
    ("x = ()\n", "tuple", Pos(1, 5, 1, 7)),
    ("x = a[1, 2]\n", "tuple", Pos(1, 7, 1, 11)),
    ("f(*args)\n", "starred argument", Pos(1, 3, 1, 8)),
    ("x = [*a]\n", "starred argument", Pos(1, 6, 1, 8)),
    ("f(**kw)\n", "double-starred argument", Pos(1, 3, 1, 7)),
    ("x = f'{a}'\n", "f-string", Pos(1, 5, 1, 11)),
    ("x = 'a' F\"b\"\n", "f-string", Pos(1, 5, 1, 13)),
    ("x = a[1:2]\n", "slice", Pos(1, 7, 1, 10)),
    ("x = a[::2]\n", "slice", Pos(1, 7, 1, 10)),
    ("if (n := 3):\n    pass\n", "assignment expression", Pos(1, 5, 1, 11)),
    ("x = 1.5\n", "float literal", Pos(1, 5, 1, 8)),
    ("x = 1e3\n", "float literal", Pos(1, 5, 1, 8)),
    ("x = 2j\n", "complex literal", Pos(1, 5, 1, 7)),
    ("x = ...\n", "ellipsis", Pos(1, 5, 1, 8)),
    ("class A(B, metaclass=M):\n    pass\n", "class keyword argument", Pos(1, 12, 1, 23)),
]


@pytest.mark.parametrize("text, what, pos", UNSUPPORTED_EXPRESSIONS)
def test_unsupported_expression_is_named_at_its_position(text, what, pos):
    node = first(parse_text(text), ast.Unsupported)
    assert (node.what, node.pos) == (what, pos)


UNSUPPORTED_STATEMENTS = [
    # (program, name, position: the statement's first keyword, else the statement)
    ("try:\n    pass\nexcept E as e:\n    pass\nfinally:\n    pass\n", "try statement", Pos(1, 1, 1, 4)),
    ("try:\n    pass\nfinally:\n    pass\n", "try statement", Pos(1, 1, 1, 4)),
    ("with a as b, c:\n    pass\n", "with statement", Pos(1, 1, 1, 5)),
    ("raise E from x\n", "raise statement", Pos(1, 1, 1, 6)),
    ("assert x, 'm'\n", "assert statement", Pos(1, 1, 1, 7)),
    ("del x, y[1]\n", "del statement", Pos(1, 1, 1, 4)),
    ("def f():\n    nonlocal x\n", "nonlocal statement", Pos(2, 5, 2, 13)),
    ("def f():\n    async for x in y:\n        pass\n", "async for", Pos(2, 5, 2, 10)),
    ("def f():\n    async with a:\n        pass\n", "async with", Pos(2, 5, 2, 10)),
    ("match p:\n    case 1 | 2:\n        pass\n    case [a, *rest] if a > 0:\n        pass\n"
     "    case {'k': v, **kw}:\n        pass\n    case Point(x=0, y=_) as q: return 1\n"
     "    case -1 + 2j:\n        pass\n    case _:\n        pass\n",
     "match statement", Pos(1, 1, 1, 6)),
    ("a = b = 1\n", "chained assignment", Pos(1, 1, 1, 10)),
    ("a, b = 1, 2\n", "tuple assignment", Pos(1, 1, 1, 5)),
    ("[a, b] = c\n", "tuple assignment", Pos(1, 1, 1, 7)),
    ("a, *b = c\n", "tuple assignment", Pos(1, 1, 1, 6)),
]


@pytest.mark.parametrize("text, what, pos", UNSUPPORTED_STATEMENTS)
def test_unsupported_statement_is_named_at_its_position(text, what, pos):
    node = first(parse_text(text), ast.UnsupportedStmt)
    assert (node.what, node.pos) == (what, pos)


UNSUPPORTED_SIGNATURES = [
    # (definition, name, position of the offending parameter or keyword)
    ("def f(a, /, b): pass\n", "positional-only marker", Pos(1, 10, 1, 11)),
    ("def f(*args: u32): pass\n", "*args", Pos(1, 7, 1, 17)),
    ("def f(**kw): pass\n", "**kwargs", Pos(1, 7, 1, 11)),
    ("def f(a, b: u32 = 1): pass\n", "default argument value", Pos(1, 10, 1, 20)),
    ("def f(*, a): pass\n", "keyword-only argument", Pos(1, 10, 1, 11)),
    ("def f(a=1, *, b): pass\n", "default argument value", Pos(1, 7, 1, 10)),  # the first one
    ("async def f(): pass\n", "async function", Pos(1, 1, 1, 6)),
    ("@d\nasync def f(): pass\n", "async function", Pos(2, 1, 2, 6)),
]


@pytest.mark.parametrize("text, what, pos", UNSUPPORTED_SIGNATURES)
def test_unsupported_signature_is_flagged_on_the_function(text, what, pos):
    func = first(parse_text(text), ast.FunctionDef)
    assert (func.unsupported, func.unsupported_pos) == (what, pos)


def test_flagged_function_still_lists_its_named_parameters():
    func = parse_text("def f(a, *, b: u32 = 1, **kw): pass\n").body[0]
    assert [arg.name for arg in func.args] == ["a", "b"]
    assert func.pos == Pos(1, 1, 1, 36) and func.name == "f"


# --------------------------------------------------------------- syntax errors

SYNTAX_ERRORS = [
    # (program, message (its start), line, column)
    ("if x\n    pass\n", "missing ':' after the if condition", 1, 5),
    ("def f():\n    while x < 3\n        pass\n", "missing ':' after the while condition", 2, 16),
    ("for i in range(3)\n    pass\n", "missing ':' after the for clause", 1, 18),
    ("def f(x: u32) -> u32\n    return x\n", "missing ':' after the function signature", 1, 21),
    ("def f:\n    pass\n", "missing '(' after the function name", 1, 6),
    ("class A\n    x: u32\n", "missing ':' after the class name", 1, 8),
    ("def f():\n    if x = 1:\n        pass\n", "'=' assigns; use '==' to compare", 2, 10),
    ("x = 1\n    y = 2\n", "unexpected indent", 2, 5),
    ("  x = 1\n", "unexpected indent", 1, 3),
    ("if x:\ny = 2\n", "expected an indented block", 2, 1),
    ("def f():\n", "expected an indented block", 1, 9),
    ("if x:\n        y = 1\n    z = 2\n", "unindent does not match any outer indentation level", 3, 1),
    ("if x:\n\ty = 1\n        z = 2\n", "inconsistent use of tabs and spaces in indentation", 3, 1),
    ("x = (1 +\ny = 2\n", "'(' was never closed", 1, 5),
    ("def f(\n", "'(' was never closed", 1, 6),
    ("x = [1, 2)\n", "closing ')' does not match opening '['", 1, 10),
    ("x = 1)\n", "unmatched ')'", 1, 6),
    ("f(a b)\n", "unexpected name 'b'; is a ',' missing before it?", 1, 5),
    ("x = 'abc\n", "unterminated string literal", 1, 5),
    ("x = b'abc\n", "unterminated string literal", 1, 5),
    ('x = """abc\n', "unterminated triple-quoted string literal", 1, 5),
    ("x = 1 +\n", "expected an expression", 1, 8),
    ("x = 1 +  # comment\n", "expected an expression", 1, 8),
    ("x = 1 if y\n", "expected 'else', found end of line", 1, 11),
    ("x = $\n", "invalid character '$'", 1, 5),
    ("x = 1 \\ y\n", "unexpected character after line continuation character", 1, 7),
    ("x = 007\n", "invalid literal: leading zeros", 1, 5),
    ("x = 1abc\n", "invalid number literal", 1, 5),
    ("def f():\n    x = 1\n    else:\n        pass\n", "'else' without a matching 'if'", 3, 5),
    ("except:\n    pass\n", "'except' without a matching 'try'", 1, 1),
    ("try:\n    pass\nx = 1\n", "missing 'except' or 'finally' block after 'try'", 3, 1),
    ("@d\nx = 1\n", "a decorator must be followed by a 'def' or 'class'", 2, 1),
    ("def if(): pass\n", "expected a name, found 'if'", 1, 5),
    ("f() = 1\n", "cannot assign to function call", 1, 1),
    ("f() += 1\n", "'function call' is an illegal target for augmented assignment", 1, 1),
    ("for f() in x:\n    pass\n", "cannot assign to function call", 1, 5),
    ("f(a=1, b)\n", "positional argument follows keyword argument", 1, 8),
    ("f(a=1, a=2)\n", "keyword argument repeated: a", 1, 8),
    ("def f(*): pass\n", "named parameters must follow a bare '*'", 1, 7),
    ("x = 'a' b'b'\n", "cannot mix bytes and str literals", 1, 5),
    ("x = b'\u00e9'\n", "invalid literal: bytes can only contain ASCII", 1, 5),
    ("match x:\n    pass\n", "expected 'case', found 'pass'", 2, 5),
]


@pytest.mark.parametrize("text, message, line, col", SYNTAX_ERRORS)
def test_syntax_error_message_and_position(text, message, line, col):
    err = error_of(text)
    assert err.message.startswith(message)
    assert (err.pos.line, err.pos.col) == (line, col)
    assert err.source is not None and err.source.path == "test.py"


def test_error_renders_with_path_line_col_and_caret():
    rendered = error_of("def f():\n    if x\n        pass\n").render()
    assert rendered.splitlines() == [
        "test.py:2:9: error: missing ':' after the if condition",
        "        if x",
        "            ^",
    ]


@pytest.mark.parametrize("label, snippet",
                         [(label, snippet) for label, snippets in ERROR_EXAMPLES
                          for snippet in snippets])
def test_every_error_example_maps_to_its_own_label(label, snippet):
    assert error_of(snippet).message == label


def test_labels_also_apply_inside_nested_blocks():
    text = "class A:\n    def f(self):\n        for i in x:\n            if i\n                pass\n"
    err = error_of(text)
    assert err.message == "missing ':' after the if condition"
    assert (err.pos.line, err.pos.col) == (4, 17)


def test_no_internal_exception_or_traceback_escapes():
    """Damaged versions of the sample either parse or give a CompileError whose
    position lies inside the program."""
    line_count = SAMPLE.count("\n") + 1
    damaged = [SAMPLE[:cut] for cut in range(0, len(SAMPLE), 11)]
    damaged += [SAMPLE[:cut] + SAMPLE[cut + 1:] for cut in range(3, len(SAMPLE), 13)]
    damaged += [SAMPLE[:cut] + "(" + SAMPLE[cut:] for cut in range(5, len(SAMPLE), 37)]
    damaged += ["x = " + "(" * 2000, "\t\t x", "\0", "\x0c", "\u2028x = 1", "x = '''", "\\"]
    for text in damaged:
        try:
            parse_text(text)
        except CompileError as err:
            assert err.pos is None or 1 <= err.pos.line <= line_count, (text, err)


# ---------------------------------------------------------------------- literals

def test_int_literals_in_every_base_with_underscores():
    module = parse_text("a = 0x7F\nb = 0X_ff\nc = 0o17\nd = 0b1_01\ne = 1_000_000\nf = 0\ng = 00\n")
    assert [s.value.value for s in module.body] == [127, 255, 15, 5, 1_000_000, 0, 0]


def test_string_literals_decode_escapes_and_concatenate():
    module = parse_text(
        'a = "tab\\there" \'and\' """more"""\n'
        "b = '\\x41\\u00e9\\N{BULLET}\\n'\n"
        "c = r'\\n'\n"
        "d = 'it\\'s'\n")
    a, b, c, d = (s.value for s in module.body)
    assert a.value == "tab\thereandmore" and a.pos == Pos(1, 5, 1, 33)
    assert b.value == "A\u00e9\u2022\n"
    assert c.value == "\\n"
    assert d.value == "it's"


def test_bytes_literals_decode_escapes_and_concatenate():
    module = parse_text('a = b"\\x41\\n\\0\\\\"\nb = b\'a\' B"b"\nc = rb"\\x"\n')
    a, b, c = (s.value for s in module.body)
    assert isinstance(a, ast.BytesLit) and a.value == b"A\n\x00\\"
    assert b.value == b"ab"
    assert c.value == b"\\x"


def test_constants():
    module = parse_text("a = True\nb = False\nc = None\n")
    a, b, c = (s.value for s in module.body)
    assert isinstance(a, ast.BoolLit) and a.value is True
    assert isinstance(b, ast.BoolLit) and b.value is False
    assert isinstance(c, ast.NoneLit)


def test_parsing_never_runs_the_program(tmp_path):
    created = tmp_path / "created"
    path = repr(str(created))
    text = (f"open({path}, 'w').write('x')\n"
            f"x = __import__('os').system('touch ' + {path})\n"
            f"@open({path}, 'w')\n"
            f"def f(a=open({path}, 'w')) -> open({path}, 'w'):\n"
            f"    pass\n"
            f"class C(open({path}, 'w').__class__):\n"
            f"    y: open({path}, 'w')\n"
            f"s = f\"{{open({path}, 'w')}}\"\n")
    parse_text(text)
    assert not created.exists()
