"""Mutated programs never crash the compiler: every input either compiles
or gets a CompileError (never another exception, which the CLI would report
as an internal error)."""
from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel import REPO_ROOT
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import CompileError, Source

EXAMPLES = [p.read_text() for p in sorted((REPO_ROOT / "examples").glob("*.py"))]
NAMES = ["ctx", "u8", "u32", "i64", "bool", "ALLOW", "REJECT", "range", "len", "x", "global",
         "None", "True", "optval", "optlen", "mark", "struct", "Final", "lambda", "def"]
NUMBERS = ["0", "1", "-1", "255", "256", "4096", "0xFFFFFFFF", "1 << 63", "65536", "7"]


def tokens(text: str) -> list[str]:
    """The program's text cut at token boundaries (whitespace kept)."""
    return [t for t in re.split(r"(\s+|\w+|[^\w\s])", text) if t]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    parts = tokens(draw(st.sampled_from(EXAMPLES)))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(parts) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "number", "name"]))
        if action == "delete":
            del parts[i]
        elif action == "duplicate":
            parts.insert(i, parts[i])
        elif action == "swap":
            j = draw(st.integers(0, len(parts) - 1))
            parts[i], parts[j] = parts[j], parts[i]
        elif action == "number":
            parts[i] = draw(st.sampled_from(NUMBERS))
        else:
            parts[i] = draw(st.sampled_from(NAMES))
        if not parts:
            parts = [""]
    return "".join(parts)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_examples_compile_or_fail_cleanly(text: str) -> None:
    try:
        compile_source(Source("fuzz.py", text))
    except CompileError as err:
        rendered = err.render()
        assert rendered.startswith("fuzz.py")
