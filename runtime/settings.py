"""``--set NAME=VALUE``: a ``ReadOnly`` global's value, chosen when the
object is loaded (``pybpfc run`` and ``load``).

A ``ReadOnly`` global lives in ``.rodata``, which the kernel freezes once
the object is loaded; the verifier then knows its value, and prunes what it
makes unreachable.  So it is set in the object's spec, before loading.
Integers are written as Python writes them (``10``, ``-1``, ``0x1f``,
``0b101``, ``1_000``), bools as ``true``/``false`` (or 1/0), byte arrays as
text (UTF-8, zero-padded).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from .btf import Kind
from .btf_types import INT_BOOL
from .errors import BpfError

if TYPE_CHECKING:
    from .spec import DataSectionSpec, ObjectSpec


def apply_settings(spec: "ObjectSpec", settings: Iterable[str]) -> list[tuple[str, Any]]:
    """Set each ``NAME=VALUE`` in ``spec``; the (name, value) pairs set.
    A BpfError says which setting is wrong and why."""
    done = []
    for setting in settings:
        name, equals, text = setting.partition("=")
        name = name.strip()
        if not equals or not name:
            raise BpfError(f"--set {setting}: write NAME=VALUE, e.g. --set limit=10")
        section = _readonly_section_of(spec, name, setting)
        value = _parse(section, name, text.strip(), setting)
        try:
            section.set(name, value)
        except BpfError as error:
            raise BpfError(f"--set {setting}: {_reason(error)}") from None
        done.append((name, value))
    return done


def _readonly_section_of(spec: "ObjectSpec", name: str, setting: str) -> "DataSectionSpec":
    readonly = sorted(v for s in spec.data.values() if s.readonly for v in s.variables)
    for section in spec.data.values():
        if name in section.variables:
            if section.readonly:
                return section
            raise BpfError(f"--set {setting}: global '{name}' is not ReadOnly; --set sets "
                           f"only ReadOnly globals (declare it `{name}: ReadOnly[...] = ...`; "
                           f"the program's own globals it may change at any time)")
    known = ", ".join(readonly) if readonly else "none"
    raise BpfError(f"--set {setting}: the program has no ReadOnly global '{name}' "
                   f"(its ReadOnly globals: {known})")


def _parse(section: "DataSectionSpec", name: str, text: str, setting: str) -> Any:
    """The value ``text`` stands for, as the variable's BTF type reads it."""
    var = section.variables[name]
    btf = section.btf
    if not var.type_id or btf is None:
        return _integer(text, setting, name)
    tid = btf.resolve(var.type_id)
    t = btf[tid]
    if t.kind == Kind.INT and t.encoding & INT_BOOL:
        words = {"true": True, "1": True, "false": False, "0": False}
        if text.lower() not in words:
            raise BpfError(f"--set {setting}: '{text}' is not a bool; write true or false")
        return words[text.lower()]
    if t.kind in (Kind.INT, Kind.ENUM, Kind.ENUM64):
        return _integer(text, setting, name)
    if t.kind == Kind.ARRAY and btf.size_of(btf.resolve(t.elem_type)) == 1:
        data = text.encode()
        if len(data) > t.nelems:
            raise BpfError(f"--set {setting}: {len(data)} bytes do not fit in '{name}' "
                           f"({t.nelems} bytes)")
        return data.ljust(t.nelems, b"\0")
    raise BpfError(f"--set {setting}: '{name}' is a {btf.describe(tid)}; --set takes "
                   "integers, bools and byte arrays")


def _integer(text: str, setting: str, name: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise BpfError(f"--set {setting}: '{text}' is not an integer (write 10, -1, 0x1f, "
                       f"...) for '{name}'") from None


def _reason(error: BpfError) -> str:
    """What was wrong with the value, without the section's and BTF's names."""
    text = str(error)
    for prefix in ("BTF: value for ",):
        if prefix in text:
            text = text.split(prefix, 1)[1]
            text = text.split(": ", 1)[1] if ": " in text else text
    return text
