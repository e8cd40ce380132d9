"""codegen lays blocks out so that conditional jumps fall through: no
example compiles to a conditional jump over a lone `goto` (what the BPF
backend emits when a branch's successor is not the next block), and the
layout keeps the program's meaning and debug lines."""
from __future__ import annotations

import re

import llvmlite.binding as llvm
import pytest

from tests.support import REPO_ROOT
from pybpfc.compiler import codegen
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.disasm import objdump
from pybpfc.runtime.elf import read_object

EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.py"))
JUMP = re.compile(r"^\s*(\d+): if .* goto \+1 <")
GOTO = re.compile(r"^\s*(\d+): goto ")


def listing(path) -> list[str]:
    elf = compile_source(Source(str(path), path.read_text())).elf
    return objdump(read_object(elf)).splitlines()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_no_conditional_jump_over_a_goto(path) -> None:
    lines = [line for line in listing(path) if re.match(r"^\s*\d+:", line)]
    for first, second in zip(lines, lines[1:]):
        assert not (JUMP.match(first) and GOTO.match(second)), f"{first}\n{second}"


def test_source_lines_survive_the_layout() -> None:
    text = "\n".join(listing(REPO_ROOT / "examples" / "deny_ttl.py"))
    assert "refused += 1  [deny_ttl.py:18:9]" in text


def test_blocks_follow_a_predecessor_in_reverse_post_order() -> None:
    body = ["entry:", "  br i1 %c, label %then, label %else",
            "join:", "  ret i32 0",
            "else:", "  br label %join",
            "then:", "  br label %join"]
    out = codegen._lay_out_function(body)
    labels = [line[:-1] for line in out if line.endswith(":")]
    assert labels == ["entry", "then", "else", "join"]
    assert sorted(out) == sorted(body)


def test_unnamed_values_are_named_so_blocks_can_move() -> None:
    module = llvm.parse_assembly("""
define i32 @f(i32 %0) {
  %2 = icmp eq i32 %0, 0
  br i1 %2, label %4, label %3
3:
  ret i32 1
4:
  ret i32 0
}
""")
    laid_out = codegen._lay_out_blocks(module)
    assert laid_out is not None
    f = laid_out.get_function("f")
    assert all(b.name for b in f.blocks)
    assert [b.name for b in f.blocks][1] == "unnamed$4"    # the true successor comes next


def test_a_module_already_in_order_is_left_as_it_is() -> None:
    module = llvm.parse_assembly("""
define i32 @f(i32 %0) {
  %2 = icmp eq i32 %0, 0
  br i1 %2, label %3, label %4
3:
  ret i32 0
4:
  ret i32 1
}
""")
    assert codegen._lay_out_blocks(module) is None


def test_naming_unnamed_values_leaves_strings_alone() -> None:
    module = llvm.parse_assembly("""
define void @f(i1 %0, ptr %1) {
  br i1 %0, label %4, label %3
3:
  store [3 x i8] c"%1\\00", ptr %1
  ret void
4:
  ret void
}
""")
    laid_out = codegen._lay_out_blocks(module)
    assert laid_out is not None
    assert 'c"%1\\00"' in str(laid_out)
