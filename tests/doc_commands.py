"""Commands shown in the docs, with their output, run as a reader runs them.

A page shows a terminal session as a fenced ``console`` block: a line that
starts with ``$ `` is a command (a trailing ``\\`` continues it on the next
line), the lines after it are what it prints.  In the output shown,

- a line ``...`` stands for any number of lines, and ``...`` inside a line
  for any text: what changes from one run or machine to the next;
- ids, pids and instruction counts, the names ``pybpfc run`` gives its
  cgroups, the place cgroup v2 is mounted and the pid, CPU and time at the
  start of a trace line may differ (``normalize``); blank lines and the
  order of a map's entries do not count.

Words after ``console`` in the fence are conditions: ``when-tracefs-missing``
marks a block that mounts or unmounts tracefs, run only when nothing was
mounted at /sys/kernel/tracing before the page's commands began.

A page's commands run in one bash, from the repository's root, in a
pseudo-terminal (so programs buffer their output as they do for a reader).
"""
from __future__ import annotations

import os
import re
import secrets
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support import REPO_ROOT

FENCE = re.compile(r"^```console\b(.*)$")
PROMPT = "$ "
CONDITIONS = ("when-tracefs-missing",)


@dataclass(frozen=True)
class Command:
    text: str
    expected: str       # the output shown, one line each, no final newline
    line: int           # of the command in the page, from 1


@dataclass(frozen=True)
class Block:
    page: Path
    line: int           # of the opening fence, from 1
    conditions: tuple[str, ...]
    commands: tuple[Command, ...]


def console_blocks(page: Path) -> list[Block]:
    lines = page.read_text().splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        start = i
        conditions = tuple(fence.group(1).split())
        unknown = [c for c in conditions if c not in CONDITIONS]
        assert not unknown, f"{page}:{start + 1}: unknown condition {unknown}"
        body = []
        i += 1
        while i < len(lines) and lines[i] != "```":
            body.append((i + 1, lines[i]))
            i += 1
        assert i < len(lines), f"{page}:{start + 1}: unclosed console block"
        blocks.append(Block(page, start + 1, conditions, _commands(page, body)))
        i += 1
    return blocks


def _commands(page: Path, body: list[tuple[int, str]]) -> tuple[Command, ...]:
    commands: list[Command] = []
    text: list[str] = []
    output: list[str] = []
    line = 0
    for number, content in body:
        if content.startswith(PROMPT) and not (text and text[-1].endswith("\\")):
            if text:
                commands.append(Command("\n".join(text), "\n".join(output), line))
            text, output, line = [content[len(PROMPT):]], [], number
        elif text and text[-1].endswith("\\") and not output:
            text.append(content)
        else:
            assert text, f"{page}:{number}: output before the first command"
            output.append(content)
    if text:
        commands.append(Command("\n".join(text), "\n".join(output), line))
    assert commands, f"{page}: an empty console block"
    return tuple(commands)


# ------------------------------------------------------------- comparing

CGROUP_NAME = re.compile(r"\bpybpfc-\d+-[0-9a-f]{8}\b")
# pybpfc run's cgroups name their owner: its pid and start time.
RUN_CGROUP_NAME = re.compile(r"\bpybpfc-run-\d+-\d+-[0-9a-f]{8}\b")
VOLATILE = [
    (RUN_CGROUP_NAME, "pybpfc-run-PID-START-XXXXXXXX"),
    (CGROUP_NAME, "pybpfc-PID-XXXXXXXX"),
    (re.compile(r"\bid \d+"), "id N"),
    (re.compile(r"\b\d+ instructions verified"), "N instructions verified"),
    (re.compile(r"verifier log, \d+ lines"), "verifier log, N lines"),
    # A trace line: the task's name and pid, its CPU, flags and a time stamp.
    (re.compile(r"^\s*(\S+)-\d+\s+\[\d+\]\s+\S+\s+\d+\.\d+:", re.M), r"\1-PID [CPU] TIME:"),
]
SHOWN_CGROUP_ROOT = "/sys/fs/cgroup"


