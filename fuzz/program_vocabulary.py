"""The vocabulary of generated programs (fuzz/programs.py): the integer
types and their ranges, the operators, and what a generator knows of a
variable, a struct and the function it is writing."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [p.read_text() for p in sorted((REPO_ROOT / "examples").glob("*.py"))]

RANGES = {
    "u8": (0, (1 << 8) - 1), "u16": (0, (1 << 16) - 1),
    "u32": (0, (1 << 32) - 1), "u64": (0, (1 << 64) - 1),
    "i8": (-(1 << 7), (1 << 7) - 1), "i16": (-(1 << 15), (1 << 15) - 1),
    "i32": (-(1 << 31), (1 << 31) - 1), "i64": (-(1 << 63), (1 << 63) - 1),
}
INT_TYPES = tuple(RANGES)
# What atomic_add works on: 32- and 64-bit integers.
ATOMIC_TYPES = ("u32", "i32", "u64", "i64")
ARITHMETIC = ("+", "-", "*", "//", "%", "&", "|", "^")
COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
AUGMENTED = ("+=", "-=", "*=", "//=", "%=", "&=", "|=", "^=")
CONTEXT_PARAMETER = "ctx"
# Members of the current task_struct a tracing hook reads (through
# get_current_task() or get_current_task_btf()), with pybpfc's type for each.
TASK_READS = (("tgid", "i32"), ("pid", "i32"), ("real_parent.tgid", "i32"),
              ("real_parent.pid", "i32"), ("flags", "u32"), ("prio", "i32"))


@dataclass
class Var:
    name: str
    type: str           # an int type, "bool", "list", "bytearray" or a struct name
    elem: str = ""      # list element type
    length: int = 0     # list / bytearray length
    is_global: bool = False


@dataclass
class Struct:
    name: str
    fields: list[tuple[str, str]]      # (name, int type)


@dataclass
class Function:
    """What an expression may use where it is being generated."""
    in_hook: bool
    locals: list[Var] = field(default_factory=list)
    loop_depth: int = 0
    in_while: bool = False
    loops_left: int = 3     # the verifier walks every iteration of every loop
