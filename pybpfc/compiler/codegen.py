"""LLVM IR text to a BPF ELF object, in process: verify, optimise at O2,
lay out the blocks, emit.  The target is little-endian BPF, CPU version 3
(32-bit subregisters and jumps; Linux 5.1 and later)."""
from __future__ import annotations

import functools
import re
import struct
from typing import Callable

import llvmlite.binding as llvm

from .errors import InternalError

BPF_CPU = "v3"


# SimplifyCFG turns a two-way branch whose arms only compute values into
# selects, and speculates a context read to do so; BPF has no select
# instruction, so each becomes a move and a jump again, usually more
# instructions than the branch (`return a != X or b != 0` came out 3
# instructions longer).
# Tail merging makes two blocks that end in the same instructions share
# one copy; a store `*(u32 *)(r1 + 0) = r2` to a context field in one
# branch and to a global in the other became one instruction reached with
# two kinds of pointer, which the verifier refuses ("same insn cannot be
# used with different pointers").
# The BPF backend reports a frame over its stack limit (512 bytes by default)
# as an error that ends the process; frame planning refuses a hook whose
# planned slots do not fit, and stack_depths() measures what was emitted,
# so LLVM is given a limit it never reaches.
# These are process-wide LLVM options.
_LLVM_OPTIONS = ("-two-entry-phi-node-folding-threshold=0", "-phi-node-folding-threshold=0",
                 "-speculate-one-expensive-inst=false", "-enable-tail-merge=false",
                 "-bpf-stack-size=2147483647")


@functools.cache
def _target_machine() -> llvm.TargetMachine:
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    for option in _LLVM_OPTIONS:
        llvm.set_option("pybpfc", option)
    target = llvm.Target.from_triple("bpfel")
    return target.create_target_machine(cpu=BPF_CPU, opt=2, reloc="static",
                                        codemodel="default")


PHASE = "code generation"


def emit_object(ir_text: str) -> bytes:
    """The object for lowering's IR.  IR that LLVM refuses is a bug in
    pybpfc: an InternalError, as is any other failure here."""
    try:
        tm = _target_machine()
        module = llvm.parse_assembly(ir_text)
        module.verify()
        pto = llvm.create_pipeline_tuning_options(speed_level=2)
        builder = llvm.create_pass_builder(tm, pto)
        builder.getModulePassManager().run(module, builder)
        masked = _mask_verdicts(module, _verdict_tops(ir_text))
        if masked is not None:
            module = masked
        laid_out = _lay_out_blocks(module)
        if laid_out is not None:
            module = laid_out
        return tm.emit_object(module)
    except Exception as err:
        raise InternalError(PHASE, err) from err


# --------------------------------------------------------- verdict masks
#
# A hook's verdict must be one of its table's values (0 .. top) where the
# verifier sees the exit.  LLVM may compute a returned value with
# arithmetic it knows stays in range and the verifier cannot follow
# (`(v >> 15) & 1` became `v >> 15` for a v it knew was 16-bit).  Lowering
# names the hooks that return computed verdicts in this named metadata
# (`!{!"hook", i32 top}`); once LLVM has optimised, a return of a constant
# or of a phi of constants in range (a constant on each path, as the
# verifier sees it) is left alone, and any other is masked to ``top`` on a
# copy LLVM's back end cannot see through.  Masking before optimising
# would keep LLVM from returning a constant on each path.

VERDICT_METADATA = "pybpfc.verdict"
_VERDICT_ENTRY = re.compile(r'^(!\d+) = !\{\s*!"([^"]*)", i32 (\d+)\s*\}')
_RETURN = re.compile(r'^(\s*)ret i32 (%[-\w.$]+|%"[^"]*")(.*)$')
_PHI = re.compile(r'^\s*(%[-\w.$]+|%"[^"]*") = phi i32 (.*?)(?:, !dbg !\d+)?$')
_PHI_INCOMING = re.compile(r'\[\s*([^,\]]+),')


def _verdict_tops(ir_text: str) -> dict[str, int]:
    """The hooks lowering asked to have their verdicts masked, by name."""
    nodes: dict[str, tuple[str, int]] = {}
    named: list[str] = []
    for line in ir_text.splitlines():
        if line.startswith(f"!{VERDICT_METADATA} = "):
            named += re.findall(r"!\d+", line.split("=", 1)[1])
        else:
            match = _VERDICT_ENTRY.match(line)
            if match:
                nodes[match.group(1)] = (match.group(2), int(match.group(3)))
    return {nodes[ref][0]: nodes[ref][1] for ref in named}


