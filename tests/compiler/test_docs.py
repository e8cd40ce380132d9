"""The examples in docs/language.md are true.

- A block fenced as ```python program is a complete program that compiles
  (and, as the doc promises, is importable Python that mypy --strict accepts).
- A block fenced as ```python error is a complete program whose first line is
  ``# error: TEXT``; checking it raises a CompileError whose message
  contains TEXT.
- Other ```python blocks are fragments and are not checked.
- Each row of a table whose header ends in ``refused | error`` holds a
  one-line statement that fails with the row's error when placed in a hook's
  body: the hook the row's "where" column names, else a @cgroup_sysctl hook
  (``module`` in that column puts the statement at module level instead).

Test ids name the line of the block (or row) in the markdown file.
"""
from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pybpfc import abi
from pybpfc.compiler.driver import check_source, compile_source
from pybpfc.compiler.errors import CompileError, Source

from tests.support import REPO_ROOT
DOC = REPO_ROOT / "docs" / "language.md"
FENCE = re.compile(r"^```python\b(.*)$")
KINDS = ("program", "error", "")
ERROR_HEADER = re.compile(r"^# error: (.+)$")


@dataclass(frozen=True)
class Block:
    kind: str       # "program", "error" or "" (a fragment)
    line: int       # line of the opening fence, from 1
    text: str

    @property
    def id(self) -> str:
        return f"line{self.line}"


def all_blocks() -> list[Block]:
    found: list[Block] = []
    lines = DOC.read_text().splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append(lines[i])
            i += 1
        assert i < len(lines), f"language.md:{start + 1}: unclosed code block"
        found.append(Block(m.group(1).strip(), start + 1, "\n".join(body) + "\n"))
        i += 1
    return found


def blocks(kind: str) -> list[Block]:
    return [b for b in all_blocks() if b.kind == kind]


def error_text(block: Block) -> str:
    m = ERROR_HEADER.match(block.text.splitlines()[0])
    assert m and m.group(1).strip(), \
        f"language.md:{block.line}: an error block starts with '# error: TEXT'"
    return m.group(1).strip()


def check_fails_with(text: str, program: str) -> None:
    with pytest.raises(CompileError) as info:
        check_source(Source("doc.py", program))
    assert text in info.value.message, info.value.render()


@pytest.mark.parametrize("block", blocks("program"), ids=lambda b: b.id)
def test_program_block_compiles(block: Block) -> None:
    compiled = compile_source(Source("doc.py", block.text))
    assert compiled.elf
    assert compiled.plan.programs


@pytest.mark.parametrize("block", blocks("program"), ids=lambda b: b.id)
def test_program_block_is_importable_python(block: Block) -> None:
    """The doc says a program is an ordinary module: importing it runs only
    the decorators, which mark functions."""
    exec(compile(block.text, f"language.md:{block.line}", "exec"), {"__name__": block.id})


def test_program_blocks_pass_mypy(tmp_path: Path) -> None:
    paths = []
    for block in blocks("program"):
        path = tmp_path / f"doc_{block.id}.py"
        path.write_text(block.text)
        paths.append(str(path))
    # Run where the files are, outside the repository: pybpfc must come from
    # the installation, as it does for a user's program.
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                             *paths], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("block", blocks("error"), ids=lambda b: b.id)
def test_error_block_fails_with_its_message(block: Block) -> None:
    check_fails_with(error_text(block), block.text)


# ------------------------------------------------------- the refused tables

# A table whose header ends in "refused | error" lists one-line statements
# (several may share the line with ';') that fail in a hook's body.  A
# "where" column names the hook (`@socket_filter`), or says `module`: the
# statement then stands at module level, before a @cgroup_sysctl hook.
# Without the column, the statement is in a @cgroup_sysctl hook.
REFUSED_HEADER = re.compile(r"^\|.*\brefused \| error \|\s*$")
DEFAULT_HOOK = "cgroup_sysctl"

# Every row's module also declares the map the Maps section's rows use.
HOOK_TEMPLATE = """\
from pybpfc import (ALLOW, KEEP_ALL, {context}, {decorator}, EthHdr, HashMap, atomic_add, htons,
                    i8, i16, i32, i64, strtoul, struct, sysctl_get_name, u8, u16, u32, u64)
by_name: HashMap[u32, u64] = HashMap(max_entries=8)
{module_statement}

@{decorator}
def guard(ctx: {context}) -> int:
    {statement}
    return {verdict}
"""


@dataclass(frozen=True)
class Row:
    line: int
    where: str      # a hook decorator, or "module"
    statement: str
    message: str

    @property
    def id(self) -> str:
        return f"line{self.line}"

    def program(self) -> str:
        at_module = self.where == "module"
        hook = abi.hook_named(DEFAULT_HOOK if at_module else self.where)
        return HOOK_TEMPLATE.format(
            context=hook.context.python_name, decorator=hook.decorator,
            module_statement=self.statement if at_module else "",
            statement="pass" if at_module else self.statement,
            verdict="KEEP_ALL" if hook.returns.kind == "bytes" else "ALLOW")


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split(" | ")]


def code(cell: str, at: str) -> str:
    assert len(cell) > 2 and cell[0] == cell[-1] == "`", f"{at}: write `code` in the cell"
    return cell[1:-1]


def refused_rows() -> list[Row]:
    lines = DOC.read_text().splitlines()
    rows: list[Row] = []
    for start, header in enumerate(lines):
        if not REFUSED_HEADER.match(header):
            continue
        names = cells(header)
        # Skip the header and the separator row.
        for i in range(start + 2, len(lines)):
            if not lines[i].startswith("|"):
                break
            at = f"language.md:{i + 1}"
            row = cells(lines[i])
            assert len(row) == len(names), f"{at}: expected {len(names)} cells"
            place = DEFAULT_HOOK
            if "where" in names:
                place = code(row[names.index("where")], at).lstrip("@")
                assert place == "module" or place in abi.HOOKS_BY_DECORATOR, \
                    f"{at}: `module` or a hook decorator, not {place!r}"
            rows.append(Row(i + 1, place, code(row[-2], at), code(row[-1], at)))
    return rows


@pytest.mark.parametrize("row", refused_rows(), ids=lambda r: r.id)
def test_refused_table_row(row: Row) -> None:
    check_fails_with(row.message, row.program())


# --------------------------------------------------------------- coverage


def test_doc_has_enough_complete_programs() -> None:
    assert len(blocks("program")) >= 25


def test_every_python_block_is_marked_or_a_fragment() -> None:
    """A typo in a fence (```python programs) would silently skip a block."""
    for block in all_blocks():
        assert block.kind in KINDS, f"language.md:{block.line}: unknown block kind {block.kind!r}"


def test_refused_tables_are_found() -> None:
    assert len(refused_rows()) >= 50
