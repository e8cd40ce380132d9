"""The interpreter and the kernel give the same answers (fuzz/differential.py):
every example and 500 generated valid programs, each hook run by real
events (a test run for socket filters, system calls from a child in a
temporary cgroup for the others), verdicts, written fields, globals and
maps compared.  A disagreement is a bug in the compiler or the interpreter."""
from __future__ import annotations

from typing import Iterator

import pytest

from fuzz.differential import Kernel, Tally, compare, examples, generated
from tests.support import REPO_ROOT, require_root

GENERATED = 500
EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.py"))


@pytest.fixture(scope="module")
def kernel() -> Iterator[Kernel]:
    require_root("attaching to a cgroup")
    with Kernel() as k:
        yield k


def test_every_example_agrees(kernel: Kernel) -> None:
    tally = Tally()
    examples(kernel, tally)
    assert not tally.disagreements, "\n".join(tally.disagreements)
    # Only an example of a hook with no events yet may be left out.
    assert all(why.startswith("no events for @") for why in tally.skipped), tally
    assert tally.compared + sum(tally.skipped.values()) == len(EXAMPLES), tally
    assert tally.compared >= 14, tally


def test_generated_programs_agree(kernel: Kernel) -> None:
    tally = Tally()
    generated(kernel, tally, GENERATED)
    assert not tally.disagreements, "\n".join(tally.disagreements[:20])
    assert tally.compared >= GENERATED, tally


def test_a_disagreement_is_found(kernel: Kernel) -> None:
    """The comparison can fail: an interpreter told the wrong pid disagrees
    with the kernel on a global that keeps it."""
    text = ("from pybpfc import ALLOW, SockContext, cgroup_sock_create, "
            "get_current_pid_tgid, u64\n\n"
            "seen: u64 = 0\n\n\n"
            "@cgroup_sock_create\n"
            "def keep_pid(ctx: SockContext) -> int:\n"
            "    global seen\n"
            "    seen = get_current_pid_tgid() >> 32\n"
            "    return ALLOW\n")
    agreeing = Tally()
    compare(text, "keep_pid.py", kernel, agreeing)
    assert agreeing.compared == 1 and not agreeing.disagreements, agreeing
    kernel.child_fakes["tgid"] += 1
    try:
        wrong = Tally()
        compare(text, "keep_pid.py", kernel, wrong)
    finally:
        kernel.child_fakes["tgid"] -= 1
    assert wrong.disagreements and "seen: kernel" in wrong.disagreements[0], wrong
