"""Programs at the edges of what the compiler can take: each is a located
CompileError or compiles, never an internal error, a crash or LLVM ending
the process.  (Every test runs the whole compile in process.)"""
from __future__ import annotations

import textwrap
import time
from typing import Any, Callable, Optional

import pytest

from pybpfc.compiler import ast as A
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import CompileError, InternalError, Source
from pybpfc.compiler.check.state import MAX_BLOCK_DEPTH
from pybpfc.compiler.parser import parse
from pybpfc.compiler.source import MAX_TREE_DEPTH

HEADER = textwrap.dedent("""\
    from typing import Final
    from pybpfc import ALLOW, SysctlContext, cgroup_sysctl, u8, u32, u64
""")

HOOK = textwrap.dedent("""\


    @cgroup_sysctl
    def h(ctx: SysctlContext) -> int:
        BODY
        return ALLOW
""")


def program(body: str = "pass", module: str = "") -> str:
    return HEADER + module + HOOK.replace("BODY", body)


def compile_error(text: str, module: Optional[A.Module] = None) -> CompileError:
    with pytest.raises(CompileError) as caught:
        compile_source(Source("prog.py", text), module)
    assert not isinstance(caught.value, InternalError)
    return caught.value


def find(module: A.Module, kind: type, test: Callable[[Any], bool]) -> Any:
    """The first node of ``kind`` that passes ``test``, in the hook's body."""
    pending: list[Any] = [module.body[-1]]
    while pending:
        node = pending.pop()
        if isinstance(node, kind) and test(node):
            return node
        for value in vars(node).values():
            items = value if isinstance(value, list) else [value]
            pending.extend(v for v in items if isinstance(v, A.Node))
    raise AssertionError(f"no {kind.__name__}")


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


# ------------------------------------------------------------ constants

def test_a_literal_beyond_python_s_int_to_str_limit_is_located() -> None:
    """Python refuses to turn an int of over 4,300 digits into text, which
    the message that it does not fit in u32 did."""
    text = program("x: u32 = 0x" + "f" * 5000)
    err = compile_error(text)
    assert err.pos is not None and (err.pos.line, err.pos.col) == (line_of(text, "0xff"), 14)
    assert "too large" in err.message       # the parser's words, or the checker's


def test_a_literal_beyond_the_bound_is_refused_whatever_the_parser_lets_through() -> None:
    text = program("x: u32 = 1")
    module = parse(Source("prog.py", text))
    literal = find(module, A.IntLit, lambda n: n.value == 1)
    literal.value = int("f" * 5000, 16)
    err = compile_error(text, module)
    assert err.pos == literal.pos
    assert err.message == "this constant is too large"
    assert "128 bits" in (err.note or "")


def test_a_decimal_literal_beyond_the_limit_is_a_compile_error() -> None:
    err = compile_error(program("x: u32 = " + "9" * 5000))
    assert err.pos is not None


def test_chained_squarings_stop_at_the_bound() -> None:
    """40 chained squarings of 2 once took 4.2 GB and ended in MemoryError."""
    constants = "\n".join(["A0: Final = 2"] + [f"A{i + 1}: Final = A{i} * A{i}"
                                                for i in range(40)])
    text = program("x: u8 = A40", module=constants + "\n")
    start = time.perf_counter()
    err = compile_error(text)
    assert time.perf_counter() - start < 5
    # 2**(2**6) has 65 bits; its square, 2**128, has 129.
    assert err.pos is not None and err.pos.line == line_of(text, "A7: Final")
    assert err.message == "this constant is too large"


@pytest.mark.parametrize("expression", ["(1 << 127) * 2", "-(1 << 127) * 2",
                                        "~(1 << 127) * 2", "(1 << 100) << 100", "1 << 128"])
def test_every_operator_keeps_constants_bounded(expression: str) -> None:
    err = compile_error(program(f"x = {expression}"))
    assert err.message == "this constant is too large"


def test_constants_up_to_the_bound_still_fold() -> None:
    compile_source(Source("prog.py", program(
        "x: u64 = (((1 << 127) - 1) * 2 + 1) >> 64\n    y: u8 = (1 << 127) // (1 << 124)")))


# ---------------------------------------------------------------- depth

def deep_caller(frames: int, work):  # type: ignore[no-untyped-def]
    """``work()`` run ``frames`` Python frames deep, as an in-process
    caller might."""
    return work() if frames == 0 else deep_caller(frames - 1, work)


