"""Compiling one fuzz input in-process and judging the outcome.

An input either compiles, or gets a CompileError rendered as
``fuzz.py:LINE:COL: error: ...`` (or ``fuzz.py: error: ...`` for an error
about the whole program).  Anything else is an internal error: the
compiler's own InternalError (a bug it caught, at the node it was working
on), another exception, a rendering without the form, or a crash of the
process.
"""
from __future__ import annotations

import re
import traceback
from typing import NamedTuple, Optional

from pybpfc.compiler.driver import compile_source
from pybpfc.compiler.errors import CompileError, InternalError, Source

PATH = "fuzz.py"
RENDERED = re.compile(rf"^{re.escape(PATH)}(:(?P<line>\d+):(?P<col>\d+))?: error: \S")

# Compiler bugs this fuzzing found (fuzz/FINDINGS.md), matched by what the
# crash says, so a run reports them apart from new ones; an entry goes once
# its bug is fixed (each fixed one has a test in tests/regressions/ or
# tests/bad/).
KNOWN_FINDINGS: dict[str, str] = {}   # F1, F7 and F9 are fixed

OK, COMPILE_ERROR, INTERNAL = "ok", "compile error", "internal error"


class Outcome(NamedTuple):
    kind: str
    detail: str = ""
    elf: Optional[bytes] = None


def compile_text(text: str, keep_object: bool = False) -> Outcome:
    try:
        compiled = compile_source(Source(PATH, text))
    except CompileError as err:
        rendered = err.render()
        problem = rendering_problem(text, rendered)
        if problem:
            return Outcome(INTERNAL, f"{problem}: {rendered!r}")
        return Outcome(COMPILE_ERROR, rendered.splitlines()[0])
    except InternalError as err:
        cause = err.__cause__ if err.__cause__ is not None else err
        return Outcome(INTERNAL, f"{err}\n" + "".join(
            traceback.format_exception(cause, limit=-4)))
    except RecursionError:
        # Deeply nested input is the user's to fix, but must be a clean error.
        return Outcome(INTERNAL, "RecursionError escaped the compiler")
    except Exception:
        return Outcome(INTERNAL, traceback.format_exc(limit=-4))
    return Outcome(OK, "", compiled.elf if keep_object else None)


def rendering_problem(text: str, rendered: str) -> str:
    """Why ``rendered`` is not a proper located error for ``text``, or ""."""
    match = RENDERED.match(rendered)
    if match is None:
        return "the error does not start with 'fuzz.py[:line:col]: error: message'"
    if match["line"] is not None:
        line, col = int(match["line"]), int(match["col"])
        lines = text.split("\n")
        if not 1 <= line <= len(lines) + 1 or col < 1:
            return f"the error's position {line}:{col} is outside the program"
    return ""


def known_finding(detail: str) -> Optional[str]:
    for signature, finding in KNOWN_FINDINGS.items():
        if signature in detail:
            return finding
    return None


# Verifier complaints about valid programs already recorded in
# fuzz/FINDINGS.md, matched by the verifier's words.
KNOWN_REJECTIONS: dict[str, str] = {   # F2-F6, F8 and F10-F12 are fixed
    "same insn cannot be used with different pointers":
        "F13: one load of a socket or context field and another value",
}
# The verifier's own limits: a program too complex to verify is refused at
# load time by design (docs/language.md, loops), not a compiler bug.
VERIFIER_LIMITS = ("too complex", "BPF program is too large", "infinite loop detected")

LOADED, KNOWN_REJECTION, VERIFIER_LIMIT, REJECTED = (
    "loaded", "known rejection", "verifier limit", "rejected")


def load_compiled(elf: bytes) -> Outcome:
    """Load every program of a compiled object into the kernel, then close it."""
    from pybpfc.runtime.collection import load
    from pybpfc.runtime.errors import BpfError, VerifierError
    try:
        with load(elf):
            pass
    except VerifierError as err:
        complaint = err.log_summary() if not err.log.strip() else str(err)
        for words, finding in KNOWN_REJECTIONS.items():
            if words in complaint:
                return Outcome(KNOWN_REJECTION, finding)
        if any(words in err.log for words in VERIFIER_LIMITS):
            return Outcome(VERIFIER_LIMIT, complaint)
        return Outcome(REJECTED, str(err))
    except BpfError as err:
        return Outcome(REJECTED, str(err))
    return Outcome(LOADED)


def compile_generated(item: tuple[str, int]) -> tuple[str, str]:
    """(kind, detail) of compiling the program ``GENERATORS[name]`` makes
    from ``seed``; ``item`` is (name, seed)."""
    from .choose import RandomChooser
    from .programs import GENERATORS
    name, seed = item
    outcome = compile_text(GENERATORS[name](RandomChooser(seed)))
    return outcome.kind, outcome.detail


def load_generated(seed: int) -> tuple[str, str]:
    """(kind, detail) of compiling the valid program of ``seed`` and, if it
    compiles, loading it into the kernel."""
    from .choose import RandomChooser
    from .programs import valid_program
    outcome = compile_text(valid_program(RandomChooser(seed)), keep_object=True)
    if outcome.kind != OK or outcome.elf is None:
        return outcome.kind, outcome.detail
    loaded = load_compiled(outcome.elf)
    return loaded.kind, loaded.detail
