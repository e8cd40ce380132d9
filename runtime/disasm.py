"""A BPF instruction disassembler, and ``objdump``: a program's instructions
interleaved with the source lines (Python or C) its line info points at.

The syntax follows the kernel verifier's and bpftool's, e.g.::

    r1 = *(u32 *)(r6 +24)
    w0 = 1
    if w2 s> 0x1000 goto +3 <7>
    r1 = map[counts] ll
    call bpf_map_lookup_elem#1
    lock *(u64 *)(r1 +0) += r2

``<N>`` after a jump is the index of the instruction it lands on.  Every
opcode of the eBPF instruction set is decoded, cpu v4 ones included
(sign-extending moves and loads, signed division, unconditional byte swaps,
``gotol``) and the later load-acquire / store-release and ``may_goto``; an
instruction that is not one prints as ``.insn 0x<its 8 bytes>`` instead of
raising.

Pure data in, text out: no syscalls, and no compiler import.
"""
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Iterable, Mapping, Optional

from pybpfc import abi
from pybpfc.abi.kernel import (BPF_PSEUDO_BTF_ID, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC,
                               BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX,
                               BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE)

from .spec import INSN_SIZE, OP_CALL, Insn, Relocation, decode_insn

if TYPE_CHECKING:
    from .spec import DataSectionSpec, ObjectSpec, ProgramSpec

__all__ = ["disassemble", "format_insn", "describe_relocation", "objdump",
           "parse_helper_names", "HELPER_NAMES", "prog_type_name"]

# ------------------------------------------------------------ ISA constants

# Instruction classes (the low 3 bits of the opcode).
LD, LDX, ST, STX, ALU, JMP, JMP32, ALU64 = range(8)

# Source bit of ALU and JMP opcodes.
SRC_K, SRC_X = 0x00, 0x08

# Size and mode of load and store opcodes.
SIZE_W, SIZE_H, SIZE_B, SIZE_DW = 0x00, 0x08, 0x10, 0x18
MODE_IMM, MODE_ABS, MODE_IND, MODE_MEM, MODE_MEMSX, MODE_ATOMIC = 0x00, 0x20, 0x40, 0x60, 0x80, 0xC0

_UNSIGNED = {SIZE_W: "u32", SIZE_H: "u16", SIZE_B: "u8", SIZE_DW: "u64"}
_SIGNED = {SIZE_W: "s32", SIZE_H: "s16", SIZE_B: "s8"}

# ALU operations (the high 4 bits), as compound assignments.
ALU_ADD, ALU_SUB, ALU_MUL, ALU_DIV, ALU_OR, ALU_AND, ALU_LSH, ALU_RSH = range(0x00, 0x80, 0x10)
ALU_NEG, ALU_MOD, ALU_XOR, ALU_MOV, ALU_ARSH, ALU_END = range(0x80, 0xE0, 0x10)
_ALU_ASSIGN = {ALU_ADD: "+=", ALU_SUB: "-=", ALU_MUL: "*=", ALU_DIV: "/=", ALU_OR: "|=",
               ALU_AND: "&=", ALU_LSH: "<<=", ALU_RSH: ">>=", ALU_MOD: "%=", ALU_XOR: "^=",
               ALU_ARSH: "s>>="}

# Jump operations.
JMP_JA, JMP_CALL, JMP_EXIT, JMP_JCOND = 0x00, 0x80, 0x90, 0xE0
_JMP_COND = {0x10: "==", 0x20: ">", 0x30: ">=", 0x40: "&", 0x50: "!=", 0x60: "s>",
             0x70: "s>=", 0xA0: "<", 0xB0: "<=", 0xC0: "s<", 0xD0: "s<="}

# Atomic operations (imm of STX | ATOMIC).
FETCH = abi.kernel.BPF_FETCH
ATOMIC_XCHG, ATOMIC_CMPXCHG = abi.kernel.BPF_XCHG, abi.kernel.BPF_CMPXCHG
LOAD_ACQ, STORE_REL = 0x100, 0x110
_ATOMIC_RMW = {0x00: ("+=", "add"), 0x40: ("|=", "or"), 0x50: ("&=", "and"),
               0xA0: ("^=", "xor")}

