"""Run a hook without a kernel: pybpfc's reference semantics as an
interpreter over the checked program (docs/simulate.md).

    from pybpfc.simulate import load_program
    prog = load_program("examples/deny_ttl.py")
    result = prog.deny_ttl(level=0, optname=2)
    assert result.verdict_name == "REJECT"
"""
from __future__ import annotations

from .context import SimulationError
from .helpers import Fakes
from .program import Hook, Program, Result, load_program

__all__ = ["load_program", "Program", "Hook", "Result", "Fakes", "SimulationError"]
