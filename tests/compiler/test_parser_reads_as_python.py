"""The parser reads what Python reads: names normalised as Python normalises
them, nothing accepted that Python refuses, and the bounds that keep any
input from exhausting the compiler.  Python (``ast.parse`` and
``compile``) is the reference.

Run from the repository root: python -m pytest tests/compiler/test_parser_reads_as_python.py -q
"""
from __future__ import annotations

import ast as python_ast
import subprocess
import sys
from pathlib import Path

import pytest

from pybpfc.compiler import ast
from pybpfc.compiler.driver import check_source, compile_source
from pybpfc.compiler.errors import CompileError, InternalError, Source
from pybpfc.compiler.parser import parse
from pybpfc.compiler.source import (MAX_IDENTIFIER_LENGTH, MAX_INDENT_LEVELS, MAX_NESTING,
                                    MAX_OPEN_BRACKETS)
from tests.support import REPO_ROOT

HOOK = ("from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, u32\n"
        "@cgroup_sysctl\n"
        "def guard(ctx: SysctlContext) -> int:\n")


def python_refuses(text: str) -> bool:
    try:
        compile(text, "prog.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True
    return False


def refused(text: str) -> CompileError:
    with pytest.raises(CompileError) as info:
        parse(Source("prog.py", text))
    return info.value


def refused_as_python(text: str, message: str) -> None:
    """Python refuses `text` with `message`, and pybpfc with the same words."""
    with pytest.raises(SyntaxError) as python_error:
        compile(text, "prog.py", "exec")
    assert python_error.value.msg == message
    assert refused(text).message == message


def where(err: CompileError) -> tuple[int, int]:
    assert err.pos is not None, err.render()
    return err.pos.line, err.pos.col


def assigned_names(module: ast.Module) -> list[str]:
    return [stmt.target.id for stmt in module.body if isinstance(stmt, ast.Assign)]


# ------------------------------------------------------------------ names

@pytest.mark.parametrize("written, meant", [
    ("\uff44eny", "deny"),             # fullwidth d
    ("\ufb01le", "file"),              # the ligature fi
    ("e\u0301t\u00e9", "\u00e9t\u00e9"),   # a combining accent: the composed letter
    ("\u210cello", "Hello"),           # a black-letter H
    ("x\uff11", "x1"),                 # a fullwidth digit
    ("\uff49\uff46", "if"),            # a keyword spelt in fullwidth is a name
])
def test_a_name_means_its_nfkc_form_as_it_does_to_python(written: str, meant: str) -> None:
    text = f"{written} = 1\n"
    python_name = python_ast.parse(text).body[0].targets[0].id   # type: ignore[attr-defined]
    assert python_name == meant
    assert assigned_names(parse(Source("prog.py", text))) == [meant]


def test_a_name_keeps_the_position_of_its_text() -> None:
    target = parse(Source("prog.py", "ab = \ufb01x + 1\n")).body[0].value.left
    assert (target.id, target.pos.col, target.pos.end_col) == ("fix", 6, 8)


def test_a_confusable_assignment_sets_the_variable_the_reader_sees() -> None:
    # Before names were normalised, the fullwidth `ｄeny` was a second
    # variable and the hook allowed what the source appears to refuse.
    program = check_source(Source("prog.py", HOOK + "    deny = 0\n    if ctx.write:\n"
                                  "        \uff44eny = 1\n"
                                  "    if deny == 1:\n        return REJECT\n    return ALLOW\n"))
    assert [f.name for f in program.hooks] == ["guard"]
    assign = program.hooks[0].node.body[1].body[0]
    assert assign.target.id == "deny"


@pytest.mark.parametrize("text, message, col", [
    ("x\u00b2 = 1\n", "invalid character '\u00b2' (U+00B2)", 2),
    ("x = 1 \u2260 2\n", "invalid character '\u2260' (U+2260)", 7),
    ("x\u00a0= 1\n", "invalid non-printable character U+00A0", 2),
    ("\u00b7x = 1\n", "invalid character '\u00b7' (U+00B7)", 1),
    ("x = \uff11\n", "invalid character '\uff11' (U+FF11)", 5),
    ("x\u200b = 1\n", "invalid non-printable character U+200B", 2),
])
def test_a_name_python_refuses_is_refused_with_python_s_message(text: str, message: str,
                                                                 col: int) -> None:
    with pytest.raises(SyntaxError) as python_error:
        python_ast.parse(text)
    assert python_error.value.msg == message
    err = refused(text)
    assert (err.message, where(err)) == (message, (1, col))


def test_names_are_at_most_1024_characters() -> None:
    name = "n" * MAX_IDENTIFIER_LENGTH
    assert assigned_names(parse(Source("prog.py", f"{name} = 1\n"))) == [name]
    err = refused(f"x = 1\n{name}m = 1\n")
    assert err.message == "name longer than 1,024 characters" and where(err) == (2, 1)


# ------------------------------------------------------------ indentation

def block_of_y(text: str) -> str:
    """'if' or 'module': where the statement `y = 1` is."""
    module = parse(Source("prog.py", text))
    return "module" if any(isinstance(s, ast.Assign) for s in module.body) else "if"


@pytest.mark.parametrize("text, python_block", [
    # A form feed sets the column back to 0, as in CPython's tokenizer.
    ("if x:\n    pass\n    \x0cy = 1\n", "module"),
    ("if x:\n    pass\n\x0c    y = 1\n", "if"),
    # A backslash at column 0 leaves the indentation to the next line.
    ("if x:\n    pass\n\\\n    y = 1\n", "if"),
    ("if x:\n    pass\n    \\\ny = 1\n", "if"),
    # A tab to the next multiple of 8, consistently.
    ("if x:\n\t  pass\n\t  y = 1\n", "if"),
])
def test_a_statement_is_in_the_block_python_puts_it_in(text: str, python_block: str) -> None:
    body = python_ast.parse(text).body
    assert ("module" if len(body) == 2 else "if") == python_block
    assert block_of_y(text) == python_block


@pytest.mark.parametrize("text, message", [
    ("\x0c x = 1\n", "unexpected indent"),
    ("if x:\n\tpass\n        pass\n", "inconsistent use of tabs and spaces in indentation"),
    ("if x:\n        pass\n\tpass\n", "inconsistent use of tabs and spaces in indentation"),
    ("if x:\n  \tpass\n\tpass\n", "inconsistent use of tabs and spaces in indentation"),
    ("if x:\n    a = 1\n  \\\n    b = 2\n", "unindent does not match any outer indentation level"),
])
def test_indentation_python_refuses_is_refused(text: str, message: str) -> None:
    refused_as_python(text, message)


@pytest.mark.parametrize("binding", [
    "__debug__ = 1", "x.__debug__ = 1", "__debug__ += 1", "for __debug__ in x: pass",
    "a, __debug__ = 1, 2", "def __debug__(): pass", "class __debug__: pass",
    "def f(__debug__): pass", "f(__debug__=1)", "import a as __debug__",
    "from a import __debug__",
])
def test_debug_is_never_bound(binding: str) -> None:
    refused_as_python(binding + "\n", "cannot assign to __debug__")


# ----------------------------------------------- what Python refuses

@pytest.mark.parametrize("text", [
    "x = 1\\", "x = 1\\\n", "x = 1\n\\", "x = 1\n\\\n",
    "def f():\n    return\\", "if x:\n    pass\n\\\n",
])
def test_a_line_continuation_at_the_end_of_the_file_is_refused(text: str) -> None:
    assert python_refuses(text)
    err = refused(text)
    assert err.message == "unexpected end of file after a line continuation ('\\')"
    backslash = text.rindex("\\")
    assert where(err) == (text.count("\n", 0, backslash) + 1,
                          backslash - text.rfind("\n", 0, backslash))


@pytest.mark.parametrize("text", ["x = 1 \\ \n+ 2\n", "x = (1 \\\t\n+ 2)\n", "x = 1 \\\x0c\n"])
def test_a_backslash_followed_by_anything_but_the_line_break_is_refused(text: str) -> None:
    assert python_refuses(text)
    assert refused(text).message == "unexpected character after line continuation character"


@pytest.mark.parametrize("text", [
    "x = 1 \\\n\n", "x = \\\n  1\n", "\\\nx = 1\n", "x = [1,\n\\\n2]\n",
    "if x:\n\x0c    pass\n", "if x:\n    \x0c\n    y = 1\n", " \x0cx = 1\n", "\x0cx = 1\n",
    "if x:\n    pass\n  \x0c    y = 1\n",
])
def test_continuations_and_form_feeds_python_accepts_are_accepted(text: str) -> None:
    assert not python_refuses(text)
    parse(Source("prog.py", text))


@pytest.mark.parametrize("text, message", [
    ("from __future__ import braces\n", "not a chance"),
    ("from __future__ import nope\n", "future feature nope is not defined"),
    ("from __future__ import *\n", "future feature * is not defined"),
    ("from __future__ import annotations, braces\n", "not a chance"),
    ("x = 1\nfrom __future__ import annotations\n",
     "from __future__ imports must occur at the beginning of the file"),
    ("from __future__ import annotations; import os; from __future__ import division\n",
     "from __future__ imports must occur at the beginning of the file"),
    ("b'doc'\nfrom __future__ import annotations\n",
     "from __future__ imports must occur at the beginning of the file"),
    ("def f():\n    from __future__ import annotations\n",
     "from __future__ imports must occur at the beginning of the file"),
])
def test_future_imports_python_refuses_are_refused(text: str, message: str) -> None:
    refused_as_python(text, message)


@pytest.mark.parametrize("text", [
    "from __future__ import annotations\n",
    "'''The docstring.'''\nfrom __future__ import annotations, division\n"
    "from __future__ import generator_stop as g\nimport os\n",
    "('doc' 'string')\nfrom __future__ import (annotations,)\n",
])
def test_future_imports_python_accepts_are_parsed(text: str) -> None:
    compile(text, "prog.py", "exec")
    parse(Source("prog.py", text))


# ------------------------------------------------------------------ bounds

def nested_blocks(levels: int) -> str:
    return "".join(" " * i + "if x:\n" for i in range(levels)) + " " * levels + "pass\n"


def test_brackets_and_indentation_nest_as_deep_as_in_python_and_no_deeper() -> None:
    def brackets(n: int) -> str:
        return "x = " + "(" * n + "1" + ")" * n + "\n"
    assert not python_refuses(brackets(MAX_OPEN_BRACKETS))
    assert python_refuses(brackets(MAX_OPEN_BRACKETS + 1))
    parse(Source("prog.py", brackets(MAX_OPEN_BRACKETS)))
    err = refused(brackets(MAX_OPEN_BRACKETS + 1))
    assert err.message == "too many nested parentheses" and where(err) == (1, 205)

    assert not python_refuses(nested_blocks(MAX_INDENT_LEVELS))
    assert python_refuses(nested_blocks(MAX_INDENT_LEVELS + 1))
    parse(Source("prog.py", nested_blocks(MAX_INDENT_LEVELS)))
    err = refused(nested_blocks(MAX_INDENT_LEVELS + 1))
    assert err.message == "too many levels of indentation" and where(err) == (101, 1)


DEEP = {
    "operands": lambda n: "    x = (1\n" + "        + 1\n" * n + "    )\n",
    "unary operators": lambda n: "    x = " + "-" * n + "1\n",
    "nots": lambda n: "    x = " + "not " * n + "1\n",
    "powers": lambda n: "    x = " + "2 ** " * n + "1\n",
    "calls": lambda n: "    x = f" + "()" * n + "\n",
    "attributes": lambda n: "    x = ctx" + ".a" * n + "\n",
    "subscripts": lambda n: "    x = a" + "[0]" * n + "\n",
    "conditional expressions": lambda n: "    x = " + "1 if ctx else " * n + "0\n",
}   # (an elif chain nests no deeper: tests/compiler/test_elif_chains.py)


@pytest.mark.parametrize("shape", DEEP, ids=list(DEEP))
def test_deep_nesting_is_refused_where_it_passes_the_limit(shape: str) -> None:
    for size in (MAX_NESTING + 1, 4_000):
        err = refused(HOOK + DEEP[shape](size))
        assert err.message.startswith(f"nested too deeply: more than {MAX_NESTING} levels")
        assert err.pos is not None and err.pos.line >= 4


@pytest.mark.parametrize("shape", DEEP, ids=list(DEEP))
def test_nesting_up_to_the_limit_gets_through_the_whole_compiler(shape: str) -> None:
    # The checker and lowering recurse over the tree: what the parser lets
    # through must compile or be refused as the user's mistake (a
    # RecursionError or an internal error fails the test), even when the
    # compiler is called from deep in a stack.
    size = next(n for n in range(MAX_NESTING, 0, -1)
                if _parses(HOOK + DEEP[shape](n) + "    return ALLOW\n"))
    assert size >= MAX_NESTING - 10
    text = HOOK + "    a: u32 = 0\n" + DEEP[shape](size) + "    return ALLOW\n"
    _called_from_depth(300, _compile_or_refuse, text)


def _parses(text: str) -> bool:
    try:
        parse(Source("prog.py", text))
    except CompileError:
        return False
    return True


def _compile_or_refuse(text: str) -> None:
    try:
        compile_source(Source("prog.py", text))
    except CompileError:
        pass


def _called_from_depth(frames: int, fn, *args) -> None:  # type: ignore[no-untyped-def]
    if frames:
        return _called_from_depth(frames - 1, fn, *args)
    fn(*args)


@pytest.mark.parametrize("literal, refused_too", [
    (str(2 ** 128 - 1), False), (hex(2 ** 128 - 1), False), ("0x" + "0" * 500 + "1", False),
    (str(2 ** 128), True), ("1" * 5000, True), ("0x" + "f" * 60_000, True),
    ("0b1" + "_1" * 128, True),
])
def test_integer_literals_are_bounded_before_they_are_converted(literal: str,
                                                                refused_too: bool) -> None:
    text = HOOK + f"    x: u32 = {literal}\n    return ALLOW\n"
    if not refused_too:
        parse(Source("prog.py", text))
        return
    err = refused(text)
    assert err.message == "integer literal too large: more than 128 bits"
    assert where(err) == (4, 14)
    # And through the whole compiler: a located error, never an internal one.
    with pytest.raises(CompileError):
        compile_source(Source("prog.py", text))


# ---------------------------------------------------- parser bugs

def test_a_bug_in_the_tree_builder_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from pybpfc.compiler import tree_builder

    def broken(self: object, meta: object, token: object) -> object:
        raise KeyError("lost")
    monkeypatch.setattr(tree_builder.TreeBuilder, "int_literal", broken)
    with pytest.raises(InternalError) as info:
        parse(Source("prog.py", "x = 1\ny = 2\n"))
    assert info.value.phase == "parser"
    assert info.value.render() == ("prog.py:1:5: internal error in pybpfc's parser: "
                                   "KeyError: 'lost'")


def test_a_bug_in_the_token_stream_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from pybpfc.compiler import indenter

    original = indenter.Indenter.handle_NL

    def broken(self: indenter.Indenter, token: object):  # type: ignore[no-untyped-def]
        if self.last is not None and self.last.line == 2:
            raise ZeroDivisionError("oops")
        return original(self, token)
    monkeypatch.setattr(indenter.Indenter, "handle_NL", broken)
    with pytest.raises(InternalError) as info:
        parse(Source("prog.py", "x = 1\ny = 2\nz = 3\n"))
    assert isinstance(info.value.cause, ZeroDivisionError)
    assert info.value.pos is not None and info.value.pos.line == 2


def test_a_bug_in_describing_a_syntax_error_is_an_internal_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pybpfc.compiler import syntax_errors

    def broken(*args: object) -> object:
        raise IndexError("no such label")
    monkeypatch.setattr(syntax_errors, "matching_label", broken)
    with pytest.raises(InternalError):
        parse(Source("prog.py", "if x\n    pass\n"))


def test_a_parser_bug_exits_with_status_2_from_the_command_line(tmp_path: Path) -> None:
    program = tmp_path / "prog.py"
    program.write_text("x = 1\n")
    code = ("import sys\n"
            "from pybpfc.compiler import tree_builder\n"
            "def broken(self, meta, token):\n"
            "    raise KeyError('lost')\n"
            "tree_builder.TreeBuilder.int_literal = broken\n"
            "from pybpfc.cli import main\n"
            "sys.exit(main(['check', sys.argv[1]]))\n")
    result = subprocess.run([sys.executable, "-c", code, str(program)], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (f"pybpfc: {program}:1:5: internal "
                             "error in pybpfc's parser: KeyError: 'lost' "
                             "(run with --debug for the traceback)\n")


def test_the_compiler_fuzzer_counts_a_parser_bug_as_an_internal_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from fuzz.compile_check import INTERNAL, compile_text
    from pybpfc.compiler import tree_builder

    def broken(self: object, meta: object, token: object) -> object:
        raise KeyError("lost")
    monkeypatch.setattr(tree_builder.TreeBuilder, "int_literal", broken)
    outcome = compile_text(HOOK + "    return 1\n")
    assert outcome.kind == INTERNAL
    assert "KeyError: 'lost'" in outcome.detail
