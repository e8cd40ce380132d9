"""A long `elif` chain is flat to its reader and to Python: it compiles and
runs as Python reads it, up to a bound below the depth at which Python's
own compiler gives up, past which it is a located error.

Run from the repository root: python -m pytest tests/compiler/test_elif_chains.py -q
"""
from __future__ import annotations

import pytest

from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import CompileError, Source
from pybpfc.compiler.parser import parse
from pybpfc.compiler.source import MAX_NESTING, MAX_TREE_DEPTH
from pybpfc.simulate import load_program

PROGRAM = ("from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, u32\n"
           "pick: u32 = 0\n"
           "seen: u32 = 0\n"
           "@cgroup_sysctl\n"
           "def guard(ctx: SysctlContext) -> int:\n"
           "    global seen\n")
CHAIN_LINE = 7      # where the chain's `if` stands in PROGRAM + chain(n)
# The chain's `if` is two levels below the module (in the function), the
# operands of its branches' comparisons two more: the k-th elif's operands
# are k + 4 deep.
LONGEST = MAX_TREE_DEPTH - 3


def chain(branches: int) -> str:
    """An if and `branches - 1` elifs, branch i setting `seen` to i + 1."""
    lines = ["    if pick == 0:\n        seen = 1\n"]
    lines += [f"    elif pick == {i}:\n        seen = {i + 1}\n" for i in range(1, branches)]
    return "".join(lines) + "    return ALLOW\n"


def python_compiles(text: str) -> bool:
    try:
        compile(text, "prog.py", "exec", dont_inherit=True)
    except (SyntaxError, RecursionError, MemoryError):
        return False
    return True


def _called_from_depth(frames: int, fn, *args):  # type: ignore[no-untyped-def]
    if frames:
        return _called_from_depth(frames - 1, fn, *args)
    return fn(*args)


def test_a_chain_longer_than_the_nesting_limit_compiles_and_runs_its_last_branch() -> None:
    branches = 3 * MAX_NESTING
    text = PROGRAM + chain(branches)
    assert python_compiles(text)
    obj = compile_source(Source("prog.py", text))
    assert obj.plan.programs[0].name == "guard"
    program = load_program("prog.py", text=text)
    program.globals["pick"] = branches - 1
    result = program.run("guard")
    assert result.verdict_name == "ALLOW" and result.globals["seen"] == branches


def test_the_longest_chain_gets_through_the_whole_compiler_from_deep_in_a_stack() -> None:
    branches = LONGEST
    text = PROGRAM + chain(branches)
    assert python_compiles(text), "the bound must stay below Python's own"
    obj = _called_from_depth(300, compile_source, Source("prog.py", text))
    assert obj.plan.programs[0].name == "guard"
    program = load_program("prog.py", text=text)
    program.globals["pick"] = branches - 1
    result = _called_from_depth(300, program.run, "guard")    # (its checking is compiling's)
    assert result.globals["seen"] == branches


@pytest.mark.parametrize("branches", [LONGEST + 1, 4_000, 20_000])
def test_a_chain_past_the_bound_is_a_located_error(branches: int) -> None:
    text = PROGRAM + chain(branches)
    with pytest.raises(CompileError) as info:
        parse(Source("prog.py", text))
    err = info.value
    assert err.message == (f"nested too deeply: more than {MAX_TREE_DEPTH:,} levels of blocks "
                           "and expressions, counting each elif")
    # At the first elif whose comparison passes the bound.
    assert err.pos is not None and err.pos.line == CHAIN_LINE + 2 * LONGEST
    assert "3,000 elifs" in (err.note or "")


def test_python_refuses_a_chain_pybpfc_refuses_for_its_length() -> None:
    assert not python_compiles(PROGRAM + chain(4_000))
