"""The text of docs/performance.md: Markdown tables, the machine's
description, and the summary arithmetic the sections share."""
from __future__ import annotations

import datetime
import math
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from . import harness


class Report:
    """Lines printed as they come (stdout gets exactly the report) and kept
    for the file."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, *lines: str) -> None:
        for line in lines:
            print(line, flush=True)
            self.lines.append(line)

    def write(self, path: Path) -> None:
        path.write_text("\n".join(self.lines) + "\n")


def progress(what: str) -> None:
    # On stderr: the report on stdout is exactly what docs/performance.md gets.
    print(f"  ... {what}", file=sys.stderr, flush=True)


def geomean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _first_line(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True).stdout
    except OSError:
        return "?"
    return out.strip().splitlines()[0] if out.strip() else "?"


def machine(settings: str) -> list[tuple[str, str]]:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    import llvmlite.binding as llvm
    return [
        ("date (UTC)", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")),
        ("kernel", f"{platform.system()} {platform.release()} {platform.machine()}"),
        ("CPU", f"{cpu}, {os.cpu_count()} CPUs"),
        ("load average at start", " ".join(f"{x:.2f}" for x in os.getloadavg())),
        ("clang", _first_line([harness.tool("clang"), "--version"])),
        ("bpftool", _first_line([harness.tool("bpftool"), "version"])),
        ("Python", platform.python_version()),
        ("LLVM in llvmlite", ".".join(map(str, llvm.llvm_version_info))),
        ("settings", settings),
    ]