def test_a_5000_operand_chain_is_located() -> None:
    text = program("x = ctx.file_pos\n    y = " + " + ".join(["x"] * 5000)
                   + "\n    x = y")
    err = compile_error(text)
    assert err.pos is not None and err.pos.line == line_of(text, "y = x + x")
    assert "nested" in err.message


def chain(leaf: A.Expr, operands: int) -> A.Expr:
    """``leaf + leaf + ...``, as deep as Python would parse it."""
    expr = leaf
    for _ in range(operands - 1):
        expr = A.BinOp(leaf.pos, "+", expr, leaf)
    return expr


def nested_ifs(test: A.Expr, depth: int, innermost: list[A.Stmt]) -> A.If:
    """``if test:`` inside ``if test:`` ... ``depth`` deep, as elifs nest."""
    body = innermost
    for _ in range(depth):
        body = [A.If(test.pos, test, body, [])]
    return body[0]  # type: ignore[return-value]


def hook_with(statements: list[A.Stmt]) -> tuple[str, A.Module]:
    """A program whose hook starts with ``statements`` (built, not parsed)."""
    text = program("x = ctx.file_pos")
    module = parse(Source("prog.py", text))
    hook = module.body[-1]
    assert isinstance(hook, A.FunctionDef)
    hook.body[1:1] = statements
    return text, module


def x_name(text: str) -> A.Name:
    line = line_of(text, "x = ctx.file_pos")
    return A.Name(A.Pos(line, 5, line, 6), "x")


def test_the_checker_bounds_expressions_whatever_the_parser_lets_through() -> None:
    text, module = hook_with([])
    x = x_name(text)
    module.body[-1].body.append(A.Assign(x.pos, A.Name(x.pos, "y"), chain(x, 5000)))
    err = compile_error(text, module)
    assert err.message == "this expression is nested more than 200 levels deep"
    assert err.pos == x.pos


def test_the_checker_bounds_blocks_whatever_the_parser_lets_through() -> None:
    text, module = hook_with([])
    x = x_name(text)
    module.body[-1].body.insert(1, nested_ifs(x, MAX_BLOCK_DEPTH + 200, [A.Pass(x.pos)]))
    err = compile_error(text, module)
    assert err.message.startswith(f"blocks are nested more than {MAX_BLOCK_DEPTH} levels deep")


def test_the_deepest_tree_the_checker_takes_compiles_from_a_deep_caller() -> None:
    """300 nested blocks around a 190-deep expression, 500 frames deep:
    every phase's walk gets the Python frames it needs, however deep the
    caller already is."""
    text, module = hook_with([])
    x = x_name(text)
    innermost: list[A.Stmt] = [A.Assign(x.pos, A.Name(x.pos, "y"), chain(x, 190))]
    module.body[-1].body.insert(1, nested_ifs(x, 300, innermost))
    compiled = deep_caller(500, lambda: compile_source(Source("prog.py", text), module))
    assert compiled.elf


def test_a_long_chain_within_the_limit_compiles() -> None:
    compile_source(Source("prog.py", program(
        "x = ctx.file_pos\n    y = " + " + ".join(["x"] * 150) + "\n    x = y")))


def test_600_functions_each_calling_the_next_compile() -> None:
    functions = "".join(f"def f{i}(x: u32) -> u32:\n    return f{i + 1}(x) + 1\n\n\n"
                        for i in range(599)) + "def f599(x: u32) -> u32:\n    return x\n"
    text = program("x = f0(ctx.file_pos)\n    if x == 7:\n        return 0",
                   module="\n\n" + functions)
    assert deep_caller(400, lambda: compile_source(Source("prog.py", text))).elf


def test_a_600_function_cycle_is_located() -> None:
    functions = "".join(f"def f{i}(x: u32) -> u32:\n    return f{(i + 1) % 600}(x)\n\n\n"
                        for i in range(600))
    text = program("x = f0(ctx.file_pos)", module="\n\n" + functions)
    err = compile_error(text)
    assert err.message.startswith("recursion is not supported (f0 -> f1 -> f2")
    assert err.pos is not None and err.pos.line == line_of(text, "return f0(x)")


def elif_chain(n: int, last: str = "return ALLOW") -> str:
    return ("x = ctx.file_pos\n    if x == 0:\n        return ALLOW\n"
            + "".join(f"    elif x == {i}:\n        return 0\n" for i in range(1, n))
            + f"    else:\n        {last}")