# off of a 64-bit register move that casts between address spaces (arena).
ADDR_SPACE_CAST = 1

# ------------------------------------------------------------ helper names

BPF_HEADER = "/usr/include/linux/bpf.h"

_MAPPER_DEFINE = re.compile(r"^#define\s+_+BPF_FUNC_MAPPER\s*\([^)]*\)", re.MULTILINE)
_MAPPER_ENTRY = re.compile(r"\bFN\(\s*(\w+)\s*(?:,\s*(\d+))?")


def parse_helper_names(header_text: str) -> dict[int, str]:
    """Helper id -> ``bpf_<name>``, from ``linux/bpf.h``'s ``__BPF_FUNC_MAPPER``
    (the old ``FN(name)`` form, numbered in order, or the newer
    ``FN(name, id, ##ctx)`` one).  Empty when the header has neither."""
    best: dict[int, str] = {}
    for define in _MAPPER_DEFINE.finditer(header_text):
        body = []
        for line in header_text[define.end():].split("\n"):
            body.append(line)
            if not line.rstrip().endswith("\\"):
                break
        names: dict[int, str] = {}
        for position, entry in enumerate(_MAPPER_ENTRY.finditer("\n".join(body))):
            func_id = int(entry.group(2)) if entry.group(2) else position
            if entry.group(1) != "unspec":
                names[func_id] = "bpf_" + entry.group(1)
        if len(names) > len(best):
            best = names
    return best


def _load_helper_names(path: str = BPF_HEADER) -> dict[int, str]:
    names = {h.func_id: "bpf_" + h.name for h in abi.HELPERS.values()}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            names.update(parse_helper_names(f.read()))
    except OSError:
        pass
    return names


HELPER_NAMES: dict[int, str] = _load_helper_names()

# ------------------------------------------------------------- formatting


class _Undecodable(Exception):
    """Not an instruction of the ISA; printed as ``.insn``."""


def _reg(number: int, wide: bool = True) -> str:
    return f"{'r' if wide else 'w'}{number}"


def _mem(size: str, base: int, off: int) -> str:
    return f"*({size} *)(r{base} {off:+d})"


def _target(index: int, delta: int) -> str:
    return f"{delta:+d} <{index + delta + 1}>"


def _jump_imm(imm: int, is32: bool, signed: bool) -> str:
    """A compared constant in hex: signed for signed compares and for
    64-bit ones (the immediate is sign-extended there), unsigned 32-bit for
    unsigned 32-bit compares."""
    if is32 and not signed:
        return f"{imm & 0xFFFFFFFF:#x}"
    return f"-{-imm:#x}" if imm < 0 else f"{imm:#x}"


def _raw(raw: bytes) -> str:
    return f".insn 0x{raw.hex()}"


def _alu(insn: Insn, wide: bool) -> str:
    op = insn.code & 0xF0
    x = insn.code & SRC_X
    dst = _reg(insn.dst, wide)
    src = _reg(insn.src, wide) if x else str(insn.imm)
    if op == ALU_NEG:
        if x:
            raise _Undecodable
        return f"{dst} = -{dst}"
    if op == ALU_END:
        if insn.imm not in (16, 32, 64):
            raise _Undecodable
        if wide:                     # ALU64: unconditional byte swap (cpu v4)
            if x:
                raise _Undecodable
            name = "bswap"
        else:
            name = "be" if x else "le"
        return f"{_reg(insn.dst)} = {name}{insn.imm} {_reg(insn.dst)}"
    if op == ALU_MOV:
        if insn.off == 0:
            return f"{dst} = {src}"
        if not x:
            raise _Undecodable
        if wide and insn.off == ADDR_SPACE_CAST:
            return (f"{dst} = addr_space_cast({_reg(insn.src)}, {insn.imm >> 16 & 0xFFFF}, "
                    f"{insn.imm & 0xFFFF})")
        if insn.off in ((8, 16, 32) if wide else (8, 16)):     # sign-extending move (cpu v4)
            return f"{dst} = (s{insn.off}){src}"
        raise _Undecodable
    if op in (ALU_DIV, ALU_MOD):
        if insn.off not in (0, 1):
            raise _Undecodable
        sign = "s" if insn.off == 1 else ""                    # signed division (cpu v4)
        return f"{dst} {sign}{_ALU_ASSIGN[op]} {src}"
    if op not in _ALU_ASSIGN:
        raise _Undecodable
    return f"{dst} {_ALU_ASSIGN[op]} {src}"


