"""Typed tracepoint contexts: ``from pybpfc.tracepoints import
syscalls__sys_enter_openat`` names the context of tracepoint
``syscalls/sys_enter_openat`` (CATEGORY, two underscores, NAME), for
``def enter(ctx: syscalls__sys_enter_openat)`` under
``@tracepoint("syscalls", "sys_enter_openat")``.

Any such name imports (PEP 562 ``__getattr__``), so a program stays
importable Python on any machine; the compiler reads the fields from the
kernel's format file, as for ``TracepointContext``.  ``pybpfc stubs``
writes ``tracepoints.pyi`` beside this module, a class per tracepoint of
the running kernel with its fields, so that type checkers know them.
"""
from __future__ import annotations

import re
from typing import Any, Optional

from .lang import TracepointContext

# Categories hold no double underscore (none does in tracefs), so the first
# one separates the category from the event's name.
SEPARATOR = "__"
_PART = re.compile(r"[A-Za-z0-9_]+")
_made: dict[str, type] = {}


def class_name(category: str, name: str) -> str:
    """The class of tracepoint ``category/name``: ``syscalls__sys_enter_openat``."""
    return f"{category}{SEPARATOR}{name}"


def tracepoint_of(class_name: str) -> Optional[tuple[str, str]]:
    """``("syscalls", "sys_enter_openat")`` of ``"syscalls__sys_enter_openat"``;
    None for a name that does not name a tracepoint this way."""
    category, sep, name = class_name.partition(SEPARATOR)
    if not sep or not _PART.fullmatch(category) or not _PART.fullmatch(name) \
            or category.startswith("_") or category.endswith("_"):
        return None
    return category, name


def __getattr__(attr: str) -> Any:
    found = tracepoint_of(attr)
    if found is None:
        raise AttributeError(f"module 'pybpfc.tracepoints' has no attribute '{attr}' "
                             "(a tracepoint's context is named CATEGORY__NAME, e.g. "
                             "syscalls__sys_enter_openat)")
    made = _made.get(attr)
    if made is None:
        made = type(attr, (TracepointContext,), {
            "__doc__": f"The event of tracepoint {found[0]}/{found[1]}.",
            "__module__": __name__, "category": found[0], "event": found[1]})
        _made[attr] = made
    return made
