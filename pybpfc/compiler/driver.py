"""The compiler's one direction: source -> parse -> check -> lower -> object.

``compile_source`` returns the ELF bytes together with the plan of what the
object was meant to hold, so tests can read the object back and compare.

A mistake in the program is a CompileError at its position; anything else
that goes wrong is a bug in pybpfc, an InternalError naming the phase and,
where there is one, the node it was working on (each phase's dispatch makes
it; the exception it met is its ``__cause__``).
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator, Optional

from ..abi import STACK_SIZE
from ..records import record
from . import ast as A
from .check import check
from .errors import CompileError, CompileWarning, InternalError, Source
from .frame import Frame, plan_frames
from .parser import parse
from .symbols import CheckedProgram
from .types import MapType, map_key_type


@record(frozen=True)
class PlannedProgram:
    name: str
    section: str
    hook: str           # the decorator


@record(frozen=True)
class PlannedGlobal:
    name: str
    section: str
    size: int


@record(frozen=True)
class PlannedMap:
    name: str
    map_type: int
    key_size: int
    value_size: int
    max_entries: int
    map_flags: int


@record(frozen=True)
class ObjectPlan:
    """What the emitted object must contain."""
    programs: tuple[PlannedProgram, ...]
    globals: tuple[PlannedGlobal, ...]
    license: str
    maps: tuple[PlannedMap, ...] = ()


@record(frozen=True)
class CompiledObject:
    elf: bytes
    plan: ObjectPlan
    ir: str
    warnings: tuple[CompileWarning, ...] = ()


def check_source(source: Source, module: Optional[A.Module] = None) -> CheckedProgram:
    """Everything but emitting: parse, check and plan the stack frames,
    raising CompileError (or InternalError for a bug in pybpfc)."""
    return _checked(source, module)[0]


def _checked(source: Source,
             module: Optional[A.Module]) -> tuple[CheckedProgram, dict[int, Frame]]:
    try:
        with recursion_room():
            program = check(source, parse(source) if module is None else module)
            return program, plan_frames(program)
    except (CompileError, InternalError) as err:
        raise err.located(source)


# Python frames the phases' walks may need beyond the caller's: the parser
# bounds nesting (source.MAX_NESTING, and MAX_TREE_DEPTH counting elifs)
# and each level takes a few frames (an operator up to 30, an elif up to 6).
RECURSION_ROOM = 30_000


@contextmanager
def recursion_room() -> Iterator[None]:
    """Python's recursion limit raised, while compiling, to leave the walks
    RECURSION_ROOM frames whatever the caller's depth.  (Calls between
    Python functions take no C stack.)"""
    depth, frame = 0, sys._getframe()
    while frame.f_back is not None:
        depth, frame = depth + 1, frame.f_back
    limit = sys.getrecursionlimit()
    if depth + RECURSION_ROOM > limit:
        sys.setrecursionlimit(depth + RECURSION_ROOM)
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def plan_of(program: CheckedProgram) -> ObjectPlan:
    return ObjectPlan(
        programs=tuple(PlannedProgram(f.name, f.hook.section, f.hook.decorator)
                       for f in program.hooks if f.hook is not None),
        globals=tuple(PlannedGlobal(g.name, g.section, g.ty.size) for g in program.globals),
        license=program.license,
        maps=tuple(_planned_map(m.ty) for m in program.maps),
    )


def _planned_map(ty: MapType) -> PlannedMap:
    key = map_key_type(ty)
    return PlannedMap(ty.name, ty.kind.map_type_id, key.size if key else 0,
                      ty.value.size if ty.value else 0, ty.max_entries, ty.map_flags)


def compile_source(source: Source, module: Optional[A.Module] = None) -> CompiledObject:
    """The object for ``source``; ``module``, when given, is its syntax
    tree (the phases after parsing take any tree, whatever the parser
    would accept)."""
    program, frames = _checked(source, module)
    # The code generator is imported only when an object is emitted, so that
    # `pybpfc check` and the error paths stay quick.
    from . import codegen
    from .lower import PHASE, lower
    try:
        try:
            with recursion_room():
                text = str(lower(program, frames))
        except (CompileError, InternalError):
            raise
        except Exception as err:     # writing out the module lowering made
            raise InternalError(PHASE, err) from err
        elf = codegen.emit_object(text)
        _check_stack_depths(program, frames, codegen.stack_depths(elf))
    except (CompileError, InternalError) as err:
        raise err.located(source)
    return CompiledObject(elf, plan_of(program), text, tuple(program.warnings))


def _check_stack_depths(program: CheckedProgram, frames: dict[int, Frame],
                        depths: dict[str, int]) -> None:
    """Each hook's frame as emitted fits the BPF stack.  Frame planning
    has refused any hook whose own slots do not fit; what LLVM adds (values
    it keeps on the stack while registers run out) is found here."""
    for hook in program.hooks:
        depth = depths.get(hook.name, 0)
        if depth > STACK_SIZE:
            raise CompileError(
                f"hook '{hook.name}' uses {depth} bytes of stack once compiled; BPF allows "
                f"{STACK_SIZE}", hook.node.name_pos,
                note=f"its variables and the values it hands the kernel take "
                     f"{frames[id(hook)].total} bytes; the rest holds values LLVM keeps on "
                     "the stack when registers run out.  Move a large buffer into a map "
                     "(e.g. a PerCpuArrayMap with one entry), or keep fewer values alive "
                     "across helper calls")