def _jmp(insn: Insn, index: int, is32: bool) -> str:
    op = insn.code & 0xF0
    x = insn.code & SRC_X
    if op == JMP_JA:
        if x:
            raise _Undecodable
        if is32:                     # gotol: the offset is in imm (cpu v4)
            return f"gotol {_target(index, insn.imm)}"
        return f"goto {_target(index, insn.off)}"
    if op in _JMP_COND:
        cond = _JMP_COND[op]
        left = _reg(insn.dst, not is32)
        right = (_reg(insn.src, not is32) if x
                 else _jump_imm(insn.imm, is32, cond.startswith("s")))
        return f"if {left} {cond} {right} goto {_target(index, insn.off)}"
    if is32 or x:
        raise _Undecodable
    if op == JMP_CALL:
        if insn.src == 0:
            name = HELPER_NAMES.get(insn.imm)
            return f"call {name}#{insn.imm}" if name else f"call {insn.imm}"
        if insn.src == BPF_PSEUDO_CALL:
            return f"call pc{_target(index, insn.imm)}"
        if insn.src == BPF_PSEUDO_KFUNC_CALL:
            return f"call kfunc#{insn.imm}" + (f" (btf fd index {insn.off})" if insn.off else "")
        raise _Undecodable
    if op == JMP_EXIT:
        return "exit"
    if op == JMP_JCOND and insn.src == 0:
        return f"may_goto {_target(index, insn.off)}"
    raise _Undecodable


def _atomic(insn: Insn) -> str:
    size_bits = insn.code & 0x18
    size = _UNSIGNED[size_bits]
    addr = f"({size} *)(r{insn.dst} {insn.off:+d})"
    if insn.imm == LOAD_ACQ:
        return f"{_reg(insn.src)} = load_acquire({addr})"
    if insn.imm == STORE_REL:
        return f"store_release({addr}, {_reg(insn.src)})"
    if size_bits not in (SIZE_W, SIZE_DW):
        raise _Undecodable
    wide = size_bits == SIZE_DW
    suffix = "64" if wide else ""
    src = _reg(insn.src, wide)
    if insn.imm == ATOMIC_XCHG:
        return f"{src} = atomic{suffix}_xchg({addr}, {src})"
    if insn.imm == ATOMIC_CMPXCHG:
        r0 = _reg(0, wide)
        return f"{r0} = atomic{suffix}_cmpxchg({addr}, {r0}, {src})"
    rmw = _ATOMIC_RMW.get(insn.imm & ~FETCH)
    if rmw is None:
        raise _Undecodable
    if insn.imm & FETCH:
        return f"{src} = atomic{suffix}_fetch_{rmw[1]}({addr}, {src})"
    return f"lock {_mem(size, insn.dst, insn.off)} {rmw[0]} {src}"


def _ld_imm64(insn: Insn, second: Insn, index: int) -> str:
    dst = _reg(insn.dst)
    if insn.src == 0:
        value = (second.imm & 0xFFFFFFFF) << 32 | (insn.imm & 0xFFFFFFFF)
        return f"{dst} = {value:#x} ll"
    if insn.src == BPF_PSEUDO_MAP_FD:
        return f"{dst} = map[fd:{insn.imm}] ll"
    if insn.src == BPF_PSEUDO_MAP_VALUE:
        return f"{dst} = map[fd:{insn.imm}]+{second.imm & 0xFFFFFFFF} ll"
    if insn.src == BPF_PSEUDO_MAP_IDX:
        return f"{dst} = map[idx:{insn.imm}] ll"
    if insn.src == BPF_PSEUDO_MAP_IDX_VALUE:
        return f"{dst} = map[idx:{insn.imm}]+{second.imm & 0xFFFFFFFF} ll"
    if insn.src == BPF_PSEUDO_BTF_ID:
        return f"{dst} = btf_id[{insn.imm}] ll"
    if insn.src == BPF_PSEUDO_FUNC:
        return f"{dst} = func[pc{_target(index, insn.imm)}] ll"
    raise _Undecodable


