"""fuzz/isolate.py: an input that ends the child is reported as a crash of
that input, saying how, and the next inputs go on in a new child.

Run from the repository root: python -m pytest tests/compiler/test_fuzz_isolate.py -q
"""
from __future__ import annotations

import os

from fuzz.isolate import CRASH, TIMEOUT, run_isolated


def _work(item: int) -> int:
    if item == 2:
        raise ValueError("the harness met something new")
    if item == 4:
        os._exit(3)
    if item == 6:
        os.kill(os.getpid(), 9)
    if item == 8:
        while True:
            pass
    return item * 10


def test_each_way_an_input_ends_its_child_is_reported_and_the_rest_go_on() -> None:
    results = dict(run_isolated(_work, list(range(10)), time_limit=1))
    assert {i: results[i] for i in (0, 1, 3, 5, 7, 9)} == {i: i * 10 for i in (0, 1, 3, 5, 7, 9)}
    # An exception the function lets through names itself (it once said only
    # "exited with status 0").
    kind, detail = results[2]
    assert kind == CRASH and detail.startswith("exited with status 1")
    assert "ValueError: the harness met something new" in detail
    assert results[4] == (CRASH, "exited with status 3")
    assert results[6] == (CRASH, "killed by signal 9")
    assert results[8][0] == TIMEOUT