def _constant_on_each_path(value: str, phis: dict[str, str], top: int,
                           seen: frozenset[str] = frozenset()) -> bool:
    if value.lstrip("-").isdigit():
        return 0 <= int(value) <= top
    incoming = phis.get(value)
    if incoming is None or value in seen:
        return False
    return all(_constant_on_each_path(v.strip(), phis, top, seen | {value})
               for v in _PHI_INCOMING.findall(incoming))


def _mask_returns(body: list[str], top: int) -> list[str]:
    phis = {}
    for line in body:
        match = _PHI.match(line)
        if match:
            phis[match.group(1)] = match.group(2)
    out = []
    for line in body:
        match = _RETURN.match(line)
        if match is None or _constant_on_each_path(match.group(2), phis, top):
            out.append(line)
            continue
        indent, value, rest = match.groups()
        n = len(out)
        out += [f'{indent}%verdict$copy{n} = call i32 asm sideeffect "", "=r,0"(i32 {value})',
                f"{indent}%verdict$masked{n} = and i32 %verdict$copy{n}, {top}",
                f"{indent}ret i32 %verdict$masked{n}{rest}"]
    return out


def _mask_verdicts(module: llvm.ModuleRef, tops: dict[str, int]) -> "llvm.ModuleRef | None":
    """The module with the computed verdicts of the hooks in ``tops``
    masked; None when none needs it."""
    def mask(function: list[str]) -> list[str]:
        name = _DEFINED.match(function[0])
        hook = name.group(1).strip('"') if name else None
        return function[:1] + _mask_returns(function[1:], tops[hook]) if hook in tops \
            else function
    return _rewrite_functions(module, mask) if tops else None


def _rewrite_functions(module: llvm.ModuleRef,
                       rewrite: Callable[[list[str]], list[str]]) -> "llvm.ModuleRef | None":
    """The module with each function's text (its ``define`` line and the
    lines up to its ``}``) replaced by ``rewrite(text)``; None when no
    function changed."""
    out: list[str] = []
    changed = False
    function: "list[str] | None" = None    # the define line, then the body
    for line in str(module).splitlines():
        if function is None:
            if line.startswith("define ") and line.rstrip().endswith("{"):
                function = [line]
            else:
                out.append(line)
        elif line == "}":
            new = rewrite(function)
            changed |= new != function
            out.extend(new)
            out.append(line)
            function = None
        else:
            function.append(line)
    if not changed:
        return None
    result = llvm.parse_assembly("\n".join(out) + "\n")
    result.verify()
    return result


_DEFINED = re.compile(r'^define [^@]*@("[^"]*"|[-\w.$]+)\(.*\{\s*$')


# ------------------------------------------------------------ block layout
#
# Instruction selection turns `br i1 %c, label %then, label %else` into one
# conditional jump when %then or %else is the next block in the function
# (it inverts the condition to fall through to %then), and into a jump plus
# a `goto` otherwise; the BPF backend cannot invert a condition later, when
# it moves blocks.  The optimiser leaves blocks in whatever order its
# transformations produced, so they are put in reverse post-order, the
# first successor first: each block follows one of its predecessors where
# it can, as in the source.

_LABEL = re.compile(r'^([-\w.$]+|"[^"]*"):')
_SUCCESSOR = re.compile(r'label %([-\w.$]+|"[^"]*")')
# An unnamed value, argument or block, which LLVM prints as %N (and a
# block's label as N:), numbered in order of appearance in its function;
# or a string (c"..." or a quoted name), in which nothing is a value.
# (Unnamed struct types print as %N too, but lowering makes none.)
_UNNAMED_VALUE_OR_STRING = re.compile(r'("[^"]*")|%(\d+)(?![-\w.$])')
_UNNAMED_LABEL = re.compile(r'^(\d+):')


def _named(number: str) -> str:
    """The name of the unnamed value ``number`` once its block moves: '$'
    is in no Python identifier and in no name llvmlite or LLVM's passes give."""
    return f"unnamed${number}"


def _name_unnamed(lines: list[str]) -> list[str]:
    """A function's text with its unnamed values named, so that its blocks
    can move: unnamed ones must keep their numbers in order in the text."""
    def value(match: "re.Match[str]") -> str:
        return match.group(1) or "%" + _named(match.group(2))
    return [_UNNAMED_VALUE_OR_STRING.sub(value, _UNNAMED_LABEL.sub(
                lambda label: _named(label.group(1)) + ":", line))
            for line in lines]


def _reverse_post_order(blocks: dict[str, list[str]], entry: str) -> list[str]:
    order: list[str] = []
    seen = {entry}
    stack = [(entry, iter(reversed(blocks[entry])))]
    while stack:
        name, successors = stack[-1]
        for succ in successors:
            if succ in blocks and succ not in seen:
                seen.add(succ)
                stack.append((succ, iter(reversed(blocks[succ]))))
                break
        else:
            stack.pop()
            order.append(name)
    order.reverse()
    # Unreachable blocks keep their place at the end.
    return order + [b for b in blocks if b not in seen]


