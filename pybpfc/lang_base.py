"""The integer types and the @struct decorator, which :mod:`pybpfc.lang`
exports and :mod:`pybpfc.lang_packets` builds its headers with."""
from __future__ import annotations

from typing import Callable, TypeVar

# Fixed-width integer types.  To Python and to type checkers they are int;
# the compiler gives each its width and signedness.
u8 = int
u16 = int
u32 = int
u64 = int
i8 = int
i16 = int
i32 = int
i64 = int

C = TypeVar("C", bound=type)


def struct(cls: C) -> C:
    """Mark a class as a C-like struct: its annotated fields, in order."""
    setattr(cls, "__pybpfc_struct__", True)
    return cls


def _map_only_in_a_hook(kind: str) -> RuntimeError:
    return RuntimeError(f"a {kind} is read from Python through pybpfc.runtime; its methods "
                        "run only inside a compiled hook")
