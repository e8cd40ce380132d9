"""The verifier on the command line: ``--verifier-log FILE`` (``load``,
``run``, ``check --load``), ``pybpfc check --load`` and ``pybpfc objdump
--html``.

A refusal is shown as ``pybpfc.runtime.verifier`` explains it, at the
program's Python line; its last line says where the whole log is, or how
to keep it.  ``cli`` and ``cli_runtime`` call in here; this module imports
neither.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Optional

from pybpfc.cli_errors import EXIT_OK, UserError

if TYPE_CHECKING:
    from pybpfc.runtime.errors import VerifierError
    from pybpfc.runtime.spec import ObjectSpec, ProgramSpec

LOG_OPTION = "--verifier-log"


def add_log_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(LOG_OPTION, metavar="FILE", dest="verifier_log",
                        help="write the kernel verifier's log of every program to FILE "
                             "(the whole log of a refused one)")


# ------------------------------------------------------------------ logs


def _log_lines(log: str) -> int:
    return log.count("\n") + (0 if log.endswith("\n") else 1)


def write_logs(path: Optional[str], logs: Iterable[tuple["ProgramSpec", bool, str]]) -> None:
    """Write each (program, accepted, log) to ``path``, each log after a
    line that names its program and the verdict (a verifier log never has
    a line starting with ``#``).  Nothing when ``path`` is None."""
    if path is None:
        return
    parts = []
    for program, accepted, log in logs:
        verdict = "accepted it" if accepted else "rejected it"
        parts.append(f"# program '{program.name}' ({program.section}): the verifier "
                     f"{verdict}\n{log.rstrip(chr(10))}\n")
    try:
        with open(path, "w", encoding="utf-8") as out:
            out.write("".join(parts))
    except OSError as e:
        raise UserError(f"{path}: error: cannot write the verifier log: "
                        f"{e.strerror or e}") from None


def write_logs_of(path: Optional[str], programs: Iterable[Any]) -> None:
    """The logs of loaded programs (``runtime.program.Program``)."""
    write_logs(path, ((p.spec, True, p.verifier_log) for p in programs))


def _where_the_log_is(log: str, log_file: Optional[str]) -> str:
    lines = _log_lines(log)
    if log_file is not None:
        return f"the full verifier log, {lines} lines, is in {log_file}"
    return f"the full verifier log has {lines} lines; {LOG_OPTION} FILE keeps it"


def refusal(command: str, error: "VerifierError", log_file: Optional[str]) -> UserError:
    """The user error for a refused program: the explanation, then where
    the whole log was written (``--verifier-log``) or how to keep it."""
    if log_file is not None and error.program is not None:
        try:
            write_logs(log_file, [(error.program, False, error.log)])
        except UserError as e:
            return UserError(f"pybpfc {command}: error: "
                             f"{error.describe(f'{e}; it has {_log_lines(error.log)} lines')}")
    return UserError(f"pybpfc {command}: error: "
                     f"{error.describe(_where_the_log_is(error.log, log_file))}")


# --------------------------------------------------------- check --load


def check_load(elf: bytes, name: str, log_file: Optional[str]) -> int:
    """``pybpfc check --load``: the verifier's verdict on each program of
    the object built from ``name``, which is loaded and closed again,
    attached to nothing."""
    from pybpfc.runtime.elf import read_object
    from pybpfc.runtime.errors import BpfError
    from pybpfc.runtime.verify import verify
    try:
        spec = read_object(elf)
        spec.path = name
        verdicts = verify(spec)
    except BpfError as e:
        raise UserError(f"pybpfc check: error: {e}") from e
    write_logs(log_file, ((v.program, v.accepted, v.log) for v in verdicts))
    refused = []
    for verdict in verdicts:
        if verdict.error is None:
            print(f"{verdict.program.name}: {verdict.program.section}: the verifier accepted "
                  f"it, {verdict.verified_insns} instructions verified")
            continue
        where = _where_the_log_is(verdict.log, log_file)
        refused.append(f"pybpfc check: error: {verdict.error.describe(where)}")
    if refused:
        raise UserError("\n".join(refused))
    return EXIT_OK


# -------------------------------------------------------- objdump --html


def objdump_html(spec: "ObjectSpec", load: bool) -> int:
    """``pybpfc objdump --html``: the page on standard output.  With
    ``load``, each program is loaded (attached to nothing) and the page
    shows what the verifier knew at each instruction."""
    from pybpfc.runtime.errors import BpfError
    from pybpfc.runtime.objdump_html import html_page
    from pybpfc.runtime.verify import verify
    try:
        verdicts = verify(spec, states=True) if load else []
    except BpfError as e:
        raise UserError(f"pybpfc objdump: error: {e}") from e
    sys.stdout.write(html_page(spec, verdicts, _sources(spec)))
    return EXIT_OK


def _sources(spec: "ObjectSpec") -> dict[str, list[str]]:
    """The text of each source file the line info names, when it can be
    read here and still has the lines the object was built from."""
    from pybpfc.compiler.source import UnreadableFile, read_bounded
    sources: dict[str, list[str]] = {}
    tried: set[str] = set()
    for program in spec.programs.values():
        for info in program.line_info:
            if info.file_name in tried or not info.line_number:
                continue
            tried.add(info.file_name)
            try:      # a regular file only: a FIFO or a device could block
                text = read_bounded(Path(info.file_name), 1 << 20).decode("utf-8")
            except (UnreadableFile, UnicodeDecodeError, ValueError):
                continue
            sources[info.file_name] = text.splitlines()
    for program in spec.programs.values():
        for info in program.line_info:
            lines = sources.get(info.file_name)
            if lines is not None and info.line_number and (
                    len(lines) < info.line_number or
                    lines[info.line_number - 1].rstrip() != info.line.rstrip()):
                del sources[info.file_name]         # changed since: trust the object
    return sources