def _load_store(insn: Insn) -> str:
    cls = insn.code & 0x07
    mode = insn.code & 0xE0
    size_bits = insn.code & 0x18
    size = _UNSIGNED[size_bits]
    if cls == LD:
        if mode in (MODE_ABS, MODE_IND) and size_bits != SIZE_DW:   # legacy packet access
            if mode == MODE_ABS:
                where = str(insn.imm)
            else:
                where = f"r{insn.src}" + (f" {insn.imm:+d}" if insn.imm else "")
            return f"r0 = *({size} *)skb[{where}]"
        raise _Undecodable
    if cls == LDX:
        if mode == MODE_MEM:
            return f"{_reg(insn.dst)} = {_mem(size, insn.src, insn.off)}"
        if mode == MODE_MEMSX and size_bits != SIZE_DW:            # cpu v4
            return f"{_reg(insn.dst)} = {_mem(_SIGNED[size_bits], insn.src, insn.off)}"
        raise _Undecodable
    if cls == ST:
        if mode == MODE_MEM:
            return f"{_mem(size, insn.dst, insn.off)} = {insn.imm}"
        raise _Undecodable
    # STX
    if mode == MODE_MEM:
        return f"{_mem(size, insn.dst, insn.off)} = {_reg(insn.src)}"
    if mode == MODE_ATOMIC:
        return _atomic(insn)
    raise _Undecodable


def format_insn(insn: Insn, index: int = 0, second: Optional[Insn] = None) -> Optional[str]:
    """One instruction's text, or None when it is not an instruction of the
    ISA.  ``index`` is its position (jump targets are shown relative to it);
    ``second`` is the next slot, which an ld_imm64 needs."""
    cls = insn.code & 0x07
    try:
        if insn.code == 0x18:        # LD | IMM | DW
            if second is None:
                return None
            return _ld_imm64(insn, second, index)
        if cls in (ALU, ALU64):
            return _alu(insn, cls == ALU64)
        if cls in (JMP, JMP32):
            return _jmp(insn, index, cls == JMP32)
        return _load_store(insn)
    except _Undecodable:
        return None


# ------------------------------------------------------------ relocations


def _variable_at(section: "DataSectionSpec", offset: int) -> Optional[str]:
    for var in section.variables.values():
        if var.offset <= offset < var.offset + max(var.size, 1):
            return var.name if offset == var.offset else f"{var.name}+{offset - var.offset}"
    return None


def describe_relocation(reloc: Relocation, insn: Insn,
                        data: Optional[Mapping[str, "DataSectionSpec"]] = None) -> Optional[str]:
    """The text of an instruction a relocation applies to, naming its target:
    ``r1 = map[counts] ll``, ``r1 = .bss+8 ll <total_bytes>`` (the variable
    is named when ``data``, the object's data sections, is given),
    ``call pc+5 <subprog>``, ``r2 = func[callback] ll``.  None when the
    relocation does not fit the instruction."""
    if insn.code == 0x18:
        dst = _reg(insn.dst)
        if reloc.kind == "map":
            return f"{dst} = map[{reloc.target}] ll"
        if reloc.kind == "data":
            text = f"{dst} = {reloc.target}+{reloc.offset} ll"
            section = data.get(reloc.target) if data else None
            var = _variable_at(section, reloc.offset) if section is not None else None
            return f"{text} <{var}>" if var else text
        if reloc.kind == "call":
            return f"{dst} = func[{reloc.target}] ll"
        return None
    if reloc.kind == "call" and insn.code == OP_CALL and insn.src == BPF_PSEUDO_CALL:
        return f"call pc{insn.imm:+d} <{reloc.target}>"
    return None


