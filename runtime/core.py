"""CO-RE: a program's relocations against kernel types, applied at load.

The kernel applies CO-RE relocations itself (the same algorithm as libbpf's
``relo_core.c``, against vmlinux and module BTF) when ``BPF_PROG_LOAD``
carries them, with the program's BTF and its func or line info; without
func and line info it ignores them silently and loads the program
unrelocated.  So the loader passes the records through (:func:`load_records`)
and refuses a program it cannot pass them with (:func:`check_loadable`).

A relocation with no match in the kernel (a field the kernel's struct does
not have) makes the kernel overwrite its instruction with a call of helper
``abi.kernel.CORE_RELO_POISON_HELPER``: harmless when the program tested the
field's existence first (the verifier drops the dead branch), a load failure
otherwise.  :func:`explain_failure` turns that failure into a message naming
the field, from the object's own BTF.
"""
from __future__ import annotations

import re
import struct
from typing import Optional

from pybpfc.abi import kernel

from .btf import Btf, CoreRelo, Kind
from .errors import BpfError, SyscallError
from .spec import INSN_SIZE, ProgramSpec

FIELD_KINDS = frozenset(range(kernel.BPF_CORE_FIELD_BYTE_OFFSET,
                              kernel.BPF_CORE_FIELD_RSHIFT_U64 + 1))
ENUM_KINDS = frozenset({kernel.BPF_CORE_ENUMVAL_EXISTS, kernel.BPF_CORE_ENUMVAL_VALUE})
_EXISTS_TEST = {"field": "bpf_core_field_exists()", "type": "bpf_core_type_exists()",
                "enum": "bpf_core_enum_value_exists()"}


class CoreError(BpfError):
    """A load that failed over a CO-RE relocation; ``log`` is the verifier's."""

    def __init__(self, message: str, log: str):
        self.log = log
        super().__init__(message)


def kind_name(kind: int) -> str:
    """``field byte offset`` for BPF_CORE_FIELD_BYTE_OFFSET."""
    for name, number in kernel.CORE_RELO_KINDS.items():
        if number == kind:
            return name.removeprefix("BPF_CORE_").replace("_", " ").lower()
    return f"kind {kind}"


def check_loadable(prog: ProgramSpec, has_btf: bool) -> None:
    """Refuse a program whose CO-RE records the kernel would ignore."""
    if not prog.core_relocations:
        return
    if not has_btf or not (prog.func_info or prog.line_info):
        raise BpfError(f"program '{prog.name}': {len(prog.core_relocations)} CO-RE "
                       "relocation(s) but no BTF func or line info to load them with; the "
                       "kernel applies CO-RE relocations only alongside that info (build "
                       "with -g)")
    for relo in prog.core_relocations:
        if not 0 <= relo.insn < prog.insn_count:
            raise BpfError(f"program '{prog.name}': a CO-RE relocation names instruction "
                           f"{relo.insn}, outside the program's {prog.insn_count}")


def load_records(prog: ProgramSpec) -> bytes:
    """The program's CO-RE records as ``BPF_PROG_LOAD`` takes them
    (``struct bpf_core_relo``, the instruction offset in bytes)."""
    return b"".join(struct.pack("<IIII", r.insn * INSN_SIZE, r.type_id, r.access_str_off,
                                r.kind) for r in prog.core_relocations)


# ------------------------------------------------------------- describing


def _type_name(btf: Btf, type_id: int) -> str:
    t = btf[type_id]
    prefix = {Kind.STRUCT: "struct ", Kind.UNION: "union ", Kind.ENUM: "enum ",
              Kind.ENUM64: "enum ", Kind.FWD: "struct "}.get(t.kind, "")
    return prefix + (t.name or "(anonymous)")


def _group(kind: int) -> str:
    if kind in FIELD_KINDS:
        return "field"
    return "enum" if kind in ENUM_KINDS else "type"


def describe(btf: Btf, relo: CoreRelo) -> str:
    """What a relocation is about, spelt as in C from the object's own BTF:
    ``struct task_struct.real_parent``, ``enum bpf_map_type::BPF_MAP_TYPE_ARENA``,
    ``struct task_struct``."""
    try:
        name = _type_name(btf, relo.type_id)
        if relo.kind in ENUM_KINDS:
            enum = btf[btf.resolve(relo.type_id)]
            return f"{name}::{enum.values[int(relo.access_str)].name}"
        if relo.kind not in FIELD_KINDS:
            return name
        first, *steps = (int(part) for part in relo.access_str.split(":"))
        text = name + (f"[{first}]" if first else "")
        type_id = relo.type_id
        for step in steps:
            t = btf[btf.resolve(type_id)]
            if t.kind in (Kind.STRUCT, Kind.UNION):
                member = t.members[step]
                text += "." + (member.name or f"(anonymous #{step})")
                type_id = member.type
            elif t.kind == Kind.ARRAY:
                text += f"[{step}]"
                type_id = t.elem_type
            else:
                raise ValueError(f"step {step} into {t.kind.name}")
        return text
    except (BpfError, ValueError, IndexError):
        return f"type #{relo.type_id} access '{relo.access_str}'"


_POISONED = re.compile(rf"^(\d+): \(85\) call unknown#{kernel.CORE_RELO_POISON_HELPER}$")
_RELO = re.compile(r"relo #(\d+)")
_PROCESSED = re.compile(r"^processed (\d+) insns")


def explain_failure(btf: Optional[Btf], prog: ProgramSpec, error: SyscallError
                    ) -> Optional[str]:
    """A message naming the CO-RE relocation a failed load is about, or None
    when the failure is something else."""
    if btf is None or not prog.core_relocations:
        return None
    log = error.log.splitlines()
    by_insn = {r.insn: r for r in prog.core_relocations}
    if any(f"invalid func unknown#{kernel.CORE_RELO_POISON_HELPER}" in line for line in log):
        for line in reversed(log):
            m = _POISONED.match(line.strip())
            if m and int(m.group(1)) in by_insn:
                relo = by_insn[int(m.group(1))]
                group = _group(relo.kind)
                return (f"program '{prog.name}': CO-RE: {group} {describe(btf, relo)} is not "
                        f"in this kernel ({kind_name(relo.kind)} relocation at instruction "
                        f"{relo.insn}); test it with {_EXISTS_TEST[group]} before using it")
    # The kernel logs its successful relocations too: once it has walked
    # instructions, the relocations went through and the refusal is the
    # verifier's own.
    if any(int(m.group(1)) > 0 for m in map(_PROCESSED.match, log) if m):
        return None
    for line in reversed(log):
        m = _RELO.search(line)
        if m and int(m.group(1)) < len(prog.core_relocations):
            relo = prog.core_relocations[int(m.group(1))]
            return (f"program '{prog.name}': CO-RE: the kernel could not relocate "
                    f"{describe(btf, relo)} ({kind_name(relo.kind)} at instruction "
                    f"{relo.insn}): {line.strip()}")
    return None
