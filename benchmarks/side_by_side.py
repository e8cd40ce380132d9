"""``python -m benchmarks.side_by_side [--llvm22] NAME [PROGRAM]``: one
benchmarked program's instructions from both compilers, side by side
(NAME: a row of registry.py, or a Python file with its C twin next to it,
as in benchmarks/findings/):
`pybpfc objdump` of pybpfc's object on the left (with the Python lines),
`llvm-objdump -d -S` of clang's (`-mcpu=v3`) on the right (with the C
lines).  The objects are built afresh under build/bench/side_by_side/.

pybpfc optimises and emits with the LLVM in llvmlite, clang with its own,
an older one.  With --llvm22 the right column is the C twin through
pybpfc's LLVM instead: clang's front end only (`-emit-llvm`, LLVM's passes
off), then pybpfc's optimisation pipeline and BPF back end
(`codegen.emit_object`).  What differs between the two right columns is
LLVM's doing; what differs between pybpfc and the --llvm22 column, the IR
pybpfc gives it.  benchmarks/FINDINGS.md reads its listings from here."""
from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from pybpfc.compiler import codegen
from pybpfc.runtime.disasm import objdump
from pybpfc.runtime.elf import read_object

from tests.support import c_include_flags

from . import harness
from .registry import REPO_ROOT, Twin, by_name

OUT_DIR = REPO_ROOT / "build" / "bench" / "side_by_side"
WIDTH = 78


def pybpfc_listing(obj: str, program: str) -> list[str]:
    """The lines of one program in `pybpfc objdump`'s output."""
    lines, inside = [], False
    for line in objdump(read_object(obj)).splitlines():
        if re.match(r"^\S.*:$", line) or re.match(r"^\S+ \(.*\):$", line):
            inside = line.startswith(f"{program} ")
        if inside:
            lines.append(line)
    return lines


def clang_listing(obj: str, program: str) -> list[str]:
    """The lines of one program in `llvm-objdump -d -S`'s output."""
    out = subprocess.run([harness.tool("llvm-objdump"), "-d", "-S", "--no-show-raw-insn",
                          obj], capture_output=True, text=True, check=True).stdout
    lines, inside = [], False
    for line in out.splitlines():
        if line.startswith("Disassembly of section"):
            inside = False
        elif re.match(rf"^[0-9a-f]+ <{re.escape(program)}>:$", line):
            inside = True
        if inside:
            lines.append(line.replace("\t", "  "))
    return lines


def build_with_llvm22(c_source: Path, out: Path) -> Path:
    """The C twin through clang's front end and pybpfc's LLVM (see above)."""
    ir = subprocess.run([harness.tool("clang"), "-O2", "-g", "-target", "bpf",
                         *harness.CLANG_CPU, *c_include_flags(), "-S", "-emit-llvm", "-Xclang",
                         "-disable-llvm-optzns", str(c_source), "-o", "-"],
                        capture_output=True, text=True, check=True).stdout
    out.write_bytes(codegen.emit_object(ir))
    return out


def file_pair(source: Path) -> Twin:
    """A Python program and the C twin beside it, as a row with no scenario."""
    return Twin(source.stem, (), None, folder=source.resolve().parent,  # type: ignore[arg-type]
                c_dir=source.resolve().parent)


def side_by_side(left: list[str], right: list[str]) -> str:
    return "\n".join(f"{a[:WIDTH]:<{WIDTH}} | {b}".rstrip()
                     for a, b in itertools.zip_longest(left, right, fillvalue=""))


def listings(twin: Twin, out_dir: Path, llvm22: bool = False,
             programs: Sequence[str] = ()) -> str:
    """Both compilers' listings of ``programs`` (default: all of the row's),
    side by side, built under ``out_dir``."""
    built = harness.build_all([twin], out_dir)[0]
    clang = built.objects["clang"]
    if llvm22:
        clang = build_with_llvm22(twin.c_source, out_dir / f"{twin.name}.clang-llvm22.o")
    programs = programs or twin.programs or tuple(read_object(built.objects["pybpfc"]).programs)
    return "\n\n".join(side_by_side(pybpfc_listing(str(built.objects["pybpfc"]), program),
                                    clang_listing(str(clang), program)) for program in programs)


def main(argv: list[str]) -> int:
    llvm22 = argv[:1] == ["--llvm22"]
    argv = argv[1:] if llvm22 else argv
    if not argv or len(argv) > 2:
        print(__doc__, file=sys.stderr)
        return 2
    twin = by_name(argv[0]) if not argv[0].endswith(".py") else file_pair(Path(argv[0]))
    print(listings(twin, OUT_DIR, llvm22, argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
