"""No module of pybpfc/, runtime/, fuzz/ or benchmarks/ is over LIMIT lines: a file that grows
past it holds more than one idea and is split along its seams."""
from __future__ import annotations

from tests.support import REPO_ROOT

LIMIT = 650

MODULES = sorted(str(path.relative_to(REPO_ROOT))
                 for directory in ("pybpfc", "runtime", "fuzz", "benchmarks")
                 for path in (REPO_ROOT / directory).rglob("*.py"))


def lines_of(module: str) -> int:
    return len((REPO_ROOT / module).read_text().splitlines())


def test_modules_are_found() -> None:
    assert "pybpfc/abi/kernel.py" in MODULES and "runtime/bpf.py" in MODULES
    assert "fuzz/programs.py" in MODULES and "benchmarks/harness.py" in MODULES


def test_no_module_is_over_the_limit() -> None:
    oversized = {m: lines_of(m) for m in MODULES if lines_of(m) > LIMIT}
    assert not oversized, f"over {LIMIT} lines: {oversized}"
