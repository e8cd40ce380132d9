"""``tracepoints.pyi``: a class per tracepoint of the running kernel, with
the fields a program may read, for type checkers and editors
(``pybpfc stubs``; the module is :mod:`pybpfc.tracepoints`).

The fields are those the compiler gives the program (the same format files,
read by :mod:`pybpfc.compiler.tracepoint_format`): integers of their size
and sign, pointers and ``__data_loc`` members as the u64 address they hold,
arrays as lists read with constant indexes.  The ``common_*`` fields are
left out: the verifier refuses them.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Optional

from pybpfc import abi
from pybpfc.compiler.tracepoint_format import (DATA_LOC, FIRST_READABLE_OFFSET,
                                               TracepointUnknown, parse_format, readable_tracefs)
from pybpfc.stubs_text import alias_text, class_text
from pybpfc.tracepoints import class_name, tracepoint_of

INT_TYPES = ("i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64")


class StubError(Exception):
    """What the user asked for cannot be written; the message says why."""


def field_annotation(field: abi.Field) -> str:
    if field.kind == DATA_LOC:
        return "u64"
    return f"list[{field.kind}]" if field.count > 1 else field.kind


def tracepoint_class(category: str, name: str, context: abi.Context,
                     aliases: set[str]) -> str:
    return class_text(class_name(category, name), f"tracepoint {category}/{name}",
                      ((f.name, field_annotation(f)) for f in context.fields
                       if f.offset >= FIRST_READABLE_OFFSET), aliases)


def stub_text(contexts: Iterable[tuple[str, str, abi.Context]], release: str) -> str:
    aliases: set[str] = set()
    parts = [f'"""Tracepoint contexts of Linux {release}, from its tracefs format files: '
             'written by `pybpfc stubs`."""\n'
             f"from pybpfc import {', '.join(INT_TYPES)}\n"]
    parts += [tracepoint_class(*found, aliases) for found in contexts]
    return "\n\n".join(parts + [alias_text(aliases)])


def selected_tracepoints(root: Path, wanted: Optional[list[str]]) -> list[tuple[str, str]]:
    """Every tracepoint under ``root/events`` (whose names make Python
    names), or the ones ``wanted`` names (CATEGORY/NAME or CATEGORY__NAME)."""
    if wanted is not None:
        return [_one(root, text) for text in wanted]
    found = []
    for category in sorted(os.listdir(root / "events")):
        folder = root / "events" / category
        if not folder.is_dir():
            continue
        for name in sorted(os.listdir(folder)):
            if (folder / name / "format").is_file() and \
                    tracepoint_of(class_name(category, name)) == (category, name):
                found.append((category, name))
    return found


def _one(root: Path, text: str) -> tuple[str, str]:
    category, sep, name = text.partition("/")
    pair = (category, name) if sep else tracepoint_of(text)
    if pair is None or tracepoint_of(class_name(*pair)) != pair:
        raise StubError(f"'{text}' does not name a tracepoint: write CATEGORY/NAME "
                        "(syscalls/sys_enter_openat) or CATEGORY__NAME")
    if not (root / "events" / pair[0] / pair[1] / "format").is_file():
        raise StubError(f"this kernel has no tracepoint {pair[0]}/{pair[1]} "
                        f"(see {root}/events)")
    return pair


def tracepoints_stub(wanted: Optional[list[str]] = None) -> tuple[str, int]:
    """The stub's text and how many classes it holds."""
    try:
        with readable_tracefs() as root:
            pairs = selected_tracepoints(root, wanted)
            contexts = [(c, n, parse_format((root / "events" / c / n / "format").read_text(),
                                            c, n)) for c, n in pairs]
    except TracepointUnknown as err:
        raise StubError(str(err)) from None
    return stub_text(contexts, os.uname().release), len(contexts)
