"""Statement sequences that end a function the same way are lowered once
(pybpfc/compiler/lower/tails.py): the copies go, and sequences that only
look alike keep their own code."""
from __future__ import annotations

import re
import textwrap

from tests.support import REPO_ROOT
from pybpfc.compiler import ast as A
from pybpfc.compiler.driver import check_source, compile_source
from pybpfc.compiler.errors import Source
from pybpfc.compiler.lower.tails import tail_keys
from pybpfc.runtime.disasm import objdump
from pybpfc.runtime.elf import read_object

HEADER = """\
from pybpfc import ALLOW, REJECT, SysctlContext, cgroup_sysctl, u64

refused: u64 = 0
other: u64 = 0
"""


def count(text: str, pattern: str) -> int:
    return len(re.findall(pattern, text))


def test_equal_exits_share_one_copy() -> None:
    # Two refusals that count and REJECT alike, and an accepting path.
    path = REPO_ROOT / "benchmarks" / "findings" / "identical_exits.py"
    text = objdump(read_object(compile_source(Source(str(path), path.read_text())).elf))
    assert count(text, r"<refused>") == 1, text
    assert count(text, r"w0 = 0\b") == 1, text


def exit_branch_bodies(body: str) -> list[list[A.Stmt]]:
    """The bodies of the if statements of the hook in ``body``."""
    program = check_source(Source("tails.py", HEADER + textwrap.dedent(body)))
    (hook,) = program.hooks
    return [s.body for s in hook.node.body if isinstance(s, A.If)]


def exit_tails(body: str) -> list[object]:
    """The shareable key of each if-branch's whole body in the hook."""
    return [tail_keys(stmts)[0] for stmts in exit_branch_bodies(body)]


def test_exits_that_differ_are_different_tails() -> None:
    # Same shape, another global, another verdict, another amount, a
    # variable for the amount: no two are one tail.
    keys = exit_tails("""
        @cgroup_sysctl
        def guard(ctx: SysctlContext) -> int:
            global refused, other
            x: u64 = 1
            if ctx.write == 0:
                refused += 1
                return REJECT
            if ctx.file_pos > 10:
                other += 1
                return REJECT
            if ctx.file_pos > 5:
                refused += 2
                return REJECT
            if ctx.file_pos > 4:
                refused += 1
                return ALLOW
            if ctx.file_pos > 3:
                refused += x
                return REJECT
            if ctx.file_pos > 2:
                refused += 1
                return REJECT
            return ALLOW
        """)
    assert all(key is not None for key in keys)
    assert keys[0] == keys[5]
    assert len(set(keys[:5])) == 5


def test_a_tail_with_a_break_is_not_shared() -> None:
    keys = tail_keys(exit_branch_bodies("""
        @cgroup_sysctl
        def guard(ctx: SysctlContext) -> int:
            global refused
            if ctx.write == 0:
                for i in range(4):
                    if ctx.file_pos == i:
                        break
                refused += 1
                return REJECT
            return ALLOW
        """)[0])
    assert keys[0] is None          # the loop holds a break
    assert keys[1] is not None and keys[2] is not None