# ------------------------------------------------------------ disassembly


def disassemble(insns: bytes, relocations: Iterable[Relocation] = (),
                data: Optional[Mapping[str, "DataSectionSpec"]] = None) -> list[tuple[int, str]]:
    """(instruction index, text) for every instruction.  An ld_imm64 takes
    two slots and is listed once, at its first.  ``relocations`` (a
    ProgramSpec's) name the maps, globals and functions instructions refer
    to; ``data`` (an ObjectSpec's) adds the names of the globals.  Bytes that
    are not an instruction give ``.insn 0x<bytes>``; trailing bytes short of
    an instruction give ``.insn 0x<bytes> (truncated)``."""
    raw = bytes(insns)
    count = len(raw) // INSN_SIZE
    by_index = {r.insn_index: r for r in relocations}
    out: list[tuple[int, str]] = []
    i = 0
    while i < count:
        insn = decode_insn(raw, i)
        second = decode_insn(raw, i + 1) if i + 1 < count else None
        text: Optional[str] = None
        reloc = by_index.get(i)
        if reloc is not None and (insn.code != 0x18 or second is not None):
            text = describe_relocation(reloc, insn, data)
        if text is None:
            text = format_insn(insn, i, second)
        if text is None:
            text = _raw(raw[i * INSN_SIZE:(i + 1) * INSN_SIZE])
            if insn.code == 0x18 and second is None:
                text += " (ld_imm64 without its second half)"
            out.append((i, text))
            i += 1
            continue
        out.append((i, text))
        i += 2 if insn.code == 0x18 else 1
    if len(raw) % INSN_SIZE:
        out.append((count, f".insn 0x{raw[count * INSN_SIZE:].hex()} (truncated)"))
    return out


# ---------------------------------------------------------------- objdump

_PROG_TYPE_NAMES = {number: name for name, number in abi.PROG_TYPES.items()}


def prog_type_name(prog_type: int) -> str:
    """bpftool's name of a program type (``socket_filter``, ``cgroup_sock``),
    or ``prog_type N`` when pybpfc does not know it."""
    name = _PROG_TYPE_NAMES.get(prog_type)
    if name is None:
        return f"prog_type {prog_type}"
    return name.removeprefix("BPF_PROG_TYPE_").lower()


def _program_lines(prog: "ProgramSpec",
                   data: Optional[Mapping[str, "DataSectionSpec"]]) -> list[str]:
    lines = [f"{prog.name} ({prog.section}, {prog_type_name(prog.prog_type)}):"]
    labels = {r.offset: r.target for r in prog.relocations
              if r.kind == "call" and r.offset != 0}
    infos = sorted(prog.line_info, key=lambda li: li.insn)
    width = len(str(max(prog.insn_count - 1, 0)))
    shown: Optional[tuple[str, int]] = None
    next_info = 0
    for index, text in disassemble(prog.instructions, prog.relocations, data):
        if index in labels:
            lines.append("")
            lines.append(f"<{labels[index]}>:")
            shown = None
        while next_info < len(infos) and infos[next_info].insn <= index:
            info = infos[next_info]
            next_info += 1
            where = (info.file_name, info.line_number)
            if where != shown:
                shown = where
                source = info.line.rstrip("\r\n") if info.line_number else "(no source line)"
                lines.append(f"; {source}  [{os.path.basename(info.file_name)}:"
                             f"{info.line_number}:{info.column}]")
        lines.append(f"{index:>{width}}: {text}")
    return lines


def objdump(spec: "ObjectSpec") -> str:
    """Every program of an object: a header ``name (section, prog type):``,
    then its instructions, each source line (``; text  [file:line:col]``)
    before the first instruction generated from it, and ``<name>:`` where an
    appended subprogram starts.  Programs are separated by a blank line."""
    blocks = ["\n".join(_program_lines(prog, spec.data)) for prog in spec.programs.values()]
    return "\n\n".join(blocks) + ("\n" if blocks else "")
