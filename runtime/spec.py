"""What a BPF object file holds, as plain data: no file descriptors, no
syscalls.  ``elf.read_object`` builds an ``ObjectSpec``; a loader turns it
into kernel objects.  Specs may be copied and edited before loading, e.g.
``spec.data['.bss'].set('page_size', 4096)``.
"""
from __future__ import annotations

import copy
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

from pybpfc.abi.kernel import INSN_SIZE as INSN_SIZE    # re-exported for the loader
from pybpfc.abi.kernel import (BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD,
                               BPF_PSEUDO_MAP_VALUE)

from .errors import BpfError

if TYPE_CHECKING:
    from .btf import Btf, CoreRelo, FuncInfo, LineInfo


class SpecError(BpfError):
    """A malformed or unsupported object.  The message starts with what it is
    about: ``section 'x': …``, ``program 'y': …``, ``map 'z': …``, ``BTF: …``."""


# Instruction fields pybpfc's loader and tests look at.
OP_LD_IMM64 = 0x18       # BPF_LD | BPF_IMM | BPF_DW, two slots
OP_CALL = 0x85           # BPF_JMP | BPF_CALL
# src_reg of ld_imm64: PSEUDO_MAP_FD, imm is a map fd; PSEUDO_MAP_VALUE, imm is a
# map fd and the next imm an offset in its value; PSEUDO_FUNC, the address of a
# subprogram (callbacks).  src_reg of call: PSEUDO_CALL, a bpf-to-bpf call,
# imm = relative target.
PSEUDO_MAP_FD = BPF_PSEUDO_MAP_FD
PSEUDO_MAP_VALUE = BPF_PSEUDO_MAP_VALUE
PSEUDO_CALL = BPF_PSEUDO_CALL
PSEUDO_FUNC = BPF_PSEUDO_FUNC


class Insn(NamedTuple):
    code: int
    dst: int
    src: int
    off: int
    imm: int


def decode_insn(raw: bytes | bytearray, index: int) -> Insn:
    code, regs, off, imm = struct.unpack_from("<BBhi", raw, index * INSN_SIZE)
    return Insn(code, regs & 0xF, regs >> 4, off, imm)


@dataclass
class Relocation:
    """A reference the loader must resolve in a program's instructions.

    - ``map``: ld_imm64 of a map (``target`` = map name); the loader puts the
      map fd in imm with BPF_PSEUDO_MAP_FD.
    - ``data``: ld_imm64 of an address inside a global data section
      (``target`` = '.bss', '.data', '.rodata', ...; ``offset`` = the byte
      offset inside it, already including any addend); the loader sets
      imm = fd, src = BPF_PSEUDO_MAP_VALUE and the second slot's imm = offset.
    - ``call``: a bpf-to-bpf call (or a subprogram address) already linked:
      ``target`` names the callee, ``offset`` is its instruction index in
      this program.  Nothing is left to do; it is recorded for inspection.
    """
    insn_index: int
    kind: str
    target: str
    offset: int = 0


@dataclass
class ProgramSpec:
    """One program, with the ``.text`` subprograms it calls appended (as
    libbpf does), so ``instructions`` is exactly what the kernel gets once
    map and data relocations are filled in."""
    name: str
    section: str
    prog_type: int
    expected_attach_type: Optional[int]
    instructions: bytes
    relocations: list[Relocation] = field(default_factory=list)
    func_info: list[FuncInfo] = field(default_factory=list)
    line_info: list[LineInfo] = field(default_factory=list)
    license: str = ""
    hook: Optional[str] = None             # pybpfc's decorator name for the section's hook
    subprograms: list[str] = field(default_factory=list)    # appended functions, in order
    core_relocations: list[CoreRelo] = field(default_factory=list)

    @property
    def insn_count(self) -> int:
        return len(self.instructions) // INSN_SIZE

    def insn(self, index: int) -> Insn:
        return decode_insn(self.instructions, index)


@dataclass
class MapSpec:
    """A BTF-defined map from ``.maps``.  ``key_type_id``/``value_type_id``
    are 0 when the definition gave only sizes."""
    name: str
    map_type: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int = 0
    key_type_id: int = 0
    value_type_id: int = 0
    btf_name: str = ""
    pinning: int = 0
    numa_node: int = 0
    map_extra: int = 0


@dataclass
class Variable:
    """A global inside a data section; ``type_id`` is its value's BTF type
    (0 when the object has no BTF for it)."""
    name: str
    offset: int
    size: int
    type_id: int = 0


@dataclass
class DataSectionSpec:
    """A global data section; at load time it becomes a one-element array
    map whose value is ``contents``."""
    name: str
    size: int
    contents: bytes
    readonly: bool
    variables: dict[str, Variable] = field(default_factory=dict)
    btf_datasec_id: Optional[int] = None
    btf: Optional[Btf] = field(default=None, repr=False, compare=False)

    def variable(self, name: str) -> Variable:
        try:
            return self.variables[name]
        except KeyError:
            known = ", ".join(sorted(self.variables)) or "none"
            raise SpecError(f"section '{self.name}': no variable '{name}' "
                            f"(it has: {known})") from None

    def get(self, name: str) -> Any:
        """The variable's current initial value, decoded through BTF (raw
        bytes when it has no BTF type)."""
        var = self.variable(name)
        raw = self.contents[var.offset:var.offset + var.size]
        if not var.type_id or self.btf is None:
            return raw
        try:
            return self.btf.decode(var.type_id, raw)
        except SpecError as err:
            raise SpecError(f"section '{self.name}': variable '{name}': {err}") from None

    def set(self, name: str, value: Any) -> None:
        """Set a variable's initial value; ints, lists, dicts and bytes are
        encoded through the variable's BTF type (bytes are taken as-is)."""
        var = self.variable(name)
        try:
            if isinstance(value, (bytes, bytearray)) and len(value) == var.size:
                raw = bytes(value)
            elif var.type_id and self.btf is not None:
                raw = self.btf.encode_value(var.type_id, value)
            elif isinstance(value, int) and not isinstance(value, bool):
                raw = value.to_bytes(var.size, "little", signed=value < 0)
            else:
                raise SpecError(f"needs {var.size} bytes (it has no BTF type), "
                                f"got {value!r}")
        except OverflowError:
            raise SpecError(f"section '{self.name}': variable '{name}': {value} does not fit "
                            f"in {var.size} bytes") from None
        except SpecError as err:
            raise SpecError(f"section '{self.name}': variable '{name}': {err}") from None
        self.contents = (self.contents[:var.offset] + raw
                         + self.contents[var.offset + var.size:])


@dataclass
class ObjectSpec:
    path: str
    programs: dict[str, ProgramSpec]
    maps: dict[str, MapSpec]
    data: dict[str, DataSectionSpec]
    license: str
    btf: Optional[Btf]

    def copy(self) -> ObjectSpec:
        """A deep copy, editable without touching this one."""
        return copy.deepcopy(self)

    def section_of(self, variable: str) -> DataSectionSpec:
        """The data section that holds the global ``variable``."""
        for section in self.data.values():
            if variable in section.variables:
                return section
        raise SpecError(f"variable '{variable}': no data section holds it")

    def get_global(self, name: str) -> Any:
        return self.section_of(name).get(name)

    def set_global(self, name: str, value: Any) -> None:
        self.section_of(name).set(name, value)
