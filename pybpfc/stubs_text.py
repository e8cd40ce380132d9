"""A stub class's text, shared by ``vmlinux.pyi`` and ``tracepoints.pyi``.

In a class body a field's name hides a type of the same name from the
annotations of that class (``struct task_struct`` has a field ``pid`` and
one of type ``struct pid``; mypy then refuses ``thread_pid: pid``).  Such an
annotation names the type through a module-level alias, ``_T_pid = pid``,
which no kernel field is called.
"""
from __future__ import annotations

import keyword
import re
from typing import Iterable

ALIAS_PREFIX = "_T_"
_WORD = re.compile(r"[A-Za-z_]\w*")


def class_text(name: str, doc: str, fields: Iterable[tuple[str, str]],
               aliases: set[str], methods: tuple[str, ...] = ()) -> str:
    """``class name:`` with its docstring, ``field: annotation`` lines (a
    field named twice, or named as a Python keyword, is left out) and
    ``methods``' lines; the type names it needed aliases for are added to
    ``aliases``."""
    kept: dict[str, str] = {}
    for field, annotation in fields:
        if field not in kept and not keyword.iskeyword(field):
            kept[field] = annotation
    lines = [f"class {name}:", f'    """{doc}"""']
    for field, annotation in kept.items():
        hidden = {word for word in _WORD.findall(annotation) if word in kept}
        if hidden:
            aliases.update(hidden)
            annotation = _WORD.sub(lambda m: ALIAS_PREFIX + m[0] if m[0] in hidden else m[0],
                                   annotation)
        lines.append(f"    {field}: {annotation}")
    lines += [f"    {method}" for method in methods]
    return "\n".join(lines) + "\n"


def alias_text(aliases: set[str]) -> str:
    """The module-level aliases class_text asked for."""
    return "".join(f"{ALIAS_PREFIX}{name} = {name}\n" for name in sorted(aliases))