def normalize(text: str, cgroup_root: Path | None = None) -> str:
    """What is left to compare of a command's output.  ``cgroup_root``,
    for the output of a real run, is this machine's cgroup v2 mount, which
    the docs show as /sys/fs/cgroup."""
    text = text.replace("\r\n", "\n")
    if cgroup_root is not None and str(cgroup_root) != SHOWN_CGROUP_ROOT:
        text = text.replace(str(cgroup_root), SHOWN_CGROUP_ROOT)
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    lines = [line.rstrip() for line in text.split("\n") if line.strip()]
    return "\n".join(_sort_map_entries(lines))


def _sort_map_entries(lines: list[str]) -> list[str]:
    """A hash map lists its entries in an order of its own: sort the
    entry lines (indented by two spaces) under each ``map NAME (...)``."""
    result: list[str] = []
    i = 0
    while i < len(lines):
        result.append(lines[i])
        i += 1
        if result[-1].startswith("map ") and result[-1].endswith("entries)"):
            entries = []
            while i < len(lines) and re.match(r"  \S", lines[i]):
                entries.append(lines[i])
                i += 1
            result.extend(sorted(entries))
    return result


def matches(expected: str, actual: str) -> bool:
    """Whether the (normalized) output shown matches the actual output,
    ``...`` standing for any lines, or any text within a line."""
    parts = []
    for line in expected.split("\n") if expected else []:
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*".join(map(re.escape, line.split("..."))) + r"\n")
    return re.fullmatch("".join(parts), actual + "\n" if actual else "") is not None


# ---------------------------------------------------------------- running


def activated_environment() -> dict[str, str]:
    """The environment after ``. .venv/bin/activate``: the virtual
    environment the tests run in comes first on PATH."""
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "pybpfc").exists(), \
        f"no pybpfc command next to {sys.executable}: run the tests from the venv (make venv)"
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = sys.prefix
    env["TERM"] = "dumb"
    # What `make test` passes down to the tests is not in a reader's shell
    # (with it, a `make` in a page would print "Entering directory").
    for name in ("PYTHONHOME", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(name, None)
    return env


def run_session(commands: list[str], env: dict[str, str], cwd: Path = REPO_ROOT,
                timeout: float = 300) -> list[str]:
    """Run ``commands`` one after the other in one bash, as a reader types
    them into one terminal (what one sets, such as an activated virtual
    environment, holds for the next); return what each printed.

    The terminal is a pseudo-terminal, standard input, output and error of
    every command."""
    marker = f"@@end-of-command-{secrets.token_hex(8)}@@"
    script = "".join(f"{command}\nprintf '\\n%s\\n' '{marker}'\n" for command in commands)
    output = _run_in_terminal(script, env, cwd, timeout)
    parts = output.replace("\r\n", "\n").split(f"\n{marker}\n")
    assert len(parts) == len(commands) + 1 and not parts[-1].strip(), \
        f"the commands did not all finish:\n{output}"
    return parts[:-1]


def _run_in_terminal(script: str, env: dict[str, str], cwd: Path, timeout: float) -> str:
    controller, terminal = os.openpty()
    try:
        process = subprocess.Popen(["bash", "-c", script], stdin=terminal, stdout=terminal,
                                   stderr=terminal, cwd=cwd, env=env, start_new_session=True)
    finally:
        os.close(terminal)
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the commands ran for more than {timeout} s:\n"
                                     f"{output.decode(errors='replace')}")
            ready, _, _ = select.select([controller], [], [], left)
            if not ready:
                continue
            try:
                data = os.read(controller, 65536)
            except OSError:     # EIO: every process holding the terminal has ended
                break
            if not data:
                break
            output += data
        process.wait(timeout=max(1.0, deadline - time.monotonic()))
    except BaseException:
        # The session this call started: bash and whatever it ran.
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        raise
    finally:
        os.close(controller)
    return output.decode(errors="replace")
