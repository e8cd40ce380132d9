"""Tracepoint contexts derived from the kernel's BTF (tracepoint_btf), the
compiler's fallback when tracefs cannot be read: identical to the format
files wherever the fallback gives one, a refusal where it cannot know."""
from __future__ import annotations

import functools
from typing import Any

import pytest

from pybpfc import abi
from pybpfc.compiler import tracepoint_format
from pybpfc.compiler.tracepoint_btf import SYSCALL_DEFINITIONS, btf_context, tracepoint_context
from pybpfc.compiler.tracepoint_format import (DATA_LOC, TracefsUnreadable, TracepointUnknown,
                                               parse_format)
from pybpfc.runtime.btf_types import Kind
from pybpfc.runtime.kernel_btf import vmlinux_btf
from pybpfc.runtime.tracepoint_events import mounted_tracefs
from tests.support import require_root


def comparable(ctx: abi.Context) -> tuple[Any, ...]:
    """All of a context but the descriptions of non-pointer fields (BTF
    spells ``unsigned long`` as ``long unsigned int``)."""
    return ctx._replace(fields=tuple(f._replace(doc=f.doc if f.doc == "an address" else "")
                                     for f in ctx.fields))


@functools.cache
def named(kind: Kind) -> frozenset[str]:
    """The names of the kernel's BTF types of a kind (one pass, not a
    search per tracepoint)."""
    return frozenset(t.name for t in vmlinux_btf().types if t.kind == kind)


def defined_syscall(name: str) -> bool:
    return any(p + name in named(Kind.FUNC) for p in SYSCALL_DEFINITIONS)


def has_class_of_its_name(name: str) -> bool:
    return f"trace_event_raw_{name}" in named(Kind.STRUCT)


def formats() -> list[tuple[str, str, str]]:
    """Every tracepoint's (category, name, format text), read as root."""
    out = []
    with mounted_tracefs() as root:
        for category in sorted(p for p in (root / "events").iterdir() if p.is_dir()):
            for event in sorted(p for p in category.iterdir() if (p / "format").is_file()):
                out.append((category.name, event.name, (event / "format").read_text()))
    return out


def test_every_tracepoint_btf_knows_is_laid_out_as_its_format_says() -> None:
    require_root("reading every tracepoint's format")
    derived = refused = 0
    for category, name, text in formats():
        want = parse_format(text, category, name)
        if category == "syscalls":
            knowable = defined_syscall(name.removeprefix("sys_enter_").removeprefix("sys_exit_"))
        else:
            knowable = has_class_of_its_name(name)
        if not knowable:
            with pytest.raises(TracepointUnknown):
                btf_context(category, name)
            refused += 1
            continue
        assert comparable(btf_context(category, name)) == comparable(want), \
            f"{category}/{name}"
        derived += 1
    # every syscall exit and every event class has a format; BTF knows many
    assert derived > 100 and refused > 0, (derived, refused)


def test_the_exec_tracepoint_from_btf() -> None:
    ctx = btf_context("sched", "sched_process_exec")
    layout = [(f.name, f.offset, f.kind, f.size) for f in ctx.fields]
    assert layout[4:] == [("filename", 8, DATA_LOC, 4), ("pid", 12, "i32", 4),
                          ("old_pid", 16, "i32", 4)]
    assert layout[:4] == [("common_type", 0, "u16", 2), ("common_flags", 2, "u8", 1),
                          ("common_preempt_count", 3, "u8", 1), ("common_pid", 4, "i32", 4)]
    assert ctx.size == 24 and ctx.narrow_reads


def test_a_syscall_exit_from_btf() -> None:
    name = next(n for n in ("getpid", "brk", "mmap", "umask") if defined_syscall(n))
    ctx = btf_context("syscalls", f"sys_exit_{name}")
    assert [(f.name, f.offset, f.kind, f.size) for f in ctx.fields][4:] == \
        [("__syscall_nr", 8, "i32", 4), ("ret", 16, "i64", 8)]
    assert ctx.size == 24


@pytest.mark.parametrize("category,name", [
    ("syscalls", "sys_enter_nothing"), ("syscalls", "sys_exit_nothing"),
    ("syscalls", "getpid"), ("sched", "no_such_event"),
    # a syscall whose definition BTF lacks: its arguments have no names
    ("syscalls", "sys_enter_" + next(n for n in ("openat", "read", "write", "close")
                                     if not defined_syscall(n))),
])
def test_what_btf_cannot_tell_is_refused(category: str, name: str) -> None:
    with pytest.raises(TracepointUnknown):
        btf_context(category, name)


def unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> Any:
        raise TracefsUnreadable("tracefs at /x is readable only by root, so the "
                                "tracepoint's fields cannot be read: compile as root")
    monkeypatch.setattr(tracepoint_format, "readable_tracefs", refuse)


def test_the_compiler_falls_back_to_btf_when_tracefs_is_unreadable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    unreadable(monkeypatch)
    assert tracepoint_context("sched", "sched_process_exec") == \
        btf_context("sched", "sched_process_exec")


def test_when_btf_cannot_tell_either_the_tracefs_reason_is_given(
        monkeypatch: pytest.MonkeyPatch) -> None:
    unreadable(monkeypatch)
    with pytest.raises(TracepointUnknown) as err:
        tracepoint_context("syscalls", "sys_enter_nothing")
    assert "is readable only by root, so the tracepoint's fields cannot be read" \
        in str(err.value)
    assert "BTF" not in str(err.value)
