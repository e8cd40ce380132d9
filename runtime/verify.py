"""Asking the kernel's verifier about every program of an object, attaching
nothing: ``pybpfc check --load`` and the HTML view of ``objdump``.

Each program is loaded on its own, so one refusal does not hide what the
verifier says about the others; everything is closed before ``verify``
returns.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Union

from . import bpf
from .collection import load_program, prepare
from .errors import VerifierError
from .spec import ObjectSpec, ProgramSpec

__all__ = ["Verdict", "verify"]


@dataclass(frozen=True)
class Verdict:
    """What the verifier said about one program: its log, and either how
    many instructions it verified or the refusal."""
    program: ProgramSpec
    log: str
    verified_insns: Optional[int] = None
    error: Optional[VerifierError] = None
    log_level: int = bpf.LOG_LEVEL_BASIC

    @property
    def accepted(self) -> bool:
        return self.error is None


def verify(source: Union[ObjectSpec, str, "os.PathLike[str]", bytes], *,
           states: bool = False) -> list[Verdict]:
    """Every program's verdict, in the object's order.  With ``states``, an
    accepted program is loaded a second time at log level 2, so its log
    holds the verifier's state at every instruction of every path; a
    refused one keeps its level-1 log, the path that failed with the state
    along it (level 2 would bury that path among the others)."""
    verdicts = []
    with prepare(source) as coll:
        for spec in coll.spec.programs.values():
            try:
                program = load_program(coll, spec)
            except VerifierError as refused:
                verdicts.append(Verdict(spec, refused.log, error=refused))
                continue
            with program:
                verified = program.info().verified_insns
                log, level = program.verifier_log, bpf.LOG_LEVEL_BASIC
            if states:
                with load_program(coll, spec, bpf.LOG_LEVEL_VERBOSE) as again:
                    log, level = again.verifier_log, bpf.LOG_LEVEL_VERBOSE
            verdicts.append(Verdict(spec, log, verified, log_level=level))
    return verdicts
