"""Lowering: the checked program to LLVM IR for the BPF target.

Lowering reads what the checker recorded (types, constants, and what each
call and access is: :mod:`..contract`) and the frame plan
(:mod:`..frame`); it decides nothing about the program's meaning itself.
Its state and dispatch are in :mod:`.state`; the topic modules register
how to lower each record or node type:

- :mod:`.module` the license, globals, maps and functions;
- :mod:`.statements` statements and assignments, :mod:`.expressions`
  operators;
- :mod:`.calls` helpers, map methods, the program's functions, builtins;
- :mod:`.memory` variables, fields, elements, comparisons of bytes;
- :mod:`.context` the context, the socket, the option buffer, packets.

The topic modules import one another in one direction (state, then
context, memory and expressions, then calls, then statements and module).
"""
from __future__ import annotations

import llvmlite.ir as ir

from ..frame import Frame
from ..symbols import CheckedProgram
# Imported for what they register.
from . import calls, context, expressions, kstructs, memory, packet, statements  # noqa: F401
from .module import lower_module
from .state import PHASE, Lowering

BPF_TRIPLE = "bpfel"
BPF_DATA_LAYOUT = "e-m:e-p:64:64-i64:64-i128:128-n32:64-S128"

__all__ = ["lower", "PHASE"]


def lower(program: CheckedProgram, frames: dict[int, Frame]) -> ir.Module:
    # A context of its own: the kernel structs' LLVM types are named ones.
    module = ir.Module(name=program.source.path, context=ir.Context())
    module.triple = BPF_TRIPLE
    module.data_layout = BPF_DATA_LAYOUT
    return lower_module(Lowering(program, frames, module))
