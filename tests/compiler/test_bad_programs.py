"""Bad programs: every one gets exit status 1, the exact expected position
and message, and no traceback.

Each file in tests/bad/ starts with ``# expect: LINE:COL TEXT``: the error
must be reported at that line and column and its message must contain TEXT.
A file expecting a whole-program error says ``# expect: error: TEXT``.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import REPO_ROOT, pybpfc_cli

BAD = REPO_ROOT / "tests" / "bad"
EXPECT = re.compile(r"# expect: (?:(\d+):(\d+) ?|error: )(.*)$")


def expectation(path: Path) -> tuple[int | None, int | None, str]:
    m = EXPECT.match(path.read_text().splitlines()[0])
    assert m, f"{path.name}: first line must be '# expect: LINE:COL TEXT'"
    line, col, text = m.groups()
    return (int(line) if line else None, int(col) if col else None, text.strip())


@pytest.mark.parametrize("path", sorted(BAD.glob("*.py")), ids=lambda p: p.stem)
def test_bad_program_is_rejected_at_its_line(path: Path) -> None:
    line, col, text = expectation(path)
    result = pybpfc_cli("check", str(path))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    first = result.stderr.splitlines()[0]
    if line is None:
        assert first.startswith(f"{path}: error: "), first
    else:
        assert first.startswith(f"{path}:{line}:{col}: error: "), first
    assert text in first, first


def test_corpus_is_large_enough() -> None:
    located = [p for p in BAD.glob("*.py") if expectation(p)[0] is not None]
    assert len(located) >= 40


def test_error_shows_the_line_and_a_caret() -> None:
    path = BAD / "type_true_division.py"
    result = pybpfc_cli("check", str(path))
    lines = result.stderr.splitlines()
    assert lines[1].strip() == "x = ctx.file_pos / 2"
    caret_col = lines[2].index("^") - (len(lines[1]) - len(lines[1].lstrip()))
    # The caret sits under the expression's first character (column 9).
    assert lines[2].index("^") == lines[1].index("ctx")
    assert caret_col >= 0
