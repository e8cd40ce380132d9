"""LLVM IR text to a BPF ELF object, in process: verify, optimise at O2,
emit.  The target is little-endian BPF, CPU version 3 (32-bit subregisters
and jumps; Linux 5.1 and later)."""
from __future__ import annotations

import functools

import llvmlite.binding as llvm

BPF_CPU = "v3"


@functools.cache
def _target_machine() -> llvm.TargetMachine:
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    target = llvm.Target.from_triple("bpfel")
    return target.create_target_machine(cpu=BPF_CPU, opt=2, reloc="static",
                                        codemodel="default")


def emit_object(ir_text: str) -> bytes:
    tm = _target_machine()
    module = llvm.parse_assembly(ir_text)
    module.verify()
    pto = llvm.create_pipeline_tuning_options(speed_level=2)
    builder = llvm.create_pass_builder(tm, pto)
    builder.getModulePassManager().run(module, builder)
    return tm.emit_object(module)
