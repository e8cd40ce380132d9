"""Programs for fuzzing the compiler.

- ``valid_program``: a program built from the language's grammar and typing
  rules (docs/language.md), one hook from ``pybpfc.abi`` with the context
  fields it may read and write, globals, structs, lists, bytearrays, loops,
  helpers, kernel helper calls.  Each should compile, and the kernel should
  accept the object.
- ``nearly_valid_program``: a valid program with one small fault.
- ``mutated_example``: a program of ``examples/`` with tokens deleted,
  duplicated, swapped, or replaced by numbers and names.

The valid programs are written by ``program_writer.py`` (statements,
functions, the module) over ``program_expressions.py``, in the words of
``program_vocabulary.py``; the broken ones by ``broken_programs.py``.
"""
from __future__ import annotations

from .broken_programs import mutated_example, nearly_valid_program
from .program_vocabulary import EXAMPLES, REPO_ROOT
from .program_writer import ProgramWriter, valid_program, valid_program_of

__all__ = ["GENERATORS", "EXAMPLES", "REPO_ROOT", "ProgramWriter", "mutated_example",
           "nearly_valid_program", "valid_program", "valid_program_of"]

GENERATORS = {"valid": valid_program, "nearly_valid": nearly_valid_program,
              "mutated_example": mutated_example}
