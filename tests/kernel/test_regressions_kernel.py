"""Programs the fuzzer found that the compiler mishandled: each must now
build, and be accepted by the kernel's verifier, or (a line
`# kernel refuses: TEXT`) be refused with that reason shown at its Python
line.  The programs are in tests/regressions/, one per bug."""
from __future__ import annotations

from pathlib import Path

import re

import pytest

from tests.support import REPO_ROOT, require_root
from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.collection import load
from pybpfc.runtime.errors import VerifierError

PROGRAMS = sorted((REPO_ROOT / "tests" / "regressions").glob("*.py"))


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.stem)
def test_builds_and_the_verifier_accepts_it(path: Path) -> None:
    require_root("loading programs")
    text = path.read_text()
    elf = compile_source(Source(str(path), text)).elf
    refused = re.search(r"^# kernel refuses: (.*)$", text, re.M)
    if refused is None:
        with load(elf) as coll:
            assert coll.programs
        return
    with pytest.raises(VerifierError) as info:
        load(elf).close()
    assert refused.group(1) in str(info.value)
    assert f"{path.name}:" in str(info.value)      # at the program's own line