def _lay_out_function(lines: list[str]) -> list[str]:
    """``lines``: a function's body between ``{`` and ``}``.  An entry block
    without a label (LLVM prints none for an unnamed one) gets one."""
    names: list[str] = []
    bodies: dict[str, list[str]] = {}
    for line in lines:
        match = _LABEL.match(line)
        if match:
            names.append(match.group(1))
            bodies[names[-1]] = [line]
        elif not names:
            if line.strip():
                # No block branches to the entry, so any unused name will do.
                names.append("unnamed$entry")
                bodies[names[-1]] = [names[-1] + ":", line]
        else:
            bodies[names[-1]].append(line)
    if len(names) < 3:
        return lines
    successors = {name: _SUCCESSOR.findall(" ".join(bodies[name])) for name in names}
    order = _reverse_post_order(successors, names[0])
    if order == names:
        return lines
    return [line for name in order for line in bodies[name]]


def _lay_out_blocks(module: llvm.ModuleRef) -> "llvm.ModuleRef | None":
    """The module with its blocks in reverse post-order; None when they
    are in that order already, or when its text is not in the shape this
    expects (the order is then left as is)."""
    def lay_out(function: list[str]) -> list[str]:
        body = function[1:]
        laid_out = _lay_out_function(body)
        return function if laid_out == body else _name_unnamed(function[:1] + laid_out)
    try:
        return _rewrite_functions(module, lay_out)
    except (RuntimeError, ValueError):
        return None


# ------------------------------------------------------------- stack depth
#
# What each function of an emitted object uses of the stack: the lowest
# offset from the frame pointer r10 its instructions reach, directly
# (`*(u64 *)(r10 - 8) = r1`) or through a register set from r10
# (`r2 = r10; r2 += -24`, then accesses through r2).  This is what the
# verifier counts against the program's 512 bytes.

_SHF_EXECINSTR = 0x4
_SHT_SYMTAB = 2
_STT_FUNC = 2
_FRAME_POINTER = 10
_CLASS_LDX, _CLASS_ST, _CLASS_STX, _CLASS_JMP, _CLASS_JMP32 = 1, 2, 3, 5, 6
_MOV64_REG, _ADD64_IMM, _LD_IMM64 = 0xBF, 0x07, 0x18


def stack_depths(elf: bytes) -> dict[str, int]:
    """Bytes of stack each function symbol of a little-endian ELF64 BPF
    object uses."""
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize)
                for i in range(shnum)]
    depths: dict[str, int] = {}
    for _name, kind, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
        if kind != _SHT_SYMTAB:
            continue
        strings = sections[link][4]
        for at in range(offset, offset + size, entsize or 24):
            name_at, info, _other, shndx, value, fsize = struct.unpack_from("<IBBHQQ", elf, at)
            if info & 0xF != _STT_FUNC or not 0 < shndx < shnum:
                continue
            code_section = sections[shndx]
            if not code_section[2] & _SHF_EXECINSTR:
                continue
            name = elf[strings + name_at:elf.index(b"\0", strings + name_at)].decode()
            start = code_section[4] + value
            depths[name] = _depth(elf[start:start + fsize])
    return depths


def _depth(code: bytes) -> int:
    deepest = 0
    frame_offset: dict[int, int] = {}     # register -> its value's offset from r10
    at = 0
    while at + 8 <= len(code):
        op, regs, off, imm = struct.unpack_from("<BBhi", code, at)
        dst, src = regs & 0xF, regs >> 4
        at += 16 if op == _LD_IMM64 else 8
        kind = op & 7
        if kind in (_CLASS_LDX, _CLASS_ST, _CLASS_STX):
            base = src if kind == _CLASS_LDX else dst
            if base == _FRAME_POINTER:
                deepest = max(deepest, -off)
            elif base in frame_offset:
                deepest = max(deepest, -(frame_offset[base] + off))
            if kind == _CLASS_LDX:
                frame_offset.pop(dst, None)
        elif op == _MOV64_REG and src == _FRAME_POINTER:
            frame_offset[dst] = 0
        elif op == _ADD64_IMM and dst in frame_offset:
            frame_offset[dst] += imm
            deepest = max(deepest, -frame_offset[dst])
        elif kind in (_CLASS_JMP, _CLASS_JMP32):
            frame_offset.clear()     # a call clobbers, a jump joins other paths
        else:
            frame_offset.pop(dst, None)
    return deepest
