"""A program whose hooks take typed tracepoint contexts
(``syscalls__sys_enter_openat`` from ``pybpfc.tracepoints``) builds,
attaches and records what the same program with ``TracepointContext``
records: examples/opensnoop.py both ways, a forked child opening files,
the child's records compared with each other and with what it did.

Safety: nothing is attached to a cgroup; tracefs is mounted only where it
is missing, for as long as the attach needs it; the files opened are the
test's own.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import Source
from pybpfc.runtime.collection import load
from tests.runtime.conftest import Forked
from tests.support import REPO_ROOT, require_root

pytestmark = pytest.mark.kernel

OPENSNOOP = (REPO_ROOT / "examples" / "opensnoop.py").read_text()


def typed(source: str) -> str:
    """opensnoop with each hook's context annotated with its tracepoint's class."""
    out = source.replace(
        "LICENSE = ", "from pybpfc.tracepoints import syscalls__sys_enter_openat, "
                      "syscalls__sys_exit_openat\n\nLICENSE = ", 1)
    for hook, cls in (("enter_openat", "syscalls__sys_enter_openat"),
                      ("exit_openat", "syscalls__sys_exit_openat")):
        before = f"def {hook}(ctx: TracepointContext)"
        assert before in out
        out = out.replace(before, f"def {hook}(ctx: {cls})")
    return out


def records_of(source: str, tmp_path: Path, paths: list[str]) -> tuple[int, list[tuple[Any, ...]]]:
    """Build and attach the program, let a child open ``paths``, and give
    the child's pid and its records."""
    obj = tmp_path / f"opensnoop-{uuid.uuid4().hex}.o"
    obj.write_bytes(compile_source(Source("opensnoop.py", source)).elf)

    def open_each() -> int:
        opened = 0
        for path in paths:
            try:
                os.close(os.open(path, os.O_RDONLY))
                opened += 1
            except FileNotFoundError:
                pass
        return opened

    with load(obj) as coll, Forked(open_each) as child:
        with coll["enter_openat"].attach(), coll["exit_openat"].attach(), \
                coll.maps["opens"].reader("Open") as opens:  # type: ignore[attr-defined]
            assert child.run() == 1
            records = [r for r in opens.poll(timeout=1.0) if r.pid == child.pid]
    return child.pid, [(r.tid - r.pid, bytes(r.filename).split(b"\0")[0].decode(), r.flags,
                        r.ret) for r in records]


def test_typed_contexts_record_what_tracepoint_context_records(tmp_path: Path) -> None:
    require_root("attaching tracing programs")
    assert "TracepointContext)" not in typed(OPENSNOOP).split("LICENSE", 1)[1]
    existing = tmp_path / "exists"
    existing.write_text("x")
    paths = [str(existing), str(tmp_path / "missing-1"), str(tmp_path / "missing-2")]
    _, generic = records_of(OPENSNOOP, tmp_path, paths)
    _, with_types = records_of(typed(OPENSNOOP), tmp_path, paths)
    expected_flags = os.O_RDONLY | os.O_CLOEXEC
    assert [(tid, name, flags, ret >= 0) for tid, name, flags, ret in with_types] == \
        [(0, path, expected_flags, i == 0) for i, path in enumerate(paths)]
    assert [r[3] for r in with_types][1:] == [-2, -2]           # ENOENT
    # Same records but the descriptor's number, which may differ between runs.
    assert [r[:3] + (r[3] < 0 and r[3],) for r in with_types] == \
        [r[:3] + (r[3] < 0 and r[3],) for r in generic]