def test_an_elif_chain_python_takes_and_the_limits_allow_compiles() -> None:
    compile_source(Source("prog.py", program(elif_chain(150))))


def test_an_elif_chain_beyond_the_limits_is_located() -> None:
    # (A chain of 1,200, which Python takes, compiles: tests/compiler/test_elif_chains.py.)
    err = compile_error(program(elif_chain(MAX_TREE_DEPTH + 200)))
    assert err.pos is not None
    assert "nested" in err.message


def test_nested_blocks_python_accepts_compile() -> None:
    body = "x = ctx.file_pos\n" + "".join("    " * (i + 1) + f"if x != {i}:\n"
                                           for i in range(90)) + "    " * 91 + "return 0"
    compile_source(Source("prog.py", program(body)))


# ------------------------------------------------------ names in the object

SOCKET_FILTER = textwrap.dedent("""\
    from pybpfc import SkBuff, socket_filter, u32

    NAME: u32 = 1


    @socket_filter
    def keep(skb: SkBuff) -> int:
        return 0
""")


@pytest.mark.parametrize("text, where", [
    # The license section's name (LLVM: "invalid symbol redefinition", exit(1)).
    (program().replace("def h(", "def license("), "license("),
    (program(module="\n\ndef license() -> int:\n    return 1\n"), "license()"),
    (program(module="license: u32 = 1\n"), "license: u32"),
    # The license string's own symbol (llvmlite: DuplicatedNameError).
    (program(module="_license: u32 = 0\n"), "_license: u32"),
    (program().replace("def h(", "def _license("), "_license("),
    # The section of a hook of the object.
    (SOCKET_FILTER.replace("NAME", "socket"), "socket: u32"),
    (SOCKET_FILTER.replace("def keep(", "def socket("), "socket("),
])
def test_a_name_the_object_gives_a_section_or_its_license_is_refused(
        text: str, where: str) -> None:
    err = compile_error(text)
    name = where.split("(")[0].split(":")[0]
    assert err.message.startswith(f"'{name}' is also the name of ")
    assert err.pos is not None
    line = line_of(text, where)
    assert (err.pos.line, err.pos.col) == (line, text.splitlines()[line - 1].index(name) + 1)


def test_a_section_name_of_a_hook_the_object_lacks_is_free() -> None:
    compile_source(Source("prog.py", program(module="socket: u32 = 1\n")))


def test_a_license_pybpfc_s_own_loader_would_refuse_is_refused() -> None:
    """The runtime reads the license section as ASCII (as the kernel
    compares it with the licenses it knows)."""
    text = program(module='LICENSE = "GPL \u00e9dition"\n')
    err = compile_error(text)
    assert err.message == "LICENSE must be ASCII text"
    assert err.pos is not None and (err.pos.line, err.pos.col) == (line_of(text, "LICENSE"), 11)


@pytest.mark.kernel
def test_an_ascii_license_loads() -> None:
    from pybpfc.runtime.collection import load
    from tests.support import require_root
    require_root("loading a program")
    elf = compile_source(Source("prog.py", program(module='LICENSE = "Dual BSD/GPL"\n'))).elf
    with load(elf) as collection:
        assert collection.spec.license == "Dual BSD/GPL"


# ------------------------------------------------------- module-level calls

@pytest.mark.parametrize("value, spelled", [("ktime_get_ns()", "ktime_get_ns()"),
                                            ("f(1)", "f()"), ("m.lookup(1)", "m.lookup()"),
                                            ("f(ktime_get_ns())", "f()")])
def test_a_call_at_module_level_is_located(value: str, spelled: str) -> None:
    """A global's value computed by a call reached the checker's assertion
    that calls happen inside functions."""
    module = ("from pybpfc import HashMap, ktime_get_ns\n"
              "m: HashMap[u32, u64] = HashMap(max_entries=2)\n\n\n"
              "def f(x: u64) -> u64:\n    return x\n\n\n"
              f"x: u64 = {value}\n")
    text = program(module=module)
    err = compile_error(text)
    assert err.message.startswith(f"{spelled} cannot be called at module level")
    assert err.pos is not None and err.pos.line == line_of(text, "x: u64 =")


def test_conversions_at_module_level_are_constants() -> None:
    compile_source(Source("prog.py", program(module="x: u64 = u64(7) + min(2, 3)\n")))
